"""Rate limits the room keeps in this process's memory (a vote storm must not cost a cache round trip per vote).

- `TokenBucket`: a connection's flood guard (every command counts), held by the consumer.
- `RoomLimits`: per user, room and process, votes and poll answers (`WindowLimit`s), held by the room's hub as
  `RoomHub.limits`; it lives as long as the hub does (the hub of a room nobody is in is dropped after a few seconds).
"""
from __future__ import annotations

import time


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
