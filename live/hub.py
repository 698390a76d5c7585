"""The per-process room hub: one channel-layer subscription per room and process, local fan-out of ready texts.

Stock Channels gives every consumer its own channel and delivers each group message to each of them through the
channel layer, its receive loop and `dispatch` (with a database clean-up hop per message). Here each Daphne process
holds, per room, ONE channel added to the room's group (`live-session-<pk>`) and one receive loop. An event arrives
once per process, already serialised (live/events.py); the hub puts events back in `seq` order and hands the text to
every local connection's ASGI `send` directly (an `Outlet`), choosing the participants' or the moderators' text.

- Order: events are delivered strictly by `seq`. One that arrives early waits for the ones before it; if they do not
  come within `GAP_WAIT` seconds, they are read from the history (live/history.py). If the history no longer has
  them (or the room's epoch changed: Redis restarted), every local connection is closed with 4409 and resumes.
- Lost messages: each hub also compares its last seq with the history's about once a second and reads
  what pub/sub did not bring (a Redis restart can silently end a subscription); a new epoch resynchronises.
- Counters (`counts`): vote counts, poll tallies and the participant count are not events. Batches mark what changed
  (`live.dirty` messages); every `LIVE_COUNTS_INTERVAL` seconds (0.3) each hub reads the exact values from the
  database once and sends one `counts` text to its connections.
- Bounded output: an Outlet calls the server's `send` inline; under Daphne that returns at once (the scale helper's
  live/transport.py bounds Twisted's buffer underneath). When a `send` does suspend (another server, a slow test
  client) the Outlet queues what follows, up to `LIVE_OUTBOX_LIMIT` texts, and beyond that closes the connection
  with 4408 (the client resumes from its last seq).
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
import uuid
import weakref

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from live.admission import Entrance
from live.history import Entry, get_history

logger = logging.getLogger(__name__)

# Names this process in attendance spans and presence counts.
PROCESS_ID = uuid.uuid4().hex

CLOSE_TOO_SLOW = 4408
CLOSE_RESYNC = 4409
CLOSE_BANNED = 4410

GAP_WAIT = 0.2
HISTORY_CHECK_SECONDS = 1.0
HUB_IDLE_SECONDS = 5.0
PRESENCE_STALE_SECONDS = 30


def group_name(session_id: int) -> str:
    return f"live-session-{session_id}"


def outbox_limit() -> int:
    return getattr(settings, "LIVE_OUTBOX_LIMIT", 1000)


def participants_interval() -> float:
    return getattr(settings, "LIVE_PARTICIPANTS_INTERVAL", 2.0)


def counts_interval() -> float:
    return getattr(settings, "LIVE_COUNTS_INTERVAL", 0.3)


class _Resume:
    """Awaits a coroutine that was already started by hand and suspended (what `yield from` does, spelled out)."""

    __slots__ = ("coro", "yielded")

    def __init__(self, coro, yielded):
        self.coro, self.yielded = coro, yielded

    def __await__(self):
        coro, value = self.coro, self.yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - forwarded into the coroutine (cancellation)
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


def _frame(text: str) -> bytes:
    from live.transport import frame

    return frame(text)


class _Frames:
    """An event's WebSocket frames, built at most once per audience, and only if a connection writes frames."""

    __slots__ = ("public", "moderator", "built")

    def __init__(self, public: str, moderator: str):
        self.public, self.moderator, self.built = public, moderator, {}

    def get(self, moderator: bool) -> bytes:
        built = self.built.get(moderator)
        if built is None:
            text = self.moderator if moderator else self.public
            built = self.built[moderator] = (self.built.get(not moderator) if self.moderator is self.public
                                             else None) or _frame(text)
        return built


