/* Video lessons: reports the share of the video actually played (the browser's `played` ranges, so skipping ahead
   does not count) to the lesson's progress/ URL every 15 seconds, on pause, on end and when the page is hidden.
   The server keeps the largest figure and decides completion. No library, no third-party request. */
(function () {
  "use strict";
  var video = document.querySelector("video[data-progress-url]");
  if (!video) { return; }
  var url = video.getAttribute("data-progress-url");
  var status = document.getElementById("video-status");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var token = tokenInput ? tokenInput.value : "";
  var lastSent = parseInt(video.getAttribute("data-watched"), 10) || 0;
  var sending = false;

  function watchedPercent() {
    if (!video.duration || !isFinite(video.duration)) { return 0; }
    var seconds = 0;
    for (var i = 0; i < video.played.length; i++) { seconds += video.played.end(i) - video.played.start(i); }
    return Math.min(100, Math.floor(100 * seconds / video.duration));
  }

  function show(percent) {
    if (!status) { return; }
    var template = status.getAttribute("data-template") || "{percent}%";
    status.textContent = template.replace("{percent}", percent).replace("{required}", status.getAttribute("data-required"));
  }

  function send(useBeacon) {
    var percent = watchedPercent();
    if (percent <= lastSent || sending) { return; }
    var body = JSON.stringify({ percent: percent });
    sending = true;
    fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!useBeacon /* survives the page being closed */,
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: body
    }).then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        if (result[0]) {
          lastSent = Math.max(lastSent, result[1].watched_percent);
          show(result[1].watched_percent);
          if (result[1].completed && !video.getAttribute("data-completed")) {
            video.setAttribute("data-completed", "true");
            var badge = document.querySelector("[data-testid=lesson-status]");
            if (badge) { badge.textContent = "✓ " + (video.getAttribute("data-completed-text") || ""); }
          }
        }
      })
      .catch(function () { /* offline: the next report carries the figure */ })
      .then(function () { sending = false; });
  }

  setInterval(function () { if (!video.paused) { send(false); } }, 15000);
  video.addEventListener("pause", function () { send(false); });
  video.addEventListener("ended", function () { send(false); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { send(true); } });
})();
