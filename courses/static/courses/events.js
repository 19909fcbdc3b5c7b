// Progressive enhancement for the attendance list: keep the "N of M present" count current
// while ticking. The page works the same without it (the count updates after saving).
(function () {
  "use strict";
  var form = document.querySelector(".attendance-form");
  var status = document.getElementById("present-count");
  if (!form || !status) { return; }
  var boxes = form.querySelectorAll('input[name="present"]');
  var template = status.textContent;
  var total = boxes.length;
  function update() {
    var present = 0;
    for (var i = 0; i < boxes.length; i += 1) { if (boxes[i].checked) { present += 1; } }
    // Replace the first number (present) of the server-rendered sentence, whatever the language.
    var seen = 0;
    status.textContent = template.replace(/\d+/g, function (n) {
      seen += 1;
      return seen === 1 ? String(present) : (seen === 2 ? String(total) : n);
    });
  }
  form.addEventListener("change", update);
})();
