"""The group commit: THE batching idea for everything the room asks of the database.

In each process (each event loop), what connections ask is collected for `LIVE_BATCH_DELAY` seconds (5 ms) or until
`LIVE_BATCH_MAX` (1,000) items are waiting, then done in ONE thread hop (Django's database thread) and one
transaction (live.services.room_batch.room_batch_write):
- the user look-ups of connecting sockets (live/auth.py: sessions and users, two queries for the whole batch);
- joins (live/admission.py: admission, the snapshot's shared and personal parts, the attendance span);
- votes, poll answers, attendance spans opened and closed.
Each sender's future is resolved only after that transaction committed, so an acknowledgement always means
"durable". One batch is done at a time; what arrives meanwhile waits for the next. After each batch the changed
counters are marked dirty for every process's hub (live.events.publish_dirty).

A storm of 20,000 upvotes in ten seconds is thus ~2,000 votes a second in a few dozen transactions, not 20,000; a
burst of a thousand connects a second is a few dozen round trips, each reading the room's shared facts at most once.
"""
from __future__ import annotations

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from live import events
from live import hub
from live.admission import JoinRequest, Joined
from live.auth import UserLookup, load_users
from live.hub import PROCESS_ID
from live.services.room import ERROR_SERVER, RoomError
from live.services.room_batch import (
    BatchResult, PollAnswerInput, SpanClose, SpanOpen, VoteChange, attendance_heartbeat, room_batch_write,
)

logger = logging.getLogger(__name__)


def batch_delay() -> float:
    return getattr(settings, "LIVE_BATCH_DELAY", 0.005)


def batch_max() -> int:
    return getattr(settings, "LIVE_BATCH_MAX", 1000)


def heartbeat_seconds() -> float:
    return getattr(settings, "LIVE_HEARTBEAT_SECONDS", 60)


