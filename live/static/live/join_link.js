/* "My join link" on the session page: a copy button (a static file: the site's CSP allows no inline script).
 * Without the Clipboard API (older in-app browsers) the text is selected so the user can copy it by hand. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var box = button.closest("[data-join-link]");
    var done = box && box.querySelector("[data-copy-done]");
    if (!input) return;
    button.hidden = false;
    function copied() { if (done) done.hidden = false; }
    button.addEventListener("click", function () {
      input.focus();
      input.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(copied, function () {
          if (document.execCommand && document.execCommand("copy")) copied();
        });
      } else if (document.execCommand && document.execCommand("copy")) {
        copied();
      }
    });
    input.addEventListener("focus", function () { input.select(); });
  });
})();
