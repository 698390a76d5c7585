"""One connection's way out of the room hub (live/hub.py): its ASGI `send`, called inline, with a bounded queue.

- An `Outlet` calls the server's `send` inline; under Daphne that returns at once (live/transport.py bounds Twisted's
  buffer underneath, and with it engaged the Outlet writes a ready WebSocket frame without a coroutine at all). When
  a `send` does suspend (another server, a slow test client) the Outlet queues what follows, up to
  `LIVE_OUTBOX_LIMIT` texts, and beyond that closes the connection with 4408 (the client resumes from its last seq).
- While the connection is joining (its snapshot or replay is being prepared) texts are held back and released by
  `open()`, skipping any event whose seq the connection has already been sent.
- `Frames`: an event's WebSocket frames, built at most once per audience for all the Outlets of a process.
"""
from __future__ import annotations

import asyncio
import collections
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

# The codes the hub closes a connection with (docs/live-protocol.md).
CLOSE_TOO_SLOW = 4408
CLOSE_RESYNC = 4409
CLOSE_BANNED = 4410


def outbox_limit() -> int:
    return getattr(settings, "LIVE_OUTBOX_LIMIT", 1000)


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


class Frames:
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
                 "session_key", "roster", "__weakref__")

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
        self.roster: Roster | None = None  # the hub's, once joined

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
        if self.roster is not None:
            self.roster.stale = True  # it may take the shortcut now

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
        if self.roster is not None:
            self.roster.stale = True
        if self.queue is not None:
            self.queue.clear()
        self.joining = None
        try:
            self.on_close(code)
        except Exception:  # noqa: BLE001
            logger.exception("closing a live connection failed")


class Roster(dict):
    """A hub's connections (`Outlet` → None, in join order) and the way a text reaches all of them: `deliver`.

    Nearly every connection is an open Outlet with a Daphne writer (live/transport.py): those are sorted into one
    list of writers per audience, and a frame goes to each list in one `transport.fan_out`, which calls the sockets'
    `send` from C. The rest (joining, a writer-less connection under a test or another server) get `Outlet.push`.
    The lists are sorted again before the next delivery after any change that moves an Outlet between them: a
    connection added or removed here, an Outlet opened or dropped (they mark the roster `stale`). An Outlet in the
    lists is sent every event once, in seq order, as the hub delivers them, without `push`'s check of `sent_seq`:
    so one whose `sent_seq` is ahead of what was delivered (its replay read the newest events from the history
    before the hub had them) stays with `push` until delivery reaches its `sent_seq`.
    """

    __slots__ = ("stale", "direct", "rest", "seq", "ahead")

    def __init__(self):
        super().__init__()
        self.stale = False
        # Per audience (participants, moderators): the Outlets and their writers, in step.
        self.direct: tuple[tuple[list, list], tuple[list, list]] = (([], []), ([], []))
        self.rest: list[Outlet] = []
        self.seq = 0  # the last seq delivered
        self.ahead = 0  # the highest `sent_seq` of an Outlet kept with `push` for being ahead of `seq`

    def __setitem__(self, outlet: Outlet, value) -> None:
        super().__setitem__(outlet, value)
        outlet.roster = self
        self.stale = True

    def __delitem__(self, outlet: Outlet) -> None:
        super().__delitem__(outlet)
        self.stale = True

    def pop(self, outlet: Outlet, *default):
        self.stale = True
        return super().pop(outlet, *default)

    def _sort(self) -> None:
        self.stale = False
        direct, rest, ahead, seq = (([], []), ([], [])), [], 0, self.seq
        for outlet in self:
            if outlet.closed:
                continue
            write = outlet.write
            if write is None or write.send is None or outlet.joining is not None or outlet.queue is not None:
                rest.append(outlet)
            elif outlet.sent_seq > seq:
                rest.append(outlet)
                ahead = max(ahead, outlet.sent_seq)
            else:
                outlets, writers = direct[outlet.moderator]
                outlets.append(outlet)
                writers.append(write)
        self.direct, self.rest, self.ahead = direct, rest, ahead

    def deliver(self, public: str, moderator: str, seq: int = 0) -> None:
        """Hand one text per audience (the same object for both when everyone sees the same) to every connection;
        `seq` 0 for texts outside the event order (`counts`)."""
        from live.transport import fan_out

        if seq and seq <= self.seq:  # the seq started again (a new epoch after a Redis restart)
            self.seq, self.stale = seq - 1, True
        if self.stale:
            self._sort()
        frames = Frames(public, moderator)
        for audience, (outlets, writers) in enumerate(self.direct):
            if writers:
                for index in fan_out(writers, frames.get(bool(audience))):
                    outlets[index].closed = True
                    self.stale = True
        for outlet in self.rest:
            if outlet.write is not None:
                outlet.push(moderator if outlet.moderator else public, seq, frames.get(outlet.moderator))
            else:
                outlet.push(moderator if outlet.moderator else public, seq)
        if seq:
            self.seq = seq
            if self.ahead and seq >= self.ahead:
                self.stale = True  # those Outlets have caught up
