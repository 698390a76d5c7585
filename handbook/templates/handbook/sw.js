/* The work manual's service worker (served from {{ scope }}sw/ with Service-Worker-Allowed: {{ scope }}, scope {{ scope }}).
   Answers from the offline copy (a cache named handbook-offline-<edition>-<version>, filled by offline.js) when
   the network fails; refreshes an entry of that copy when the network answers. It never adds anything to the copy:
   only offline.js does, from the manual's own list. Nothing outside the copy is ever stored. */
"use strict";
var SCOPE = "{{ scope|escapejs }}";
var PREFIX = "handbook-offline-";
var COMPLETE = SCOPE + "__offline-copy-complete__";
var NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function completeCache() {
  /* The newest cache that offline.js finished filling (it marks it with the COMPLETE entry). */
  return caches.keys().then(function (names) {
    names = names.filter(function (name) { return name.indexOf(PREFIX) === 0; });
    return Promise.all(names.map(function (name) {
      return caches.open(name).then(function (cache) {
        return cache.match(COMPLETE).then(function (marker) { return marker ? cache : null; });
      });
    })).then(function (found) {
      for (var i = found.length - 1; i >= 0; i--) { if (found[i]) return found[i]; }
      return null;
    });
  });
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

function fromCopy(cache, request) {
  return cache.match(request, {ignoreVary: true}).then(function (hit) {
    if (!hit) return null;
    /* Marked so that the browser test (and a curious developer) can tell a copy from the network. */
    var headers = new Headers(hit.headers);
    headers.set("X-Handbook-Offline", "copy");
    return hit.blob().then(function (body) {
      return new Response(body, {status: hit.status, statusText: hit.statusText, headers: headers});
    });
  });
}

function offlinePage() {
  var html = "<!DOCTYPE html><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\">" +
    "<title>{{ offline_text|escapejs }}</title><p>{{ offline_text|escapejs }}</p><p><a href=\"" + SCOPE + "\">" + SCOPE + "</a></p>";
  return new Response(html, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.search) return;
  var isPage = request.mode === "navigate";
  event.respondWith(completeCache().then(function (cache) {
    if (!cache) return fetch(request);
    return cache.match(request, {ignoreVary: true}).then(function (known) {
      if (!known) {
        return fetch(request).catch(function () { return isPage ? offlinePage() : Response.error(); });
      }
      if (!isPage) {
        return fromCopy(cache, request);  /* stylesheets, scripts, icons, pictures: the copy's own */
      }
      /* Pages: the network first (a reader's progress changes), the copy when it fails or is slow. */
      return withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
        if (response.ok && !response.redirected && response.type === "basic") {
          cache.put(request, response.clone());
        }
        return response;
      }).catch(function () { return fromCopy(cache, request); });
    });
  }));
});