class Outlet:
    """One connection's way out: the ASGI `send`, called inline, with a bounded queue when it suspends.

    While the connection is joining (its snapshot or replay is being prepared) texts are held back and released by
    `open()`, skipping any event whose seq the connection has already been sent.
    """

    __slots__ = ("send", "write", "user_id", "moderator", "on_close", "sent_seq", "closed", "joining", "queue", "task",
                 "session_key", "__weakref__")

    def __init__(self, send, *, user_id: int, moderator: bool, on_close, write=None, session_key=None):
        self.send = send
        self.session_key = session_key  # the Django session the connection signed in with (log-outs close it)
        # Under Daphne with live/transport.py engaged: a plain function that writes a ready WebSocket frame (built
        # once per event by the hub) to this connection, without a coroutine per message. None elsewhere.
        self.write = write
        self.user_id = user_id
        self.moderator = moderator
        self.on_close = on_close  # called with a close code when the hub drops this connection
        self.sent_seq = 0
        self.closed = False
        self.joining: list | None = []
        self.queue: collections.deque | None = None
        self.task = None

    def push(self, text: str, seq: int = 0, frame: bytes | None = None) -> None:
        if self.closed:
            return
        if self.joining is not None:
            if len(self.joining) >= outbox_limit():
                self.drop(CLOSE_TOO_SLOW)
                return
            self.joining.append((seq, text))
            return
        if seq:
            if seq <= self.sent_seq:
                return
            self.sent_seq = seq
        if self.write is not None and self.queue is None:
            if not self.write(frame if frame is not None else _frame(text)):
                self.closed = True
            return
        self._send(text)

    def open(self, sent_seq: int) -> None:
        """The snapshot (or replay) up to `sent_seq` has been sent: release what arrived meanwhile."""
        held, self.joining = self.joining or [], None
        self.sent_seq = max(self.sent_seq, sent_seq)
        for seq, text in held:
            self.push(text, seq)

    def _send(self, text: str) -> None:
        if self.queue is not None:  # an earlier send is still in progress: keep the order
            if len(self.queue) >= outbox_limit():
                self.drop(CLOSE_TOO_SLOW)
                return
            self.queue.append(text)
            return
        coro = self.send({"type": "websocket.send", "text": text})
        try:
            yielded = coro.send(None)
        except StopIteration:
            return  # done at once: the usual case under Daphne
        except Exception:  # noqa: BLE001 - the connection is gone
            self.closed = True
            return
        self.queue = collections.deque()
        self.task = asyncio.ensure_future(self._drain(coro, yielded))

    async def _drain(self, coro, yielded) -> None:
        try:
            await _Resume(coro, yielded)
            while self.queue and not self.closed:
                await self.send({"type": "websocket.send", "text": self.queue.popleft()})
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            self.closed = True
        finally:
            self.queue = None
            self.task = None

    def drop(self, code: int) -> None:
        """Stop sending to this connection and have it closed with `code`."""
        if self.closed:
            return
        self.closed = True
        if self.queue is not None:
            self.queue.clear()
        self.joining = None
        try:
            self.on_close(code)
        except Exception:  # noqa: BLE001
            logger.exception("closing a live connection failed")