class Committer:
    def __init__(self):
        self.waiting: list[tuple[object, asyncio.Future | None]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.running: asyncio.Task | None = None
        self.heartbeat: asyncio.Task | None = None
        self.batches = 0  # transactions written (for tests and the benchmark)
        self.items = 0
        self.joins_skipped = 0  # joins whose client had gone before their batch ran (no database work done)
        # This process's open connections: {connection id: its hub Outlet}. The heartbeat extends only their spans.
        self.connections: dict = {}

    # --- submitting -----------------------------------------------------------------------------------------
    def _submit(self, item, *, wait: bool = True) -> asyncio.Future | None:
        loop = asyncio.get_running_loop()
        future = loop.create_future() if wait else None
        self.waiting.append((item, future))
        if self.heartbeat is None:
            self.heartbeat = asyncio.ensure_future(self._beat())
        if self.running is None:
            if len(self.waiting) >= batch_max():
                self._start()
            elif self.timer is None:
                self.timer = loop.call_later(batch_delay(), self._start)
        return future

    async def vote(self, *, session_id: int, question_id: int, user_id: int, add: bool = True) -> dict:
        change = VoteChange(session_id=session_id, question_id=question_id, user_id=user_id, add=add)
        return await self._submit(change)

    async def answer(self, *, session_id: int, poll_id: int, user_id: int, choices: list) -> dict:
        return await self._submit(PollAnswerInput(session_id=session_id, poll_id=poll_id, user_id=user_id,
                                                  choices=choices))

    async def user(self, session_key: str):
        """The user of a Django session key as live.auth.load_users decides (None: not decidable there)."""
        return (await self._submit(UserLookup(session_key)))[0]

    async def enter(self, request: JoinRequest, *, outlet) -> Joined:
        """Admit a connect and read its snapshot; when admitted its span is open and the heartbeat keeps it."""
        if request.connection is not None:
            self.connections[request.connection] = outlet
        request.process, request.at = PROCESS_ID, timezone.now()
        joined = None
        try:
            joined = await self._submit(request)
        finally:
            if request.connection is not None and (joined is None or joined.refusal is not None or joined.undecided
                                                   or joined.left):
                self.connections.pop(request.connection, None)
        return joined

    def leave(self, *, connection: str) -> None:
        """Close a span; nobody waits for it (if the process dies first, the heartbeat bounds the span)."""
        self.connections.pop(connection, None)
        self._submit(SpanClose(connection=connection, at=timezone.now()), wait=False)

    def alive(self) -> set[str]:
        """The connections of this process whose socket is still open."""
        return {connection for connection, outlet in self.connections.items()
                if outlet is None or not outlet.closed}

    async def flush(self) -> None:
        """Write whatever is waiting now (used at shutdown and by tests)."""
        while self.waiting or self.running:
            if self.running is None:
                self._start()
            await asyncio.shield(self.running)

    # --- writing --------------------------------------------------------------------------------------------
    def _start(self) -> None:
        self.timer = None
        if self.running is None and self.waiting:
            self.running = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:batch_max()], self.waiting[batch_max():]
                await self._write(batch)
        finally:
            self.running = None
            if self.waiting and self.timer is None:
                self.timer = asyncio.get_running_loop().call_later(batch_delay(), self._start)

    async def _write(self, batch) -> None:
        self.batches += 1
        self.items += len(batch)
        kinds = {UserLookup: [], JoinRequest: [], VoteChange: [], PollAnswerInput: [], SpanOpen: [], SpanClose: []}
        for item, _ in batch:
            kinds[type(item)].append(item)
        kinds[JoinRequest] = self._present(kinds[JoinRequest])
        try:
            result = await database_sync_to_async(_batch_do)(kinds)
        except Exception:  # noqa: BLE001 - nothing of the batch was written: each item is tried alone
            logger.exception("live batch of %d failed; writing its items one by one", len(batch))
            result = await self._write_one_by_one(batch)
        hub.counters_changed(set(result.dirty_questions) | set(result.dirty_polls))
        for item, future in batch:
            if future is None or future.done():
                continue
            if item.error is not None:
                future.set_exception(item.error)
            else:
                future.set_result(item.result or {})
        sessions = set(result.dirty_questions) | set(result.dirty_polls)
        for session_id in sessions:
            try:
                await events.publish_dirty(session_id=session_id, questions=result.dirty_questions.get(session_id, ()),
                                           polls=result.dirty_polls.get(session_id, ()))
            except Exception:  # noqa: BLE001 - counters catch up at the next change
                logger.warning("live: publishing counters failed", exc_info=True)

    def _present(self, joins: list[JoinRequest]) -> list[JoinRequest]:
        """The joins whose client is still there. A join waits in the queue, and under a burst for longer than some
        clients wait: whoever gave up (closed the socket, or the proxy did for them) costs no look-up, admission,
        snapshot or span."""
        present = []
        for request in joins:
            if request.left is not None and request.left():
                request.result = Joined(left=True)
                self.joins_skipped += 1
            else:
                present.append(request)
        return present

    async def _write_one_by_one(self, batch) -> BatchResult:
        """After a failed batch: every item in its own transaction, so that one bad item fails alone. Its sender
        gets `server_error` with a fixed message (never the exception's text)."""
        result = BatchResult()
        for item, _ in batch:
            if isinstance(item, JoinRequest) and item.result is not None and item.result.left:
                continue  # its client had gone: skipped in the batch too
            item.result = item.error = None
            kinds = {UserLookup: [], JoinRequest: [], VoteChange: [], PollAnswerInput: [], SpanOpen: [], SpanClose: []}
            kinds[type(item)].append(item)
            try:
                one = await database_sync_to_async(_batch_do)(kinds)
            except Exception:  # noqa: BLE001
                logger.exception("live batch item %r failed", item)
                item.result, item.error = None, RoomError("server_error", ERROR_SERVER)
                continue
            for session_id, ids in one.dirty_questions.items():
                result.dirty_questions.setdefault(session_id, set()).update(ids)
            for session_id, ids in one.dirty_polls.items():
                result.dirty_polls.setdefault(session_id, set()).update(ids)
        return result

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(heartbeat_seconds())
            try:
                await self.beat()
            except Exception:  # noqa: BLE001
                logger.warning("live: attendance heartbeat failed", exc_info=True)

    async def beat(self) -> None:
        """Extend the spans of this process's open sockets; close the others (connections that ended unseen)."""
        await self.flush()  # spans opened or closed a moment ago are in the database first
        await database_sync_to_async(attendance_heartbeat)(process=PROCESS_ID, alive=self.alive())


def _batch_do(kinds: dict) -> BatchResult:
    """A batch's database work, in Django's database thread: the look-ups, then one transaction for the rest."""
    lookups = kinds[UserLookup]
    if lookups:
        users = load_users(list(dict.fromkeys(item.session_key for item in lookups)))
        for item in lookups:
            item.result = (users.get(item.session_key),)
    if not any(kinds[kind] for kind in (JoinRequest, VoteChange, PollAnswerInput, SpanOpen, SpanClose)):
        return BatchResult()
    return room_batch_write(joins=kinds[JoinRequest], votes=kinds[VoteChange], answers=kinds[PollAnswerInput],
                            opens=kinds[SpanOpen], closes=kinds[SpanClose])


_committers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def get_committer() -> Committer:
    """This event loop's committer (a Daphne process has one loop)."""
    loop = asyncio.get_running_loop()
    committer = _committers.get(loop)
    if committer is None:
        committer = _committers[loop] = Committer()
    return committer
