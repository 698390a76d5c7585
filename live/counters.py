"""A room's counters: vote counts, poll tallies and the participant count, sent as `counts`, never as events.

Batches mark what changed (`live.dirty` messages, and `hub.counters_changed` in the process that committed); every
`LIVE_COUNTS_INTERVAL` seconds (0.3) the hub's ticker calls `RoomCounters.flush`, which reads the exact values from
the database once and sends one `counts` text to the hub's connections. The participant count is the distinct users
of this process's hub plus, with Redis, the other processes' last reports (a hash per room, `live:{<pk>}:presence`,
one field per process; a report older than `PRESENCE_STALE_SECONDS` is a process that died).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.conf import settings

if TYPE_CHECKING:
    from live.hub import RoomHub

# Names this process in attendance spans and presence counts.
PROCESS_ID = uuid.uuid4().hex

PRESENCE_STALE_SECONDS = 30


def participants_interval() -> float:
    return getattr(settings, "LIVE_PARTICIPANTS_INTERVAL", 2.0)


def counts_interval() -> float:
    return getattr(settings, "LIVE_COUNTS_INTERVAL", 0.3)


def presence_key(session_id: int) -> str:
    return f"live:{{{session_id}}}:presence"


class RoomCounters:
    """What one hub has to send in its next `counts`, and what it last sent and reported."""

    __slots__ = ("session_id", "history", "dirty_questions", "dirty_polls", "participants_sent",
                 "participants_pushed", "presence_written")

    def __init__(self, session_id: int, history):
        self.session_id = session_id
        self.history = history
        self.dirty_questions: set[int] = set()
        self.dirty_polls: set[int] = set()
        self.participants_sent: int | None = None
        self.participants_pushed = 0.0
        self.presence_written = (None, 0.0)

    def mark(self, questions=(), polls=()) -> None:
        """A batch changed these questions' votes and these polls' tallies."""
        self.dirty_questions.update(questions)
        self.dirty_polls.update(polls)

    async def flush(self, hub: RoomHub, counts_for) -> None:
        participants = await self.participants(hub.participants_here())
        questions, polls = self.dirty_questions, self.dirty_polls
        if not questions and not polls:
            # Only the participant count changed: under a join burst it changes on every tick, and a `counts`
            # to every connection every 0.3 s is most of the server's work; send it at most every
            # LIVE_PARTICIPANTS_INTERVAL seconds. (Snapshots read the count from the hub, not from the cache.)
            now = time.monotonic()
            if participants == self.participants_sent or now - self.participants_pushed < participants_interval():
                return
            self.participants_pushed = now
            votes, tallies, respondents = {}, {}, {}
        else:
            self.dirty_questions, self.dirty_polls = set(), set()
            votes, tallies, respondents = await database_sync_to_async(counts_for)(
                question_ids=questions, poll_ids=polls)
            hub.version += 1  # cached snapshots show old counts now
        self.participants_sent = participants
        message = {"type": "counts", "votes": votes, "polls": tallies, "respondents": respondents,
                   "participants": participants}
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        hub.outlets.deliver(text, text)

    async def participants(self, here: int) -> int:
        """Distinct users in this room: this process's (`here`), plus (with Redis) the other processes' reports."""
        if not settings.REDIS_URL:
            return here
        await self.write_presence(here)
        client = self.history.client()
        now = time.time()
        total = 0
        for process, value in (await client.hgetall(presence_key(self.session_id))).items():
            count, _, stamp = value.decode().partition(":")
            if process.decode() == PROCESS_ID:
                total += here
            elif now - float(stamp or 0) < PRESENCE_STALE_SECONDS:
                total += int(count)
        return total

    async def write_presence(self, count: int) -> None:
        if not settings.REDIS_URL:
            return
        last_count, last_time = self.presence_written
        now = time.time()
        if count == last_count and now - last_time < PRESENCE_STALE_SECONDS / 3:
            return
        self.presence_written = (count, now)
        client = self.history.client()
        key = presence_key(self.session_id)
        if count:
            await client.hset(key, PROCESS_ID, f"{count}:{now:.0f}")
            await client.expire(key, 3600)
        else:
            await client.hdel(key, PROCESS_ID)
