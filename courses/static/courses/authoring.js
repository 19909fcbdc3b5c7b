/* Authoring pages: progressive enhancement only; every page works without this script.
   - "New course": suggests the web address (slug) from the title.
   - Lesson editor: live preview while typing (debounced, sanitised HTML from the server),
     a warning before leaving with unsaved text, images uploaded without leaving the page
     and inserted into the text at the cursor.
   - Image lists: "Copy" buttons for the Markdown snippets. */
(function () {
  "use strict";

  // --- slug suggestion ---------------------------------------------------------------------
  var BG = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "sht", "ъ": "a", "ь": "y", "ю": "yu", "я": "ya"
  };

  function suggestSlug(title) {
    var text = Array.from(title.toLowerCase()).map(function (ch) {
      return Object.prototype.hasOwnProperty.call(BG, ch) ? BG[ch] : ch;
    }).join("");
    text = text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    return text.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
  }

  function initSlug(form) {
    var title = form.querySelector("#title");
    var slug = form.querySelector("#slug");
    if (!title || !slug) return;
    var touched = slug.value !== "" && slug.value !== suggestSlug(title.value);
    slug.addEventListener("input", function () { touched = slug.value !== ""; });
    title.addEventListener("input", function () {
      if (!touched) slug.value = suggestSlug(title.value);
    });
  }

  // --- helpers -------------------------------------------------------------------------------
  function csrfToken(form) {
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd, value = textarea.value;
    var before = value.slice(0, start), after = value.slice(end);
    // An image reads best as its own paragraph.
    var prefix = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var suffix = after === "" || /^\n\n/.test(after) ? "\n" : (/^\n/.test(after) ? "\n" : "\n\n");
    textarea.value = before + prefix + text + suffix + after;
    var caret = (before + prefix + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function copyText(input, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        input.select();
      });
    } else {
      input.focus();
      input.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  }

  // --- image lists -----------------------------------------------------------------------
  function wireMediaItem(item, textarea) {
    var input = item.querySelector(".snippet");
    var copy = item.querySelector("[data-copy]");
    var insert = item.querySelector("[data-insert]");
    if (copy && input) {
      copy.hidden = false;
      copy.addEventListener("click", function () { copyText(input, copy); });
    }
    if (insert && input && textarea) {
      insert.hidden = false;
      insert.addEventListener("click", function () { insertAtCursor(textarea, input.value); });
    }
    if (input) input.addEventListener("focus", function () { input.select(); });
  }

  function addMediaItem(data, textarea) {
    var list = document.getElementById("media-list");
    var template = document.getElementById("media-item-template");
    if (!list || !template) return;
    var existing = document.getElementById("snippet-" + data.name);
    if (existing) {  // the same name replaced an image: refresh its thumbnail
      var old = existing.closest(".media-item").querySelector("img");
      if (old) old.src = data.url + "?v=" + Date.now();
      return;
    }
    var item = template.content.firstElementChild.cloneNode(true);
    var img = item.querySelector("img");
    var label = item.querySelector("label");
    var input = item.querySelector(".snippet");
    img.src = data.url;
    label.textContent = data.name;
    label.htmlFor = "snippet-" + data.name;
    input.id = "snippet-" + data.name;
    input.value = data.snippet;
    list.appendChild(item);
    var empty = document.getElementById("media-empty");
    if (empty) empty.hidden = true;
    wireMediaItem(item, textarea);
  }

  function initUpload(form, textarea, afterUpload) {
    var status = form.querySelector("[data-upload-status]");
    var error = form.querySelector("[data-upload-error]");
    var file = form.querySelector('input[type="file"]');
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return;  // the normal page POST
      event.preventDefault();
      error.hidden = true;
      status.textContent = form.getAttribute("data-uploading") || "…";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok) throw new Error(result.data.error || result.data.message || "Error");
        addMediaItem(result.data, textarea);
        status.textContent = result.data.name + " ✓";
        file.value = "";
        if (afterUpload) afterUpload();
      }).catch(function (problem) {
        status.textContent = "";
        error.textContent = problem.message;
        error.hidden = false;
        file.setAttribute("aria-invalid", "true");
      });
    });
  }

  // --- lesson editor -----------------------------------------------------------------------
  function initEditor(form) {
    var textarea = form.querySelector("textarea[name=body_md]");
    var preview = document.getElementById("preview");
    var status = document.getElementById("preview-status");
    var url = form.getAttribute("data-preview-url");
    if (!textarea || !preview || !url) return null;
    var timer = null, sequence = 0, shown = 0, dirty = false;

    function refresh() {
      var mine = ++sequence;
      preview.classList.add("preview-stale");
      var body = new URLSearchParams();
      body.set("csrf_token", csrfToken(form));
      body.set("body_md", textarea.value);
      fetch(url, {
        method: "POST",
        body: body,
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (mine < shown) return;  // an older answer arriving late
        shown = mine;
        if (!result.ok) throw new Error(result.data.error || result.data.message || "Error");
        preview.innerHTML = result.data.html;  // sanitised on the server (nh3 allow-list)
        preview.classList.remove("preview-stale");
        status.textContent = status.getAttribute("data-live") || status.textContent;
      }).catch(function (problem) {
        status.textContent = problem.message;
      });
    }

    function schedule() {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(refresh, 350);
    }

    textarea.addEventListener("input", schedule);
    form.querySelectorAll("input").forEach(function (input) {
      input.addEventListener("input", function () { dirty = true; });
    });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    return { textarea: textarea, refresh: refresh };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-suggest-slug]").forEach(initSlug);
    var editorForm = document.getElementById("lesson-form");
    var editor = editorForm ? initEditor(editorForm) : null;
    var textarea = editor ? editor.textarea : null;
    document.querySelectorAll(".media-item").forEach(function (item) {
      wireMediaItem(item, textarea);
    });
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      initUpload(form, textarea, editor ? editor.refresh : null);
    });
  });
})();
