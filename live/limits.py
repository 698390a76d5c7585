"""Rate limits the room keeps in this process's memory (a vote storm must not cost a cache round trip per vote).

- `TokenBucket`: a connection's flood guard (every command counts), held by the consumer.
- `RoomLimits`: per user, room and process, votes and poll answers (`WindowLimit`s), held by the room's hub as
  `RoomHub.limits`; it lives as long as the hub does (the hub of a room nobody is in is dropped after a few seconds).
- `JoinGate` (`gate`): the process's bound on joins in flight (an academy/busy.py `Busy`), for the consumer and
  live/transport.py alike (this module imports no models, so that the transport can use it before Django's apps are
  loaded).
"""
from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from academy.busy import Busy


class TokenBucket:
    """`rate` tokens per `per` seconds, at most `rate` at once (the per-connection flood guard)."""

    __slots__ = ("rate", "per", "tokens", "stamp")

    def __init__(self, rate: int, per: float):
        self.rate, self.per, self.tokens, self.stamp = rate, per, float(rate), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate / self.per)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class WindowLimit:
    """At most `limit` events in a window of `window` seconds that starts with the first one (as academy.ratelimit,
    but in this process's memory)."""

    __slots__ = ("limit", "window", "count", "start")

    def __init__(self, limit: int, window: float):
        self.limit, self.window, self.count, self.start = limit, window, 0, 0.0

    def take(self) -> bool:
        now = time.monotonic()
        if now - self.start >= self.window:
            self.start, self.count = now, 0
        self.count += 1
        return self.count <= self.limit


# kind -> (at most, per seconds), per user and room.
ROOM_LIMITS = {"vote": (30, 10.0), "poll": (10, 10.0)}


class RoomLimits:
    """One room's per-user limits in this process: votes 30 per 10 s, poll answers 10 per 10 s."""

    __slots__ = ("windows",)

    def __init__(self):
        self.windows: dict[tuple[str, int], WindowLimit] = {}

    def take(self, kind: str, user_id: int) -> bool:
        window = self.windows.get((kind, user_id))
        if window is None:
            window = self.windows[(kind, user_id)] = WindowLimit(*ROOM_LIMITS[kind])
        return window.take()


# A process over its bound on joins in flight refuses a connect with this code, the reason saying when to come back.
CLOSE_BUSY = 4503
BUSY_REASON = "busy: retry after {seconds} s"
BUSY_RETRY_MIN, BUSY_RETRY_MAX = 1.0, 30.0  # 30: room.js's longest back-off


def joins_in_flight_limit() -> int:
    try:
        return getattr(settings, "LIVE_JOINS_IN_FLIGHT", 500)
    except ImproperlyConfigured:  # live/transport.py under an application without Django settings (its tests)
        return 500


class JoinGate(Busy):
    """This process's bound on joins in flight: connects accepted and not yet joined (queued for the group commit or
    being handled), `LIVE_JOINS_IN_FLIGHT` (read at each connect). Over it a connect is refused at once with 4503 and
    a time to come back: live/transport.py refuses under Daphne before any ASGI application exists for the socket
    (the cheapest answer there is), the consumer refuses those that got past that in the same moment (and under
    other servers). The time is `Busy.refuse`'s wait (a socket carries no appointment back): it follows the refusals
    per join done, within 1-30 s, jittered ±50 % (room.js adds jitter of its own)."""

    def __init__(self):
        # A refused WebSocket has cost its whole handshake (about half a join): aim at one refusal per join done.
        super().__init__(joins_in_flight_limit, retry_min=BUSY_RETRY_MIN, retry_max=BUSY_RETRY_MAX,
                         jitter=(0.5, 1.5), target_refusals=1)

    def refusal_reason(self) -> str:
        """Counts a refusal; the close reason that tells the client when to try again."""
        return BUSY_REASON.format(seconds=self.refuse())


gate = JoinGate()
