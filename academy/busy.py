"""A per-process bound on work in flight, with an early refusal that says when to come back: `Busy`.

Two storms use it: the HTTP one on the join links and room pages (academy/gate.py `StormGate`, a 503 page with
Retry-After) and the WebSocket one on room joins (live/limits.py `JoinGate`, close code 4503 "busy: retry after N s").
Past what a process can answer, every piece of work it takes on makes all the others slower, until none is done
before its client gives up (the storm of 30 November, issue 16). So a process works on at most `limit` at once and
refuses one more at once, for almost no CPU, with a time to come back.

How long to wait adapts to the storm. With 15,000 phones waiting, a fixed 3-6 s would bring back 3,000 retries a
second, and answering them alone would take the CPU the admitted ones need. So each second the process compares its
refusals with its admissions: above `target_refusals` refusals per admission the wait grows by half (up to
`retry_max`), below half of that it shrinks back towards `retry_min`; a process quiet for over two seconds starts
again from `retry_min`. The target is the price of a refusal: TARGET_REFUSALS (5) for a 503 page, which costs
the process little; a refused WebSocket has already cost its whole handshake, so the joins aim at one. Each
refusal's time is jittered (the wait times a factor drawn from `jitter`), so that the retries do not come back
together.

This module imports no models (live/transport.py uses JoinGate before Django's apps are loaded).
"""
from __future__ import annotations

import random
import time
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
        self._window_admitted = self._window_refused = 0

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
        self._window_admitted += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1

    def refuse(self) -> int:
        """Counts a refusal; the whole seconds (at least 1) the refused client is told to wait."""
        self._adapt()
        self.refused += 1
        self._window_refused += 1
        return max(1, round(self.wait * random.uniform(*self.jitter)))  # noqa: S311 - jitter, not a secret

    def _adapt(self) -> None:
        """Once a second: a longer wait while refusals outnumber admissions by more than `target_refusals`."""
        second = int(time.monotonic())
        if second == self._second:
            return
        target = self.target_refusals * max(1, self._window_admitted)
        if second - self._second > 2:  # nothing for a while: the storm is over
            self.wait = self.retry_min
        elif self._window_refused > target:
            self.wait = min(self.retry_max, self.wait * 1.5)
        elif self._window_refused < target / 2:
            self.wait = max(self.retry_min, self.wait / 1.5)
        self._second, self._window_admitted, self._window_refused = second, 0, 0