class RoomHub:
    """This process's end of one room."""

    def __init__(self, session_id: int):
        self.session_id = session_id
        self.group = group_name(session_id)
        self.layer = get_channel_layer()
        self.history = get_history()
        self.outlets: dict[Outlet, None] = {}
        self.users: collections.Counter = collections.Counter()
        self.channel: str | None = None
        self.last_seq = 0
        self.epoch: str | None = None
        self.pending: dict[int, Entry] = {}
        self.gap_task: asyncio.Task | None = None
        self.tasks: list[asyncio.Task] = []
        self.started: asyncio.Future | None = None
        self.idle_handle: asyncio.TimerHandle | None = None
        self.dirty_questions: set[int] = set()
        self.dirty_polls: set[int] = set()
        self.participants_sent: int | None = None
        self.participants_pushed = 0.0
        self.presence_written = (None, 0.0)
        self.history_checked = 0.0
        self.behind: int | None = None
        # Bumped whenever state that snapshots show changes (an event, a counts flush): snapshot caches key on it.
        self.version = 0
        # What every join of the room reads alike: admission facts, the snapshot's shared parts (live/admission.py).
        self.entrance = Entrance()

    # --- life cycle ---------------------------------------------------------------------------------------------
    async def ensure_started(self) -> None:
        if self.started is None:
            self.started = asyncio.ensure_future(self._start())
        await asyncio.shield(self.started)

    async def _start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.last_seq, self.epoch = await self.history.current(self.session_id)
        self.tasks = [asyncio.ensure_future(self._receive_loop()), asyncio.ensure_future(self._ticker())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.gap_task:
            self.gap_task.cancel()
        if self.channel:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception:  # noqa: BLE001
                logger.warning("live hub: leaving the group failed", exc_info=True)
        await _write_presence(self, 0)

    # --- connections ----------------------------------------------------------------------------------------
    async def join(self, outlet: Outlet) -> None:
        """Add a connection in joining mode; from now on it gets every event after `self.last_seq`."""
        if self.idle_handle:
            self.idle_handle.cancel()
            self.idle_handle = None
        await self.ensure_started()
        self.outlets[outlet] = None
        self.users[outlet.user_id] += 1

    def leave(self, outlet: Outlet) -> None:
        if self.outlets.pop(outlet, 0) is None:
            self.users[outlet.user_id] -= 1
            if self.users[outlet.user_id] <= 0:
                del self.users[outlet.user_id]
        if not self.outlets and self.idle_handle is None:
            self.idle_handle = asyncio.get_running_loop().call_later(HUB_IDLE_SECONDS, self._idle)

    def _idle(self) -> None:
        self.idle_handle = None
        if not self.outlets:
            _hubs().pop(self.session_id, None)
            asyncio.ensure_future(self.stop())

    def drop_all(self, code: int) -> None:
        for outlet in list(self.outlets):
            outlet.drop(code)

    # --- incoming -------------------------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a broken Redis connection: the layer reconnects
                logger.warning("live hub: receive failed", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            try:
                kind = message.get("type")
                if kind == "live.event":
                    public = message["p"]
                    self.on_event(Entry(message["seq"], public, message.get("m") or public), message["epoch"])
                elif kind == "live.dirty":
                    self.dirty_questions.update(message.get("q", ()))
                    self.dirty_polls.update(message.get("p", ()))
                    self.version += 1  # cached snapshots show old counts now
                elif kind == "live.kick":
                    self.entrance.forget()  # a ban or a lost role: the room's admission facts changed
                    self.kick(message)
                elif kind == "live.entrance":
                    self.entrance.forget()
            except Exception:  # noqa: BLE001
                logger.exception("live hub: bad message %r", message)

    def kick(self, message: dict) -> None:
        """Close the connections of one user (only those signed in with one Django session, or only those holding
        the moderators' stream, when the message says so): bans, log-outs and changed rights (live/access_sync.py)."""
        user_id, code = message["user"], message.get("code", CLOSE_BANNED)
        session_key, moderators_only = message.get("session_key"), message.get("moderators_only", False)
        for outlet in list(self.outlets):
            if outlet.user_id != user_id:
                continue
            if session_key is not None and outlet.session_key != session_key:
                continue
            if moderators_only and not outlet.moderator:
                continue
            outlet.drop(code)

    def on_event(self, entry: Entry, epoch: str) -> None:
        if epoch != self.epoch:
            # The history started again (a new Redis): everyone here resynchronises.
            logger.warning("live room %s: history epoch changed, resynchronising", self.session_id)
            self.drop_all(CLOSE_RESYNC)
            self.epoch, self.last_seq = epoch, entry.seq - 1
            self.pending.clear()
        if entry.seq <= self.last_seq:
            return  # already delivered
        if entry.seq == self.last_seq + 1:
            self._deliver(entry)
            while self.last_seq + 1 in self.pending:
                self._deliver(self.pending.pop(self.last_seq + 1))
            return
        self.pending[entry.seq] = entry
        if self.gap_task is None:
            self.gap_task = asyncio.ensure_future(self._fill_gap())

    def _deliver(self, entry: Entry) -> None:
        self.last_seq = entry.seq
        self.version += 1
        public, moderator, seq = entry.public, entry.moderator, entry.seq
        frames = _Frames(public, moderator)
        for outlet in list(self.outlets):
            if outlet.write is not None:
                outlet.push(moderator if outlet.moderator else public, seq, frames.get(outlet.moderator))
            else:
                outlet.push(moderator if outlet.moderator else public, seq)

    async def _fill_gap(self) -> None:
        try:
            await asyncio.sleep(GAP_WAIT)
            while self.pending:
                upto = min(self.pending) - 1
                if upto > self.last_seq:
                    for entry in await self.history.range(self.session_id, self.last_seq, upto):
                        if entry.seq == self.last_seq + 1:
                            self._deliver(entry)
                    if self.last_seq < upto:
                        logger.warning("live room %s: events %s-%s lost; resynchronising", self.session_id,
                                       self.last_seq + 1, upto)
                        self.drop_all(CLOSE_RESYNC)
                        self.last_seq = upto
                while self.last_seq + 1 in self.pending:
                    self._deliver(self.pending.pop(self.last_seq + 1))
                for seq in [s for s in self.pending if s <= self.last_seq]:
                    del self.pending[seq]
        finally:
            self.gap_task = None

    # --- counters -------------------------------------------------------------------------------------------
    async def _ticker(self) -> None:
        from live.selectors.room import counts_for

        while True:
            await asyncio.sleep(counts_interval())
            try:
                await self.check_history()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis away: the next tick tries again
                logger.warning("live hub: history check failed", exc_info=True)
            try:
                await self.flush_counts(counts_for)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                logger.exception("live hub: counts failed")

    async def check_history(self) -> None:
        """Compare with the room's history now and then: pub/sub delivers at most once (and a subscription lost
        with a Redis restart may never come back; the in-memory layer drops messages for a full channel), so events
        the history holds but the hub did not get within a tick are read from it, and a history that started again
        (a new epoch) resynchronises the room."""
        now = time.monotonic()
        if now - self.history_checked < HISTORY_CHECK_SECONDS:
            return
        self.history_checked = now
        seq, epoch = await self.history.peek(self.session_id)
        if epoch is None:
            return
        if epoch != self.epoch:
            logger.warning("live room %s: history epoch changed, resynchronising", self.session_id)
            self.drop_all(CLOSE_RESYNC)
            self.epoch, self.last_seq = epoch, seq
            self.pending.clear()
            self.behind = None
            return
        if seq <= self.last_seq:
            self.behind = None
            return
        if self.behind != self.last_seq:  # first time seen behind: give pub/sub one more check to catch up
            self.behind = self.last_seq
            return
        logger.warning("live room %s: events %s-%s came only through the history", self.session_id,
                       self.last_seq + 1, seq)
        for entry in await self.history.range(self.session_id, self.last_seq, seq):
            self.on_event(entry, epoch)
        self.behind = None

    async def flush_counts(self, counts_for) -> None:
        participants = await _participants(self)
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
            self.version += 1  # cached snapshots show old counts now
        self.participants_sent = participants
        message = {"type": "counts", "votes": votes, "polls": tallies, "respondents": respondents,
                   "participants": participants}
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        frames = _Frames(text, text)
        for outlet in list(self.outlets):
            outlet.push(text, 0, frames.get(False) if outlet.write is not None else None)

    def participants_here(self) -> int:
        return len(self.users)


async def _participants(hub: RoomHub) -> int:
    """Distinct users in this room: this process's, plus (with Redis) the other processes' last reports."""
    here = hub.participants_here()
    if not settings.REDIS_URL:
        return here
    await _write_presence(hub, here)
    client = hub.history.client()
    now = time.time()
    total = 0
    for process, value in (await client.hgetall(_presence_key(hub.session_id))).items():
        count, _, stamp = value.decode().partition(":")
        if process.decode() == PROCESS_ID:
            total += here
        elif now - float(stamp or 0) < PRESENCE_STALE_SECONDS:
            total += int(count)
    return total


def _presence_key(session_id: int) -> str:
    return f"live:{{{session_id}}}:presence"


async def _write_presence(hub: RoomHub, count: int) -> None:
    if not settings.REDIS_URL:
        return
    last_count, last_time = hub.presence_written
    now = time.time()
    if count == last_count and now - last_time < PRESENCE_STALE_SECONDS / 3:
        return
    hub.presence_written = (count, now)
    client = hub.history.client()
    key = _presence_key(hub.session_id)
    if count:
        await client.hset(key, PROCESS_ID, f"{count}:{now:.0f}")
        await client.expire(key, 3600)
    else:
        await client.hdel(key, PROCESS_ID)


# --- the registry: one hub per room, per event loop (a Daphne process has one loop; tests have one per test) -----
_registry: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hubs() -> dict[int, RoomHub]:
    loop = asyncio.get_running_loop()
    hubs = _registry.get(loop)
    if hubs is None:
        hubs = _registry[loop] = {}
    return hubs


def get_hub(session_id: int) -> RoomHub:
    hubs = _hubs()
    hub = hubs.get(session_id)
    if hub is None:
        hub = hubs[session_id] = RoomHub(session_id)
    return hub


def counters_changed(session_ids) -> None:
    """This process just committed counter changes: its hubs' cached snapshots are stale (before any ack goes out)."""
    hubs = _hubs()
    for session_id in session_ids:
        hub = hubs.get(session_id)
        if hub is not None:
            hub.version += 1


def local_hubs() -> list[RoomHub]:
    return list(_hubs().values())
