/* Reading progress: when the end of a chapter scrolls into view, record it (POST with the CSRF token).
   Without JavaScript the "mark as read" form does the same. Hand-written, no dependencies. */
(function () {
  "use strict";
  var sentinel = document.getElementById("chapter-end");
  if (!sentinel || sentinel.getAttribute("data-is-read") === "true") return;
  var form = document.querySelector(".mark-read-form");
  var status = form ? form.querySelector(".read-status") : null;
  var sending = false;

  function csrfToken() {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function done() {
    sentinel.setAttribute("data-is-read", "true");
    if (status) status.textContent = sentinel.getAttribute("data-read-text");
    var button = form && form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
  }

  function send() {
    if (sending || sentinel.getAttribute("data-is-read") === "true") return;
    sending = true;
    var body = new URLSearchParams();
    body.append("method", "end");
    fetch(sentinel.getAttribute("data-read-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString()
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (data) {
      if (data.ok) done();
    }).catch(function () {
      if (!navigator.onLine && window.handbookQueueRead) {  /* offline.js sends it when back online */
        window.handbookQueueRead(sentinel.getAttribute("data-read-url"), "end");
        return;
      }
      if (status) status.textContent = sentinel.getAttribute("data-error-text");
    }).then(function () { sending = false; });
  }

  // A chapter short enough to end on the first screen counts as read after a while on the page, not at once.
  var SHORT_CHAPTER_DELAY_MS = 15000;
  var timer = null;

  function reached(visible) {
    if (!visible) {
      if (timer) { clearTimeout(timer); timer = null; }
      return;
    }
    if (window.scrollY > 0) { send(); return; }
    if (!timer) timer = setTimeout(function () { timer = null; send(); }, SHORT_CHAPTER_DELAY_MS);
  }

  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { reached(entry.isIntersecting); });
    });
    observer.observe(sentinel);
  } else {
    var onScroll = function () {
      reached(sentinel.getBoundingClientRect().top < window.innerHeight);
    };
    window.addEventListener("scroll", onScroll, {passive: true});
  }
})();
