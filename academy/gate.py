"""Admission control for the HTTP storm paths: a per-process bound on the requests in flight, checked before Django
does any work (academy/asgi.py wraps the HTTP application in it).

At 19:30 thousands of registrants tap their personal join link (/live/join/<token>/) or reload the room page
(…/room/) within a minute. Past what a process can answer, every request it takes on makes all the others slower
(under ASGI each request runs its sync parts in a thread of its own, so they share the CPU), until none is answered
before its client gives up: the storm of 30 November (issue 16) let 0 of 20,000 in. Here a process works on at most
LIVE_PAGES_IN_FLIGHT of these requests at once. One more stands in line, first come first served, for up to
LIVE_PAGES_QUEUE_SECONDS (academy/busy.py `Busy.turn`): it costs nothing while it waits, and the order is fair.
When the line is longer than the process can serve in that time, or the time runs out, the request gets, at once
and for well under a millisecond of CPU, a tiny 503 page with Retry-After and `<meta http-equiv="refresh">`, so
that a phone's browser tries again by itself without a script (the site's CSP forbids inline scripts), telling the
visitor in Chinese (English when switched) that the room is filling and the page will retry. The admitted requests
then finish in milliseconds, not minutes. With refusals alone (no line), 20,000 taps in a minute brought 52,151
busy pages, and whoever lost the retry lottery several times in a row gave up after two minutes (issue 16).

The 503 page gives an appointment (academy/busy.py): the next slot of a schedule that advances at the rate the
process finishes these requests, at least LIVE_PAGES_RETRY_AFTER from now, behind those in line and those appointed
before. Its refresh address carries the appointment back, signed for the path (`?turn=<due>.<signature>`), and so
does a cookie for that path (a visitor who reloads the busy page by hand asks for its own address, without `turn`);
back on time, the request stands first in line, before newcomers, and a newcomer gets the next appointment while
any are outstanding. Back early, it gets the same appointment again. So a storm is served in the order it came.

A client that leaves while its request stands in line leaves the line: the gate watches for http.disconnect
meanwhile, its place passes on, and Django never sees the request (tests/academy/test_gate.py checks that on the
join link: nobody is signed in). Once admitted, the request is Django's: ASGIHandler (5.2) listens for
http.disconnect and cancels the request, which stops a view that has not started yet; a view already running in
its thread finishes. Other paths (WebSockets included) pass untouched.
"""
from __future__ import annotations

import asyncio
import html
import logging
import math
import re
import time
from urllib.parse import parse_qsl, quote, urlencode

from django.conf import settings
from django.http import parse_cookie
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from academy.busy import Busy

# The storm paths: a personal join link (live/links.py PATH_PREFIX) and the participant room page (a session page's
# "room/" route). Plain text here: the base floor does not import the apps.
STORM_PATHS = re.compile(r"^/live/join/|/room/$")
APPOINTMENT_MAX = 600  # seconds: the latest appointment a busy page gives (academy/busy.py `Busy.appoint`)
TURN = "turn"  # the query parameter that carries an appointment back: "<due, Unix seconds>.<signature>"
TURN_KEPT = 900  # seconds after its time that an appointment still puts its holder first
TURN_COOKIE = "academy_turn"  # the same appointment, for the busy page's own path (a reload by hand)
SUMMARY_SECONDS = 10  # one WARNING line per this many seconds of a storm, with how many busy pages it gave

logger = logging.getLogger(__name__)


