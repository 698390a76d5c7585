// Keyboard shortcuts for reviewers on a desktop (the pages work without them).
// Queue: j/k move, x select, Enter open, n review the next one. Application: a approve and next, r write a
// message, c claim, n next. Keys typed into a field are left alone.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll(".v-row[data-href]"));
  var current = -1;
  function select(index) {
    if (!rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("v-current"); }
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("v-current");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function click(selector) {
    var element = document.querySelector(selector);
    if (element) { element.click(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable)) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key;
    if (key === "j") { select(current + 1); }
    else if (key === "k") { select(current - 1); }
    else if (key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; }
    }
    else if (key === "Enter" && current >= 0) { window.location.href = rows[current].getAttribute("data-href"); }
    else if (key === "n") { if (!click("#v-next-form button")) { return; } }
    else if (key === "a") { if (!click("button[data-key=a]")) { return; } }
    else if (key === "c") { if (!click("button[data-key=c]")) { return; } }
    else if (key === "r") {
      var field = document.querySelector("textarea[data-key=r]");
      if (!field) { return; }
      field.focus();
    }
    else { return; }
    event.preventDefault();
  });
})();
