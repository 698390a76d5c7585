/* Video lessons: reports the seconds of the video actually played (the browser's `played` ranges, so skipping ahead
   does not count) to the lesson's progress/ URL when playing starts, every 15 seconds while it plays, on pause, on
   end and when the page is hidden. The server credits no more than the media could have played in the time since
   the viewing began, keeps the largest figure and decides completion; the figure shown is the server's. No library,
   no third-party request. */
(function () {
  "use strict";
  var video = document.querySelector("video[data-progress-url]");
  if (!video) { return; }
  var url = video.getAttribute("data-progress-url");
  var status = document.getElementById("video-status");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var token = tokenInput ? tokenInput.value : "";
  var credited = -1; /* the seconds the server has credited, as it last answered */
  var sending = false;
  var pending = false;

  function playedSeconds() {
    var seconds = 0;
    for (var i = 0; i < video.played.length; i++) { seconds += video.played.end(i) - video.played.start(i); }
    return Math.round(seconds * 10) / 10;
  }

  function show(percent) {
    if (!status) { return; }
    var template = status.getAttribute("data-template") || "{percent}%";
    status.textContent = template.replace("{percent}", percent).replace("{required}", status.getAttribute("data-required"));
  }

  /* force: a heartbeat even when nothing new was played (playing starts: the server starts timing the viewing). */
  function send(useBeacon, force) {
    var seconds = playedSeconds();
    if (sending) { pending = true; return; }
    if (!force && seconds <= credited) { return; }
    sending = true;
    fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!useBeacon /* survives the page being closed */,
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ seconds: seconds })
    }).then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        if (result[0]) {
          credited = result[1].watched_seconds;
          show(result[1].watched_percent);
          if (result[1].completed && !video.getAttribute("data-completed")) {
            video.setAttribute("data-completed", "true");
            var badge = document.querySelector("[data-testid=lesson-status]");
            if (badge) { badge.textContent = "✓ " + (video.getAttribute("data-completed-text") || ""); }
          }
        }
      })
      .catch(function () { /* offline: the next report carries the figure */ })
      .then(function () {
        sending = false;
        if (pending) { pending = false; send(false, false); }
      });
  }

  setInterval(function () { if (!video.paused) { send(false, false); } }, 15000);
  video.addEventListener("play", function () { send(false, true); });
  video.addEventListener("pause", function () { send(false, false); });
  video.addEventListener("ended", function () { send(false, false); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { send(true, false); } });
})();
