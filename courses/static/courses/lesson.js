// Marks a lesson as done when the learner has reached its end and stayed there a few seconds
// (opening a lesson and leaving at once does not count). Without this script the
// "Mark as done" button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.lesson-done[data-auto-done]");
  if (!form || !("IntersectionObserver" in window)) return;
  const dwellMs = 1000 * Number(form.dataset.dwellSeconds || 5);
  let timer = null;
  let sent = false;

  const markDone = () => {
    if (sent) return;
    sent = true;
    observer.disconnect();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then((response) => {
      if (!response.ok) { sent = false; return; }
      const note = document.createElement("p");
      note.className = "muted";
      note.setAttribute("role", "status");
      note.textContent = form.dataset.doneText || "✓";
      const button = form.querySelector("button");
      if (button) button.remove();
      form.appendChild(note);
    }).catch(() => { sent = false; });
  };

  const observer = new IntersectionObserver((entries) => {
    const visible = entries.some((entry) => entry.isIntersecting);
    if (visible && timer === null) timer = setTimeout(markDone, dwellMs);
    if (!visible && timer !== null) { clearTimeout(timer); timer = null; }
  }, { threshold: 1.0 });
  observer.observe(form);
});
