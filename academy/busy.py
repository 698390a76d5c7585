"""A per-process bound on work in flight, with an early refusal that says when to come back: `Busy`.

Two storms use it: the HTTP one on the join links and room pages (academy/gate.py `StormGate`, a 503 page with
Retry-After) and the WebSocket one on room joins (live/limits.py `JoinGate`, close code 4503 "busy: retry after N s").
Past what a process can answer, every piece of work it takes on makes all the others slower, until none is done
before its client gives up (the storm of 30 November, issue 16). So a process works on at most `limit` at once and
refuses one more at once, for almost no CPU, with a time to come back.

How long to wait adapts to the storm. With 15,000 phones waiting, a fixed 3-6 s would bring back 3,000 retries a
second, and answering them alone would take the CPU the admitted ones need. So each second the process compares its
refusals with the work it finished: the wait is scaled by refusals ÷ (`target_refusals` × pieces done), bounded to
×0.5–×2 a second and to `retry_min`–`retry_max`. The refused then come back at about the rate the process gets
through its work: a crowd that retries sooner costs refusals, one that retries later leaves the process idle. A
process quiet for over two seconds starts again from `retry_min`. The target is the price of a refusal:
TARGET_REFUSALS (5) for a 503 page, which costs the process little; a refused WebSocket has already cost its whole
handshake, so the joins aim at one. Each refusal's time is jittered (the wait times a factor drawn from `jitter`), so
that the retries do not come back together.

Counting work done rather than work admitted matters after a lost host (issue 16): its crowd arrives while the
survivors' bounds are full of joins that take seconds each, so admissions lag, and a wait that tracked them grew
too slowly (everyone back after 101 s in the 20,000 host rehearsal, against 58 s with the rule above).

A request that can wait (an HTTP page: its client is a browser that waits for an answer) may also stand in line
(`turn`): first come, first served, for up to a few seconds, the ticket passing from the request that finishes
straight to the first in line. Waiting in line costs no CPU, and its order is fair; a refusal costs a request every
retry and its order is a lottery, which in a storm keeps the unlucky out for minutes. The line is never longer than
what the process finished in its last second (at least `limit`) times the seconds one may wait: a request that
could not be served in time is refused at once.

This module imports no models (live/transport.py uses JoinGate before Django's apps are loaded).
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable

TARGET_REFUSALS = 5  # refusals per admission a full process aims at: enough retries to keep it busy, few enough


class Busy:
    """At most `limit` (a number, or a callable read at each admission) pieces of work in flight in this process;
    `take()` a ticket, `release()` it when done; over the bound, `refuse()` gives the seconds to announce."""

    def __init__(self, limit: int | Callable[[], int], *, retry_min: float, retry_max: float,
                 jitter: tuple[float, float], target_refusals: float = TARGET_REFUSALS):
        self._limit = limit
        self.retry_min = float(max(1, retry_min))
        self.retry_max = float(max(self.retry_min, retry_max))
        self.target_refusals = target_refusals  # refusals per admission above which the wait grows
        self.jitter = jitter  # the announced time is the wait times a factor drawn uniformly from this range
        self.in_flight = 0
        self.admitted = self.refused = 0  # since the process started (tests; figures for the logs and benchmarks)
        self.wait = self.retry_min  # the wait now, before jitter (see the module's docstring)
        self._second = int(time.monotonic())
        self._window_done = self._window_refused = 0
        self._done_last_second = 0
        self._line: deque[asyncio.Future] = deque()  # `turn`'s waiters, first come first served

    @property
    def limit(self) -> int:
        return self._limit() if callable(self._limit) else self._limit

    def full(self) -> bool:
        return self.in_flight >= self.limit

    def take(self) -> bool:
        """A ticket for one piece of work, or False when the process is busy (then answer with `refuse()`)."""
        self._adapt()
        if self.full():
            return False
        self.in_flight += 1
        self.admitted += 1
        return True

    async def turn(self, seconds: float) -> bool:
        """A ticket, standing in line for up to `seconds` when the process is full; False when none came in time or
        the line was already longer than the process can serve in that time (then answer with `refuse()`)."""
        if self.take():
            return True
        if seconds <= 0 or len(self._line) >= max(self.limit, self._done_last_second) * seconds:
            return False
        loop = asyncio.get_running_loop()
        place = loop.create_future()
        self._line.append(place)
        timer = loop.call_later(seconds, lambda: place.done() or place.set_result(False))
        try:
            return await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled() and place.result():
                self.release()  # handed a ticket in the moment the client left: pass it on
            raise
        finally:
            timer.cancel()

    def release(self) -> None:
        self._window_done += 1
        while self._line:
            place = self._line.popleft()
            if not place.done():  # not timed out, not left
                place.set_result(True)  # the ticket passes on: as many in flight as before
                self.admitted += 1
                return
        self.in_flight -= 1

    def refuse(self) -> int:
        """Counts a refusal; the whole seconds (at least 1) the refused client is told to wait."""
        self._adapt()
        self.refused += 1
        self._window_refused += 1
        return max(1, round(self.wait * random.uniform(*self.jitter)))  # noqa: S311 - jitter, not a secret

    def _adapt(self) -> None:
        """Once a second: scale the wait by the refusals per piece of work done, over the target (module docstring)."""
        second = int(time.monotonic())
        if second == self._second:
            return
        if second - self._second > 2:  # nothing for a while: the storm is over
            self.wait = self.retry_min
        else:
            ratio = self._window_refused / (self.target_refusals * max(1, self._window_done))
            self.wait = min(self.retry_max, max(self.retry_min, self.wait * min(2.0, max(0.5, ratio))))
        self._done_last_second = self._window_done if second - self._second == 1 else 0
        self._second, self._window_done, self._window_refused = second, 0, 0
