/* Offline reading of the work manual. Hand-written, no dependencies, no inline script (data-* attributes only).

   1. Registers the manual's service worker (<manual>/sw/, scope <manual>/).
   2. The 离线阅读 button: fetches <manual>/offline/ (the addresses of the current edition's copy and an
      estimate of its size), downloads them into a cache named by edition and version, marks the copy complete,
      and deletes older copies. A later visit online replaces the copy when the list's cache name has changed
      (a new edition or a publish), and deletes a copy that another reader on this device downloaded.
   3. "Mark as read" while offline: queued in IndexedDB (handbook-offline / reads) and sent to the chapter's
      idempotent read endpoint when the browser is back online (or on the next page opened online). */
(function () {
  "use strict";
  var panel = document.querySelector("[data-offline-panel]");
  var PREFIX = "handbook-offline-";
  var DB_NAME = "handbook-offline";
  var STORE = "reads";
  var STATE_KEY = "handbook-offline-copy";

  var texts = document.querySelector("[data-offline-texts]");

  function text(name, values) {
    var source = texts ? texts.getAttribute("data-text-" + name) || "" : "";
    return source.replace(/\{(\w+)\}/g, function (_m, key) { return values && key in values ? values[key] : ""; });
  }

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* --- The queue of reads made offline (IndexedDB) ----------------------------------------------------------- */
  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!("indexedDB" in window)) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "url"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function queueRead(url, method) {
    return withStore("readwrite", function (store) {
      return store.put({url: url, method: method || "button", at: new Date().toISOString()});
    });
  }

  function queuedReads() {
    return withStore("readonly", function (store) { return store.getAll(); });
  }

  function forget(url) {
    return withStore("readwrite", function (store) { return store.delete(url); });
  }

  function post(url, method, token) {
    var body = new URLSearchParams();
    body.append("method", method);
    return fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"X-CSRFToken": token, "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString()
    });
  }

  function freshToken() {
    /* A page of the copy may carry an old token: ask the server for the current one (bypassing the copy). */
    var scope = texts ? texts.getAttribute("data-scope") : "/";
    return fetch(scope + "?fresh-token=1", {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var match = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
        return match ? match[1] : "";
      });
  }

  var replaying = false;
  function replay() {
    if (replaying || !navigator.onLine) return Promise.resolve(0);
    replaying = true;
    var sent = 0;
    return queuedReads().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return post(item.url, item.method, csrfToken()).then(function (response) {
            if (response.status !== 403) return response;
            return freshToken().then(function (token) { return post(item.url, item.method, token); });
          }).then(function (response) {
            if (response.ok || response.status === 400 || response.status === 404 || response.status === 405) {
              if (response.ok) sent += 1;
              return forget(item.url);
            }
          });
        });
      }, Promise.resolve());
    }).catch(function () { /* still offline, or storage unavailable: try again later */ })
      .then(function () {
        replaying = false;
        if (sent) announce(text("synced", {n: sent}));
        return sent;
      });
  }

  function announce(message) {
    var status = document.querySelector(".mark-read-form .read-status") || (panel && panel.querySelector("[data-offline-status]"));
    if (status && message) status.textContent = message;
  }

  /* Offline "mark as read": the form and the end-of-chapter sentinel (reading.js) come here when offline. */
  window.handbookQueueRead = function (url, method) {
    return queueRead(url, method).then(function () {
      announce(text("queued"));
      var button = document.querySelector(".mark-read-form button[type=submit]");
      if (button) button.hidden = true;
      var sentinel = document.getElementById("chapter-end");
      if (sentinel) sentinel.setAttribute("data-is-read", "true");
      return true;
    });
  };

  var form = document.querySelector(".mark-read-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      var method = form.querySelector("input[name=method]");
      window.handbookQueueRead(form.getAttribute("action"), method ? method.value : "button");
    });
  }

  window.addEventListener("online", function () { replay(); });
  if (navigator.onLine) replay();

  /* --- The offline copy -------------------------------------------------------------------------------------- */
  if (!panel || !("serviceWorker" in navigator) || !("caches" in window)) return;
  var button = panel.querySelector("[data-offline-download]");
  var status = panel.querySelector("[data-offline-status]");
  var scope = panel.getAttribute("data-scope");
  var listUrl = panel.getAttribute("data-list");
  var COMPLETE = scope + "__offline-copy-complete__";
  panel.hidden = false;

  navigator.serviceWorker.register(panel.getAttribute("data-sw"), {scope: scope}).catch(function () {
    panel.hidden = true;
  });

  function savedState() {
    try { return JSON.parse(localStorage.getItem(STATE_KEY) || "null"); } catch (e) { return null; }
  }

  function showComplete(state) {
    panel.setAttribute("data-state", "complete");
    status.textContent = text("complete", {edition: state.edition, n: state.chapters, size: formatSize(state.bytes)});
    button.textContent = text("again");
  }

  function removeCopies(except) {
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== except;
      }).map(function (name) { return caches.delete(name); }));
    });
  }

  function download(list) {
    panel.setAttribute("data-state", "downloading");
    button.disabled = true;
    var done = 0;
    var bytes = 0;
    return caches.delete(list.cache).then(function () { return caches.open(list.cache); }).then(function (cache) {
      var queue = list.urls.slice();
      function next() {
        var url = queue.shift();
        if (!url) return Promise.resolve();
        return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
          if (!response.ok || response.redirected) throw new Error(url + " " + response.status);
          return response.clone().blob().then(function (blob) {
            bytes += blob.size;
            return cache.put(url, response);
          });
        }).then(function () {
          done += 1;
          status.textContent = text("progress", {done: done, total: list.urls.length});
          return next();
        });
      }
      return Promise.all([next(), next(), next()]).then(function () {
        var state = {cache: list.cache, edition: list.edition, chapters: list.chapters, bytes: bytes,
                     reader: list.reader, at: new Date().toISOString()};
        return cache.put(COMPLETE, new Response(JSON.stringify(state), {headers: {"Content-Type": "application/json"}}))
          .then(function () { return removeCopies(list.cache); })
          .then(function () {
            localStorage.setItem(STATE_KEY, JSON.stringify(state));
            showComplete(state);
          });
      });
    }).catch(function () {
      panel.setAttribute("data-state", "failed");
      status.textContent = text("failed");
      caches.delete(list.cache);
    }).then(function () { button.disabled = false; });
  }

  var list = null;
  var state = savedState();
  if (state && !navigator.onLine) showComplete(state);
  if (!navigator.onLine) { button.disabled = true; return; }

  fetch(listUrl, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }).then(function (data) {
    list = data;
    button.textContent = text("button", {size: formatSize(data.bytes)});
    if (!state) { status.textContent = text("explain", {size: formatSize(data.bytes), n: data.chapters}); return; }
    if (state.reader !== data.reader) {
      /* Another reader's copy on a shared device: never show it to this one. */
      localStorage.removeItem(STATE_KEY);
      state = null;
      return removeCopies("").then(function () {
        status.textContent = text("explain", {size: formatSize(data.bytes), n: data.chapters});
      });
    }
    if (state.cache !== data.cache) return download(data);  /* a new edition or a publish: replace the copy */
    showComplete(state);
  }).catch(function () {
    if (state) showComplete(state);
  });

  button.addEventListener("click", function () {
    if (list) download(list);
  });
})();
