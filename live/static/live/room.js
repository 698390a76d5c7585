/* The live room and the moderator console (one script; the page's data-role chooses the parts).
 * Protocol: docs/live-protocol.md. Every text from users is set with textContent, never as HTML.
 * The connection resumes from the last seq after a drop, with exponential back-off (1, 2, 4 … 30 s) plus jitter. */
(function () {
  "use strict";

  var root = document.getElementById("live-room");
  if (!root) return;
  var config = JSON.parse(document.getElementById("live-room-config").textContent);
  var S = JSON.parse(document.getElementById("live-room-strings").textContent);
  var console_ = root.getAttribute("data-role") === "moderator";
  // Opened from a personal join link (/live/join/<token>/, which serves this page at once): put the room's own
  // address in the bar, so the token stays neither there nor in the history nor in a copied address.
  if (config.room && location.pathname !== config.room && window.history && history.replaceState) {
    history.replaceState(null, "", config.room + location.hash);
  }
  // Close codes (docs/live-protocol.md): these end the visit with a message; 4412 (rights changed) starts afresh
  // with a snapshot at once; 4503 (busy) comes back when the server says; every other code (4408, 4409, 4500,
  // 1000-1015) reconnects with back-off and jitter.
  var FINAL = { 4401: true, 4403: true, 4404: true, 4410: true, 4411: true };
  var AFRESH = 4412, SERVER_ERROR = 4500, BUSY = 4503;

  // 4503: the server is busy with other joins and says when to come back ("busy: retry after N s"): wait N s plus
  // a jitter of up to half again, without counting it as a failure (the back-off does not grow).
  function busyDelay(reason) {
    var match = /retry after (\d+)/.exec(reason || "");
    var seconds = match ? Math.min(300, Math.max(1, parseInt(match[1], 10))) : 5;
    return seconds + Math.random() * seconds / 2;
  }

  function fmt(text, value) { return text.replace("%s", value); }
  function $(selector, scope) { return (scope || root).querySelector(selector); }
  function $all(selector, scope) { return Array.prototype.slice.call((scope || root).querySelectorAll(selector)); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // --- state --------------------------------------------------------------------------------------------
  var state = {
    seq: null, epoch: null, role: null, me: null, session: null, topics: [], questions: new Map(),
    myVotes: new Set(), myQuestions: new Set(), poll: null, myChoices: [], announcements: [], participants: 0,
  };
  var sortBy = "popular";
  var filter = "pending";
  // Long queues stay responsive: at most `shown` questions are drawn (more on demand), optionally narrowed by a search.
  var PAGE = 50, shown = PAGE, search = "";
  var pendingNotice = null;  // the question whose "awaiting approval" notice is showing
  var exhausted = {};  // console: "status|search" lists the server has no older questions for

  function applySnapshot(m) {
    state.seq = m.seq; state.epoch = m.epoch; state.role = m.role; state.me = m.me; state.session = m.session;
    state.topics = m.topics || [];
    state.questions = new Map();
    (m.questions || []).forEach(function (q) { state.questions.set(q.id, q); });
    state.myVotes = new Set(m.my_votes || []);
    state.myQuestions = new Set(m.my_questions || []);
    state.poll = m.poll; state.myChoices = (m.poll && m.poll.my_choices) || [];
    state.announcements = m.announcements || [];
    state.participants = m.participants || 0;
    state.counts = m.question_counts || null;  // moderators: exact sizes of the four lists
    // The page is the same for everyone (a cached shell): the snapshot's role shows moderators their console link.
    var consoleLink = $("[data-console-link]");
    if (consoleLink) consoleLink.hidden = m.role !== "moderator";
  }

  function upsertQuestion(q) {
    if (!q || !q.id) return;
    var known = state.questions.get(q.id);
    if (state.counts && q.status && (!known || known.status !== q.status)) {
      if (known && state.counts[known.status] > 0) state.counts[known.status] -= 1;
      state.counts[q.status] = (state.counts[q.status] || 0) + 1;
    }
    if (!console_ && q.status === "dismissed") { state.questions.delete(q.id); return; }
    state.questions.set(q.id, known ? Object.assign({}, known, q) : q);
  }

  function applyEvent(m) {
    var d = m.data || {};
    switch (m.name) {
      case "question.highlighted":
        if (d.previous && state.questions.has(d.previous)) state.questions.get(d.previous).highlighted = false;
        upsertQuestion(d.question); break;
      case "question.created": case "question.approved": case "question.dismissed": case "question.answered":
      case "question.replied": case "question.pinned": case "question.topic":
        upsertQuestion(d.question); break;
      case "topic.changed": state.session.topic = d.topic ? d.topic.id : null; break;
      case "poll.opened":
        state.poll = d.poll; state.myChoices = []; break;
      case "poll.closed":
        if (!state.poll || state.poll.id === d.poll.id || d.poll.id > state.poll.id) {
          var mine = state.poll && state.poll.id === d.poll.id ? state.myChoices : [];
          state.poll = d.poll; state.myChoices = mine;
        }
        break;
      case "announcement":
        if (!state.announcements.some(function (a) { return a.id === d.announcement.id; })) {
          state.announcements.push(d.announcement);
        }
        break;
      case "session.status": state.session.status = d.status; break;
      default: break; // "hidden", "user.banned": nothing to show here
    }
  }

  function applyCounts(m) {
    Object.keys(m.votes || {}).forEach(function (id) {
      var q = state.questions.get(Number(id));
      if (q) q.votes = m.votes[id];
    });
    var tallies = m.polls || {};
    if (state.poll && tallies[state.poll.id]) {
      state.poll.choices.forEach(function (c) {
        var n = tallies[state.poll.id][c.id];
        if (n !== undefined) c.votes = n;
      });
      if (m.respondents && m.respondents[state.poll.id] !== undefined) state.poll.respondents = m.respondents[state.poll.id];
    }
    if (typeof m.participants === "number") state.participants = m.participants;
  }

  // --- connection -----------------------------------------------------------------------------------------
  var socket = null, attempt = 0, openedAt = 0, retryTimer = null, stopped = false, nextId = 1;
  var pending = new Map();

  function setConnection(text, ok) {
    var node = $("[data-connection]");
    node.textContent = text;
    node.classList.toggle("is-ok", !!ok);
    root.classList.toggle("is-offline", !ok);
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + config.ws;
    if (state.seq !== null) url += "?since=" + state.seq + "&epoch=" + encodeURIComponent(state.epoch || "");
    setConnection(S.connecting, false);
    openedAt = 0;  // this attempt has not opened yet
    socket = new WebSocket(url);
    socket.onopen = function () { openedAt = Date.now(); };
    socket.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      receive(m);
    };
    socket.onclose = function (e) {
      socket = null;
      pending.forEach(function (p) { p.reject({ code: "disconnected", message: S.reconnecting.replace("%s", "…") }); });
      pending.clear();
      if (FINAL[e.code]) {
        stopped = true;
        setConnection(S["closed_" + e.code], false);
        showError(S["closed_" + e.code]);
        return;
      }
      if (e.code === BUSY) {
        var wait = busyDelay(e.reason);
        setConnection(fmt(S.reconnecting, Math.round(wait)), false);
        retryTimer = setTimeout(connect, wait * 1000);
        return;
      }
      if (e.code === AFRESH) {
        // Signed in again, or with other rights: a new snapshot, not a resume of what the old role saw.
        state.seq = null; state.epoch = null; attempt = 0;
      }
      // Start the back-off again only after a connection that stayed open 10 s: an attempt that failed (the host is
      // gone, the server refused) keeps doubling, rather than measuring from a connection of long ago.
      if (openedAt && Date.now() - openedAt > 10000) attempt = 0;
      var base = Math.min(30, Math.pow(2, attempt));
      var delay = base + Math.random() * base;
      attempt += 1;
      setConnection(fmt(e.code === SERVER_ERROR ? S.closed_4500 : S.reconnecting, Math.round(delay)), false);
      retryTimer = setTimeout(connect, delay * 1000);
    };
  }

  function receive(m) {
    if (m.type === "snapshot") {
      applySnapshot(m); setConnection(S.connected, true); render();
    } else if (m.type === "event") {
      if (state.seq !== null && m.seq <= state.seq) return;           // already applied
      if (state.seq !== null && m.seq > state.seq + 1 && socket) {     // a gap: resume from what we have
        socket.close(4000); return;
      }
      state.seq = m.seq; applyEvent(m); render();
    } else if (m.type === "resumed") {
      state.seq = m.seq; state.epoch = m.epoch; setConnection(S.connected, true); render();
    } else if (m.type === "counts") {
      applyCounts(m); render();
    } else if (m.type === "ack" || m.type === "error") {
      var p = pending.get(m.id);
      if (!p) { if (m.type === "error") showError(m.message); return; }
      pending.delete(m.id);
      if (m.type === "ack") p.resolve(m); else p.reject(m);
    }
  }

  function send(type, fields) {
    return new Promise(function (resolve, reject) {
      if (!socket || socket.readyState !== 1) { reject({ code: "disconnected", message: S.connecting }); return; }
      var id = "r" + (nextId++);
      pending.set(id, { resolve: resolve, reject: reject });
      socket.send(JSON.stringify(Object.assign({ type: type, id: id }, fields || {})));
    });
  }

  function showError(message) {
    var node = $("[data-error]");
    node.textContent = message || S.error;
    node.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(function () { node.hidden = true; }, 6000);
  }

  function act(type, fields) {
    return send(type, fields).catch(function (err) { showError(err.message); throw err; });
  }

  // --- rendering ------------------------------------------------------------------------------------------
  var frame = null;
  function render() {
    if (frame) return;
    frame = requestAnimationFrame(function () { frame = null; draw(); });
  }

  function topicTitle(id) {
    var t = state.topics.filter(function (x) { return x.id === id; })[0];
    return t ? t.title : "";
  }

  function draw() {
    if (!state.session) return;
    var status = $("[data-status]");
    status.textContent = S["status_" + state.session.status] || state.session.status;
    status.className = "room-status is-" + state.session.status;
    $("[data-participants]").textContent = fmt(S.participants, state.participants);
    drawTopic();
    drawQuestions();
    drawPoll();
    if (console_) drawConsole(); else drawAnnouncements();
    if (pendingNotice !== null) {
      var asked = state.questions.get(pendingNotice);
      if (!asked || asked.status !== "pending") {
        pendingNotice = null;
        $("[data-ask-feedback]").textContent = "";
      }
    }
  }

  function drawTopic() {
    var box = $("[data-topic-box]");
    if (!box) return;
    var title = state.session.topic ? topicTitle(state.session.topic) : "";
    box.hidden = !title;
    $("[data-topic-title]").textContent = title;
  }

  function drawAnnouncements() {
    var box = $("[data-announcements]");
    box.replaceChildren();
    var latest = state.announcements.slice(-3).reverse();
    latest.forEach(function (a) {
      var item = el("p", { class: "room-announcement" });
      item.appendChild(el("strong", null, a.author + "："));
      item.appendChild(document.createTextNode(a.text));
      box.appendChild(item);
    });
    box.hidden = latest.length === 0;
  }

  function matches(q) {
    if (!search) return true;
    var who = q.author ? q.author.name : "";
    return (q.text + " " + who + " " + (q.reply || "")).toLowerCase().indexOf(search) >= 0;
  }

  function visibleQuestions() {
    var list = [];
    state.questions.forEach(function (q) {
      if (!matches(q)) return;
      if (console_) { if (q.status === filter) list.push(q); return; }
      if (q.status === "approved" || q.status === "answered" || state.myQuestions.has(q.id)) list.push(q);
    });
    list.sort(function (a, b) {
      if (a.highlighted !== b.highlighted) return a.highlighted ? -1 : 1;
      if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
      if (sortBy === "popular" && a.votes !== b.votes) return b.votes - a.votes;
      return b.created - a.created;
    });
    return list;
  }

  var nodes = new Map();
  function drawQuestions() {
    var listNode = $("[data-questions]");
    var all = visibleQuestions();
    var list = all.slice(0, shown);
    var more = $("[data-more]");
    if (more) {
      var total = console_ && state.counts && !search ? Math.max(state.counts[filter] || 0, all.length) : all.length;
      var further = console_ && (search || total > all.length) && !exhausted[filter + "|" + search];
      more.parentNode.hidden = !(all.length > list.length || further);
      more.textContent = fmt(S.show_more, Math.max(total - list.length, 0) || "…");
    }
    var keep = new Set();
    list.forEach(function (q, index) {
      var signature = JSON.stringify(q) + state.myVotes.has(q.id) + sortBy;
      var cached = nodes.get(q.id);
      var node = cached && cached.signature === signature ? cached.node : questionNode(q);
      if (cached && cached.node !== node) cached.node.remove();
      nodes.set(q.id, { node: node, signature: signature });
      keep.add(q.id);
      if (listNode.children[index] !== node) listNode.insertBefore(node, listNode.children[index] || null);
    });
    Array.prototype.slice.call(listNode.children).forEach(function (child) {
      if (!keep.has(Number(child.getAttribute("data-id")))) child.remove();
    });
    if (!list.length) {
      var empty = search ? S.no_match : (console_ ? S["empty_" + filter] : S.no_questions);
      listNode.replaceChildren(el("li", { class: "room-empty muted" }, empty));
    }
    if (console_) {
      ["pending", "approved", "answered", "dismissed"].forEach(function (status) {
        var n = 0;
        state.questions.forEach(function (q) { if (q.status === status) n += 1; });
        $("[data-count-" + status + "]").textContent = state.counts ? Math.max(state.counts[status] || 0, n) : n;
      });
    }
  }

  function questionNode(q) {
    var item = el("li", { class: "room-question", "data-id": q.id });
    if (q.highlighted) item.classList.add("is-highlighted");
    if (q.pinned) item.classList.add("is-pinned");
    var badges = el("p", { class: "room-badges" });
    if (q.highlighted) badges.appendChild(el("span", { class: "badge badge-live" }, S.answering));
    if (q.pinned) badges.appendChild(el("span", { class: "badge" }, S.pinned));
    if (q.status === "answered") badges.appendChild(el("span", { class: "badge badge-done" }, S.answered));
    if (q.status === "pending") badges.appendChild(el("span", { class: "badge badge-wait" }, S.pending));
    if (q.topic) badges.appendChild(el("span", { class: "badge badge-topic" }, topicTitle(q.topic)));
    if (badges.children.length) item.appendChild(badges);
    item.appendChild(el("p", { class: "room-question-text" }, q.text));
    var who = q.author ? q.author.name + (q.anonymous ? "（" + S.anonymous + "）" : "") : S.anonymous;
    item.appendChild(el("p", { class: "room-question-meta muted" }, who));
    if (q.reply) {
      var reply = el("div", { class: "room-reply" });
      reply.appendChild(el("p", { class: "room-reply-by" }, fmt(S.reply_from, q.replied_by || "")));
      reply.appendChild(el("p", null, q.reply));
      item.appendChild(reply);
    }
    var row = el("div", { class: "room-question-actions" });
    var voted = state.myVotes.has(q.id);
    if (q.status === "approved" || q.status === "answered") {
      var vote = el("button", { type: "button", class: "room-vote" + (voted ? " is-voted" : ""),
                                "aria-pressed": voted ? "true" : "false", "data-vote": q.id });
      vote.appendChild(el("span", { "aria-hidden": "true" }, "▲ "));
      vote.appendChild(el("span", { class: "room-vote-count", "data-votes": q.id }, q.votes));
      vote.setAttribute("aria-label", (voted ? S.voted : S.vote) + "，" + fmt(S.votes, q.votes));
      vote.addEventListener("click", function () { toggleVote(q.id); });
      row.appendChild(vote);
    } else {
      row.appendChild(el("span", { class: "muted", "data-votes": q.id }, fmt(S.votes, q.votes)));
    }
    if (console_) moderatorActions(q, row, item);
    item.appendChild(row);
    return item;
  }

  function toggleVote(id) {
    var voted = state.myVotes.has(id);
    act(voted ? "question.unvote" : "question.vote", { question: id }).then(function (ack) {
      if (voted) state.myVotes.delete(id); else state.myVotes.add(id);
      var q = state.questions.get(id);
      if (q && typeof ack.votes === "number") q.votes = ack.votes;
      render();
    }, function () {});
  }

  function drawPoll() {
    var box = $("[data-poll]");
    var poll = state.poll;
    var dot = $("[data-poll-dot]");
    if (dot) dot.hidden = !(poll && poll.status === "open" && !state.myChoices.length);
    box.replaceChildren();
    if (!poll) { box.appendChild(el("p", { class: "muted" }, S.no_poll)); return; }
    var wrap = el("div", { class: "room-poll" });
    wrap.appendChild(el("h3", { class: "room-poll-question" }, poll.question));
    var canAnswer = !console_ && poll.status === "open" && !state.myChoices.length;
    if (canAnswer) {
      var form = el("form", { class: "room-poll-form" });
      var name = "poll-" + poll.id;
      poll.choices.forEach(function (c) {
        var label = el("label", { class: "room-check" });
        var input = el("input", { type: poll.kind === "single" ? "radio" : "checkbox", name: name, value: c.id });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + c.text));
        form.appendChild(label);
      });
      var submit = el("button", { type: "submit", class: "button-primary" }, S.poll_submit);
      form.appendChild(submit);
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var chosen = $all("input:checked", form).map(function (i) { return Number(i.value); });
        if (!chosen.length) return;
        act("poll.answer", { poll: poll.id, choices: chosen }).then(function () {
          state.myChoices = chosen; render();
        }, function () {});
      });
      wrap.appendChild(form);
    } else {
      var total = poll.choices.reduce(function (sum, c) { return sum + c.votes; }, 0);
      var bars = el("ul", { class: "room-bars" });
      poll.choices.forEach(function (c) {
        var share = total ? Math.round(c.votes * 100 / total) : 0;
        var li = el("li", { class: state.myChoices.indexOf(c.id) >= 0 ? "is-mine" : "" });
        var head = el("div", { class: "room-bar-head" });
        head.appendChild(el("span", null, c.text));
        head.appendChild(el("span", { "data-choice-votes": c.id }, c.votes + "（" + share + "%）"));
        li.appendChild(head);
        var bar = el("div", { class: "room-bar", role: "presentation" });
        var fill = el("div", { class: "room-bar-fill" });
        fill.style.width = share + "%";
        bar.appendChild(fill);
        li.appendChild(bar);
        bars.appendChild(li);
      });
      wrap.appendChild(bars);
      var note = poll.status === "closed" ? S.poll_closed : (state.myChoices.length ? S.poll_answered : "");
      wrap.appendChild(el("p", { class: "muted" }, [fmt(S.respondents, poll.respondents), note].filter(Boolean).join(" · ")));
      if (console_ && poll.status === "open") {
        var close = el("button", { type: "button", "data-poll-close": poll.id }, S.close_poll);
        close.addEventListener("click", function () { act("poll.close", { poll: poll.id }).catch(function () {}); });
        wrap.appendChild(close);
      }
    }
    box.appendChild(wrap);
  }

  // --- moderator console --------------------------------------------------------------------------------
  function moderatorActions(q, row, item) {
    function button(label, type, fields, attrs) {
      var b = el("button", Object.assign({ type: "button", class: "room-action" }, attrs || {}), label);
      b.addEventListener("click", function () { act(type, Object.assign({ question: q.id }, fields || {})).catch(function () {}); });
      row.appendChild(b);
    }
    if (q.status === "pending" || q.status === "dismissed") button(S.approve, "question.approve", null, { "data-approve": q.id });
    if (q.status !== "dismissed") {
      button(q.highlighted ? S.unhighlight : S.highlight, "question.highlight", { highlighted: !q.highlighted });
      if (q.status !== "answered") button(S.mark_answered, "question.answered");
      button(q.pinned ? S.unpin : S.pin, "question.pin", { pinned: !q.pinned });
      button(S.dismiss, "question.dismiss", null, { "data-dismiss": q.id });
    }
    if (state.topics.length) {
      var select = el("select", { "aria-label": S.topic_label, class: "room-topic-select" });
      select.appendChild(el("option", { value: "" }, S.no_topic));
      state.topics.forEach(function (t) {
        var option = el("option", { value: t.id }, t.title);
        if (q.topic === t.id) option.selected = true;
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        act("question.topic", { question: q.id, topic: select.value ? Number(select.value) : null }).catch(function () {});
      });
      row.appendChild(select);
    }
    var replyForm = el("form", { class: "room-reply-form" });
    var label = el("label", { class: "visually-hidden", for: "reply-" + q.id }, S.reply);
    var text = el("textarea", { id: "reply-" + q.id, maxlength: "500", rows: "2", placeholder: S.reply_placeholder });
    text.value = q.reply || "";
    replyForm.appendChild(label);
    replyForm.appendChild(text);
    replyForm.appendChild(el("button", { type: "submit" }, S.reply));
    replyForm.addEventListener("submit", function (e) {
      e.preventDefault();
      act("question.reply", { question: q.id, text: text.value }).catch(function () {});
    });
    item.appendChild(replyForm);
    if (q.author && state.me && q.author.id !== state.me.id) {
      var ban = el("button", { type: "button", class: "room-action room-danger" }, S.ban);
      ban.addEventListener("click", function () {
        if (window.confirm(fmt(S.ban_confirm, q.author.name))) act("user.ban", { user: q.author.id }).catch(function () {});
      });
      row.appendChild(ban);
    }
  }

  function drawConsole() {
    // The session's buttons follow its status: the next thing a host would do is the primary one.
    var status = state.session.status;
    $all("[data-status-set]").forEach(function (b) {
      var target = b.getAttribute("data-status-set");
      var next = (status === "live") ? "ended" : "live";
      b.classList.toggle("button-primary", target === next && status !== "ended");
      b.disabled = target === status;
      if (target === "live") b.textContent = status === "ended" ? S.restart : S.start;
    });
    var select = $("[data-topic-select]");
    if (select && document.activeElement !== select) {
      select.replaceChildren(el("option", { value: "" }, S.no_topic));
      state.topics.forEach(function (t) {
        var option = el("option", { value: t.id }, t.title);
        if (state.session.topic === t.id) option.selected = true;
        select.appendChild(option);
      });
    }
  }

  function wireConsole() {
    $all("[data-status-set]").forEach(function (b) {
      b.addEventListener("click", function () { act("session.status", { status: b.getAttribute("data-status-set") }).catch(function () {}); });
    });
    $("[data-topic-select]").addEventListener("change", function (e) {
      act("topic.set", { topic: e.target.value ? Number(e.target.value) : null }).catch(function () {});
    });
    var announce = $("[data-announce-form]");
    announce.addEventListener("submit", function (e) {
      e.preventDefault();
      act("announce", { text: announce.text.value }).then(function () { announce.reset(); }, function () {});
    });
    var pollForm = $("[data-poll-form]");
    pollForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var choices = pollForm.choices.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
      act("poll.open", { question: pollForm.question.value, kind: pollForm.kind.value, choices: choices })
        .then(function () { pollForm.reset(); }, function () {});
    });
    var tabs = $all("[data-filter]");
    function choose(b) {
      filter = b.getAttribute("data-filter");
      shown = PAGE;
      tabs.forEach(function (x) {
        x.setAttribute("aria-selected", x === b ? "true" : "false");
        x.tabIndex = x === b ? 0 : -1;
      });
      $("#console-questions").setAttribute("aria-labelledby", b.id);
      render();
    }
    tabs.forEach(function (b, i) {
      b.addEventListener("click", function () { choose(b); });
      b.addEventListener("keydown", function (e) {  // arrow keys move between tabs (WAI-ARIA tabs pattern)
        var step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        var next = tabs[(i + step + tabs.length) % tabs.length];
        next.focus(); choose(next);
      });
    });
    var searchBox = $("[data-question-search]");
    if (searchBox) searchBox.addEventListener("input", function () {
      search = searchBox.value.trim().toLowerCase(); shown = PAGE; render();
    });
  }

  // --- participant page --------------------------------------------------------------------------------
  function wireParticipant() {
    var form = $("[data-ask-form]");
    var left = $("[data-ask-left]");
    function updateLeft() { left.textContent = fmt(S.chars_left, 300 - form.text.value.length); }
    form.text.addEventListener("input", updateLeft);
    updateLeft();
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = form.text.value.trim();
      if (!text) { form.text.focus(); return; }
      act("question.ask", { text: text, anonymous: form.anonymous.checked }).then(function (ack) {
        state.myQuestions.add(ack.question.id);
        upsertQuestion(ack.question);
        form.reset(); updateLeft();
        $("[data-ask-feedback]").textContent = ack.question.status === "pending" ? S.asked_pending : S.asked;
        pendingNotice = ack.question.status === "pending" ? ack.question.id : null;
        render();
      }, function () {});
    });
    var tabs = $all("[role=tab]", $(".room-tabs"));
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        tabs.forEach(function (t) {
          var on = t === tab;
          t.setAttribute("aria-selected", on ? "true" : "false");
          document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
        });
      });
    });
    var video = $("video[data-hls]");
    if (video) {
      var src = video.getAttribute("data-hls");
      if (video.canPlayType("application/vnd.apple.mpegurl")) {
        video.src = src;
      } else if (window.Hls && window.Hls.isSupported()) {
        var hls = new window.Hls();
        hls.loadSource(src);
        hls.attachMedia(video);
      } else {
        video.src = src;
      }
    }
  }

  // "Show more": the next page from what this screen holds, or (console) from the server once that is shown.

  var moreButton = $("[data-more]");
  if (moreButton) moreButton.addEventListener("click", function () {
    var all = visibleQuestions();
    if (!console_ || shown < all.length) { shown += PAGE; render(); return; }
    var oldest = all.reduce(function (min, q) { return Math.min(min, q.id); }, Infinity);
    var fields = { status: filter, limit: PAGE, search: search };
    if (oldest !== Infinity) fields.before = oldest;
    var key = filter + "|" + search;
    act("questions.list", fields).then(function (ack) {
      ack.questions.forEach(function (q) { if (!state.questions.has(q.id)) state.questions.set(q.id, q); });
      if (!ack.more) exhausted[key] = true;
      shown += PAGE; render();
    }, function () {});
  });

  $all("[data-sort]").forEach(function (b) {
    b.addEventListener("click", function () {
      sortBy = b.getAttribute("data-sort");
      $all("[data-sort]").forEach(function (x) { x.setAttribute("aria-pressed", x === b ? "true" : "false"); });
      render();
    });
  });
  if (console_) wireConsole(); else wireParticipant();
  window.addEventListener("online", function () {
    if (!socket && !stopped) { clearTimeout(retryTimer); attempt = 0; connect(); }
  });
  connect();
})();
