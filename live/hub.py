"""The per-process room hub: one channel-layer subscription per room and process, local fan-out of ready texts.

Stock Channels gives every consumer its own channel and delivers each group message to each of them through the
channel layer, its receive loop and `dispatch` (with a database clean-up hop per message). Here each Daphne process
holds, per room, ONE channel added to the room's group (`live-session-<pk>`) and one receive loop. An event arrives
once per process, already serialised (live/events.py); the hub puts events back in `seq` order and hands the text to
every local connection's way out (an `Outlet`, live/outlet.py), choosing the participants' or the moderators' text.

- Order: events are delivered strictly by `seq`. One that arrives early waits for the ones before it; if they do not
  come within `GAP_WAIT` seconds, they are read from the history (live/history.py). If the history no longer has
  them (or the room's epoch changed: Redis restarted), every local connection gets a fresh snapshot in place
  (`RoomHub.restart`: a `snapshot` with `"reset": true` on the open socket, read through the group commit).
- Lost messages: each hub also compares its last seq with the history's about once a second and reads
  what pub/sub did not bring (a Redis restart can silently end a subscription); a new epoch restarts the room.
- Counters (`counts`, live/counters.py): vote counts, poll tallies and the participant count are not events; the
  hub's ticker has its `RoomCounters` send them every `LIVE_COUNTS_INTERVAL` seconds.
- Limits (live/limits.py): the room's per-user vote and poll-answer limits in this process, `RoomHub.limits`.
- The registry at the bottom: one hub per room and event loop (`get_hub`), dropped a few seconds after its last
  connection leaves.

A join, from the socket to the snapshot: live/consumers.py `RoomConsumer._join` admits the user (live/joins.py),
makes the connection's `Outlet`, `RoomHub.join`s it (starting the hub: the group subscription and the history's
current seq), then sends a replay or a snapshot and `Outlet.open`s it, releasing the events held meanwhile.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
import weakref

from channels.layers import get_channel_layer

from live.admission import Entrance
from live.counters import PROCESS_ID, RoomCounters, counts_interval
from live.history import Entry, get_history
from live.limits import RoomLimits
from live.outlet import CLOSE_BANNED, CLOSE_RESYNC, CLOSE_TOO_SLOW, Outlet, Roster

__all__ = ["CLOSE_BANNED", "CLOSE_RESYNC", "CLOSE_TOO_SLOW", "PROCESS_ID", "Outlet", "RoomHub", "counters_changed",
           "get_hub", "group_name", "local_hubs"]

logger = logging.getLogger(__name__)

GAP_WAIT = 0.2
HISTORY_CHECK_SECONDS = 1.0
HUB_IDLE_SECONDS = 5.0


def group_name(session_id: int) -> str:
    return f"live-session-{session_id}"


class RoomHub:
    """This process's end of one room."""

    def __init__(self, session_id: int):
        self.session_id = session_id
        self.group = group_name(session_id)
        self.layer = get_channel_layer()
        self.history = get_history()
        self.outlets: Roster = Roster()  # the connections (Outlet → None) and the fan-out to them
        self.users: collections.Counter = collections.Counter()
        self.channel: str | None = None
        self.last_seq = 0
        self.epoch: str | None = None
        self.pending: dict[int, Entry] = {}
        self.gap_task: asyncio.Task | None = None
        self.tasks: list[asyncio.Task] = []
        self.started: asyncio.Future | None = None
        self.idle_handle: asyncio.TimerHandle | None = None
        self.counters = RoomCounters(session_id, self.history)
        self.limits = RoomLimits()
        self.history_checked = 0.0
        self.behind: int | None = None
        # Bumped whenever state that snapshots show changes (an event, a counts flush): snapshot caches key on it.
        self.version = 0
        # What every join of the room reads alike: admission facts, the snapshot's shared parts (live/admission.py).
        self.entrance = Entrance()
        self.restarts = 0  # bumped by `restart`: a snapshot read before it is read again

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
        if self.started is not None and not self.started.done():
            # Stopped while starting: let the start finish, or its receive loop and ticker would run on for ever
            # (a test's event loop then never closes), subscribed to a group nobody leaves.
            try:
                await asyncio.shield(self.started)
            except Exception:  # noqa: BLE001 - a start that failed has nothing to stop
                logger.warning("live hub: stopped while its start failed", exc_info=True)
        for task in self.tasks:
            task.cancel()
        if self.gap_task:
            self.gap_task.cancel()
        if self.channel:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception:  # noqa: BLE001
                logger.warning("live hub: leaving the group failed", exc_info=True)
        await self.counters.write_presence(0)

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

    def restart(self, epoch: str | None, seq: int, why: str) -> None:
        """The room's history started again (a new epoch: Redis restarted, or a change could not be numbered), or
        events this hub never delivered are gone: every connection here gets a fresh snapshot IN PLACE (a `snapshot`
        with `"reset": true`, docs/live-protocol.md), not a close and 20,000 reconnects. Its outlet holds the events
        that arrive meanwhile (they follow the snapshot); the snapshot is read like a join's, through the group
        commit (the shared part once per room and batch, the personal parts batched: live/admission.py), by the
        connection's `reset_in_place`. A connection still joining or being reset sees the change itself and reads its
        snapshot again (what it held is dropped); one that cannot be reset is closed with 4409."""
        logger.warning("live room %s: %s; every connection gets a fresh snapshot in place", self.session_id, why)
        self.epoch, self.last_seq = epoch, seq
        self.pending.clear()
        self.behind = None
        self.version += 1
        self.restarts += 1
        for outlet in list(self.outlets):
            owner = getattr(outlet, "owner", None)
            if outlet.closed:
                continue
            if outlet.joining is not None:  # joining or being reset: that sees `restarts` or the new epoch itself and
                outlet.joining.clear()  # reads again; what it held came before the restart
                outlet.sent_seq = 0
                continue
            if owner is None:
                outlet.drop(CLOSE_RESYNC)
                continue
            outlet.joining, outlet.sent_seq = [], 0  # hold what comes until the snapshot is sent
            owner.reset_in_place()
        self.outlets.stale = True  # held outlets leave the fan-out lists until their snapshot is sent (Outlet.open)

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
                    self.counters.mark(message.get("q", ()), message.get("p", ()))
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
        if epoch != self.epoch:  # the history started again (a new Redis): everyone here gets a fresh snapshot
            self.restart(epoch, entry.seq - 1, "history epoch changed")
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
        self.outlets.deliver(entry.public, entry.moderator, entry.seq)

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
                        pending = self.pending
                        self.restart(self.epoch, upto, f"events {self.last_seq + 1}-{upto} lost")
                        self.pending = pending  # those after the gap are delivered (held) still
                while self.last_seq + 1 in self.pending:
                    self._deliver(self.pending.pop(self.last_seq + 1))
                for seq in [s for s in self.pending if s <= self.last_seq]:
                    del self.pending[seq]
        finally:
            self.gap_task = None

    # --- every tick: the history check and the counters ---------------------------------------------------
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
                await self.counters.flush(self, counts_for)
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
            self.restart(epoch, seq, "history epoch changed")
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

    def participants_here(self) -> int:
        return len(self.users)

    @property
    def participants_sent(self) -> int | None:
        """The participant count this hub last sent in `counts` (None before the first)."""
        return self.counters.participants_sent


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
