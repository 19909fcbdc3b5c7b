// Counts down the time left of an attempt. The server enforces the limit; this only informs.
document.addEventListener("DOMContentLoaded", () => {
  const timer = document.querySelector(".timer[data-seconds-left]");
  if (!timer) return;
  let left = Number(timer.dataset.secondsLeft);
  const label = timer.textContent.replace(/\d+.*$/, "");
  const tick = () => {
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    timer.textContent = `${label}${minutes}:${seconds}`;
    if (left === 60) timer.setAttribute("aria-live", "assertive");
    if (left > 0) { left -= 1; setTimeout(tick, 1000); }
  };
  tick();
});