def _turn_signature(path: str, due: int) -> str:
    return salted_hmac("academy.gate.turn", f"{path}|{due}", algorithm="sha256").hexdigest()[:16]

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}; url={again_url}">
<title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p><p><a href="{again_url}">{again}</a></p></body></html>
"""


def _texts(language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "title": gettext("The room is filling up"),
            "text": gettext("Many people are coming in at the same time. This page will try again by itself in "
                            "%(seconds)s seconds: please keep it open."),
            "again": gettext("Try again now"),
        }


class StormGate(Busy):
    """ASGI middleware: at most `limit` requests on the storm paths at once in this process (0: no bound), more in
    line for up to `queue_seconds`."""

    def __init__(self, app, *, limit: int, retry_after: int, queue_seconds: float = 0,
                 paths: re.Pattern = STORM_PATHS):
        super().__init__(limit, retry_min=retry_after)
        self.queue_seconds = queue_seconds  # the longest a request stands in line for a ticket (0: no line)
        self.app = app
        self.paths = paths
        self._texts: dict[str, dict[str, str]] = {}
        self._busy_pages = self._latest_due = 0  # since the last summary line
        self._summary = None  # the summary line's timer while a storm lasts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.limit or not self.paths.search(scope["path"]):
            return await self.app(scope, receive, send)
        due = self._appointment(scope)
        if due is not None and due > time.time() + 1:  # early: the same appointment again
            return await self.busy(scope, send, due=due)
        if self.full() and self.queue_seconds > 0:
            admitted, receive = await self._stand_in_line(receive, returning=due is not None)
            if admitted is None:  # the client left while in line: nobody to answer
                return None
        else:
            admitted = await self.turn(self.queue_seconds, returning=due is not None)
        if not admitted:
            return await self.busy(scope, send)
        try:
            return await self.app(scope, receive, send)
        finally:
            self.release()

    async def _stand_in_line(self, receive, *, returning: bool):
        """`turn`, watching the client while the request stands in line: (True or False as `turn` answers, the
        `receive` to hand on), or (None, None) when the client left first; its place then passes on, and Django
        never sees the request. The request's body (one message for the storm paths' GETs) is read first, to see a
        disconnect behind it, and replayed to the application."""
        first = await receive()
        if first["type"] == "http.disconnect":
            return None, None
        messages = [first]

        async def replay():
            return messages.pop(0) if messages else await receive()

        waiting = asyncio.ensure_future(self.turn(self.queue_seconds, returning=returning))
        if first.get("more_body"):  # a streamed body: the application reads the rest; no watching
            return await waiting, replay
        watching = asyncio.ensure_future(receive())
        try:
            await asyncio.wait((waiting, watching), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the server gave up on the request: no ticket may stay taken
            watching.cancel()
            self._give_back(waiting)
            raise
        if watching.done():
            message = watching.result() if watching.exception() is None else {"type": "http.disconnect"}
            if message["type"] == "http.disconnect":
                self._give_back(waiting)
                return None, None
            messages.append(message)
        else:
            watching.cancel()
        return await waiting, replay

    def _give_back(self, waiting: asyncio.Future) -> None:
        """Leaves the line: a ticket already handed to `waiting` passes on; otherwise its place is given up (`turn`
        passes on a ticket that comes in the same moment)."""
        if not waiting.done():
            waiting.cancel()
        elif not waiting.cancelled() and waiting.exception() is None and waiting.result():
            self.release()

    def _appointment(self, scope) -> int | None:
        """The due time of a valid appointment this request carries back (signed for its path), else None: in the
        refresh address's query, or in the cookie the busy page set (a visitor who reloads the page by hand)."""
        query = scope.get("query_string", b"")
        ticket = dict(parse_qsl(query.decode("latin-1"))).get(TURN, "") if TURN.encode() in query else ""
        if not ticket:
            ticket = self._cookie(scope, TURN_COOKIE) or ""
        due_text, _, signature = ticket.partition(".")
        if not due_text.isdigit() or len(due_text) > 12:
            return None
        due = int(due_text)
        if not constant_time_compare(signature, _turn_signature(scope["path"], due)):
            return None
        return due if due + TURN_KEPT > time.time() else None

    def _summarise(self) -> None:
        """The storm in one WARNING line every SUMMARY_SECONDS while it lasts, the last one after its last busy page
        (each busy page itself is an INFO line of the access log, academy/serve.py)."""
        logger.warning("busy: %d busy pages in %g s on the join links and room pages (%d in flight, %d in line); "
                       "appointments up to %d s ahead", self._busy_pages, SUMMARY_SECONDS, self.in_flight,
                       len(self._line) + len(self._first), max(0, self._latest_due - time.time()))
        self._busy_pages = self._latest_due = 0
        self._summary = None

    @staticmethod
    def _cookie(scope, name: str) -> str | None:
        for header, value in scope.get("headers", ()):
            if header == b"cookie":
                return parse_cookie(value.decode("latin-1")).get(name)
        return None

    def _language(self, scope) -> str:
        chosen = self._cookie(scope, settings.LANGUAGE_COOKIE_NAME)
        return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

    async def busy(self, scope, send, *, due: int | None = None) -> None:
        """The 503 page: no database, no cache, no session; the same path again at the appointment it gives (or
        gave before: `due`), which the refresh address carries back signed."""
        now = time.time()
        if due is None:
            seconds = self.appoint(APPOINTMENT_MAX)
            due = math.ceil(now + seconds)
        else:
            seconds = max(1, math.ceil(due - now))
        self._busy_pages += 1
        self._latest_due = max(self._latest_due, due)
        if self._summary is None:
            self._summary = asyncio.get_running_loop().call_later(SUMMARY_SECONDS, self._summarise)
        ticket = f"{due}.{_turn_signature(scope['path'], due)}"
        query = [(name, value) for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
                 if name != TURN] + [(TURN, ticket)]
        again_url = html.escape(quote(scope.get("root_path", "") + scope["path"]) + "?" + urlencode(query))
        language = self._language(scope)
        texts = self._texts.get(language)
        if texts is None:
            texts = self._texts[language] = _texts(language)
        body = PAGE.format(lang=language, seconds=seconds, again_url=again_url, title=html.escape(texts["title"]),
                           text=html.escape(texts["text"] % {"seconds": seconds}),
                           again=html.escape(texts["again"])).encode()
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
            (b"cache-control", b"no-store"),
            # Nothing to load: no script, no style, no image; the token in a join link's path goes nowhere.
            (b"content-security-policy", b"default-src 'none'; base-uri 'none'; form-action 'none'"),
            (b"referrer-policy", b"no-referrer"),
            # The same appointment for a reload by hand (which asks for this page's own address, without `turn`).
            (b"set-cookie", (f"{TURN_COOKIE}={ticket}; Path={quote(scope.get('root_path', '') + scope['path'])}; "
                             f"Max-Age={seconds + TURN_KEPT}; HttpOnly; SameSite=Lax"
                             + ("; Secure" if scope.get("scheme") == "https" else "")).encode()),
            (b"x-content-type-options", b"nosniff"),
        ]})
        await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})
