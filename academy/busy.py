"""A per-process bound on work in flight, with a line and appointments for what is over it: `Busy`.

Two storms use it: the HTTP one on the join links and room pages (academy/gate.py `StormGate`, a 503 page with
Retry-After) and the WebSocket one on room joins (live/limits.py `JoinGate`, close code 4503 "busy: retry after N s").
Past what a process can answer, every piece of work it takes on makes all the others slower, until none is done
before its client gives up (the storm of 30 November, issue 16). So a process works on at most `limit` at once.

What comes over the bound:
- A request that can wait (an HTTP page: its client is a browser that waits for an answer) stands in line (`turn`):
  first come, first served, for up to a few seconds, the ticket passing from the request that finishes straight to
  the first in line. Waiting costs no CPU and its order is fair. The line is never longer than what the process
  finished in its last second (at least `limit`) times the seconds one may wait: a request that could not be served
  in time is not held.
- Otherwise it is refused at once, for almost no CPU, with an appointment (`appoint`): the next free slot of a
  schedule that advances at the rate the process finishes its work (learnt in each second it was full, smoothed;
  raised in each second it was not full while appointments were outstanding; the schedule runs a quarter ahead of
  it), behind those in line and those appointed before. The refused come back at the rate the process takes them, in
  the order they came. A fixed wait does not do that (15,000 phones told 3-6 s come back 3,000 times a second, and
  answering them takes the CPU the admitted ones need), nor does a wait that grows while refusals outnumber the work
  done, as both gates did before: its order was a lottery, and whoever was refused at the peak was told to come back
  after up to a minute, even when the process had room sooner (issue 16: a tenth of 20,000 link taps gave up after
  two minutes; after a lost host the last of its crowd was back after 98 s while the survivors used 44 % of a core).
- A client that carries its appointment back (the 503 page's refresh address, academy/gate.py) and comes on time
  stands in the first line (`turn(…, returning=True)`), served before newcomers, and a newcomer does not stand in
  line while appointments are outstanding: it gets the next one.
- A client that cannot carry an appointment back (a WebSocket: room.js opens the same address again) gets a wait
  instead (`refuse`): each second the process scales it by its refusals per piece of work done, over
  `target_refusals`, at most ×2 and at least ×0.5, within `retry_min`-`retry_max`, jittered; a process quiet for
  two seconds starts again from `retry_min`. Appointments do not work without the ticket: every retry of the same
  client takes a new slot, so the schedule stretches with the retries rather than with the clients. Measured in
  the 20,000 host rehearsal (bench/live_hosts.py), a lost host's crowd back p99: 42.9 s with this wait, 100.2 s with
  appointments, 55-101 s with a wait that grew ×1.5 while refusals outnumbered admissions.

This module imports no models (live/transport.py uses JoinGate before Django's apps are loaded).
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable

# The schedule runs a little ahead of the rate learnt while full: that rate was measured at the peak, when the
# process shared the CPU with the storm itself, and the first line absorbs an early return at no cost, while a late
# schedule leaves the process idle with clients waiting at home (10,000 taps in 30 s: 15-35 % of the CPU idle in
# the minute after them while the last appointments came due).
OPTIMISM = 1.25
RATE_RAISE = 1.25  # each second the process was never full while appointments were outstanding


class Busy:
    """At most `limit` (a number, or a callable read at each admission) pieces of work in flight in this process;
    `take()` (or `await turn()`) a ticket, `release()` it when done; over the bound, `appoint()` gives the seconds
    to announce."""

    def __init__(self, limit: int | Callable[[], int], *, retry_min: float, retry_max: float | None = None,
                 jitter: tuple[float, float] = (1.0, 1.0), target_refusals: float = 1.0):
        self._limit = limit
        self.retry_min = float(max(1, retry_min))  # the soonest appointment or wait, in seconds
        self.retry_max = float(max(self.retry_min, retry_max or self.retry_min))  # `refuse`'s longest wait
        self.jitter = jitter  # `refuse`: the announced time is the wait times a factor drawn from this range
        self.target_refusals = target_refusals  # `refuse`: refusals per piece done above which the wait grows
        self.wait = self.retry_min  # `refuse`'s wait now, before jitter
        self.in_flight = 0
        self.admitted = self.refused = 0  # since the process started (tests; figures for the logs and benchmarks)
        self.rate = float(max(1, self.limit))  # pieces done per second, learnt while full (the schedule's pace)
        self._next_slot = 0.0  # time.time() of the last appointment given
        self._line: deque[asyncio.Future] = deque()  # `turn`'s waiters, first come first served
        self._first: deque[asyncio.Future] = deque()  # back on their appointment: served before `_line`
        self._second = int(time.monotonic())
        self._done = self._done_last_second = self._refused = 0  # this second's
        self._was_full = False

    @property
    def limit(self) -> int:
        return self._limit() if callable(self._limit) else self._limit

    def full(self) -> bool:
        return self.in_flight >= self.limit

    def take(self) -> bool:
        """A ticket for one piece of work, or False when the process is busy (then answer with `appoint()`)."""
        self._tick()
        if self.full():
            self._was_full = True
            return False
        self.in_flight += 1
        self.admitted += 1
        return True

    async def turn(self, seconds: float, *, returning: bool = False) -> bool:
        """A ticket, standing in line for up to `seconds` when the process is full; False when none came in time, or
        the line was already longer than the process can serve in that time, or (for a newcomer) appointments are
        outstanding (then answer with `appoint()`). `returning`: back on an appointment, first in line."""
        if self.take():
            return True
        if seconds <= 0:
            return False
        if returning:
            line = self._first
        elif self._next_slot > time.time() or len(self._line) >= max(self.limit, self._done_last_second) * seconds:
            return False
        else:
            line = self._line
        loop = asyncio.get_running_loop()
        place = loop.create_future()
        line.append(place)
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
        self._done += 1
        for line in (self._first, self._line):
            while line:
                place = line.popleft()
                if not place.done():  # not timed out, not gone
                    place.set_result(True)  # the ticket passes on: as many in flight as before
                    self.admitted += 1
                    return
        self.in_flight -= 1

    def refuse(self) -> int:
        """Counts a refusal; the whole seconds (at least 1) a client that cannot carry an appointment is told to
        wait (the module's docstring)."""
        self._tick()
        self.refused += 1
        self._refused += 1
        return max(1, round(self.wait * random.uniform(*self.jitter)))  # noqa: S311 - jitter, not a secret

    def appoint(self, longest: float) -> int:
        """Counts a refusal; the whole seconds (at least 1, at most `longest`) until the refused client's
        appointment: the next slot after those in line and those appointed before, at the rate work is done."""
        self._tick()
        self.refused += 1
        now = time.time()
        rate = self.rate * OPTIMISM
        ahead = (len(self._first) + len(self._line)) / rate
        self._next_slot = max(self._next_slot, now + ahead + self.retry_min) + 1 / rate
        return max(1, round(min(self._next_slot, now + longest) - now))

    def _tick(self) -> None:
        """Once a second: `refuse`'s wait, what the last second finished, and the schedule's rate."""
        second = int(time.monotonic())
        if second == self._second:
            return
        if second - self._second > 2:  # nothing for a while: the storm is over
            self.wait = self.retry_min
        else:
            ratio = self._refused / (self.target_refusals * max(1, self._done))
            self.wait = min(self.retry_max, max(self.retry_min, self.wait * min(2.0, max(0.5, ratio))))
        self._done_last_second = self._done if second - self._second == 1 else 0
        if self._was_full and self._done_last_second:
            self.rate = 0.5 * self.rate + 0.5 * self._done_last_second
        elif self._next_slot > time.time() and not self._line and not self._first:
            # Appointments are outstanding and nobody waited for a ticket: the schedule is slower than the process.
            self.rate *= RATE_RAISE
        self._second, self._done, self._refused, self._was_full = second, 0, 0, False
