"""Each room's sequence numbers and its bounded history of recent events, for resuming after a reconnect.

Appending an event takes the room's next `seq` and stores the event's pre-serialised texts in one atomic step, so
the history holds every event that got a number, in order:

- with `REDIS_URL`: a Lua script does `HINCRBY live:{pk}:state seq 1` and `XADD live:{pk}:events MAXLEN N <seq>-0`
  (the stream entry's ID *is* the seq, so "everything after 41" is `XRANGE 42-0 +`), through a bounded
  `redis.asyncio` pool shared by every process's rooms;
- without it (the embedded set-up, one process): a deque per room in this process.

The room's `epoch` names one run of its history: it is made when the history starts (a fresh Redis, a restarted
embedded process) and clients resuming with another epoch get a snapshot rather than events of another run.

An event's text is `{"type":"event","seq":<seq>,` followed by the rest of its JSON, serialised once by
live/events.py before the seq is known; the seq is spliced in here (in Lua for Redis).
"""
from __future__ import annotations

import asyncio
import collections
import time
import weakref
from dataclasses import dataclass

from django.conf import settings


def event_text(seq: int, rest: str) -> str:
    """The text of an event: `rest` is its JSON without the opening brace, serialised once (live/events.py)."""
    return '{"type":"event","seq":%d,%s' % (seq, rest)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    public: str
    moderator: str  # the same object as `public` when both audiences get the same text

    def text_for(self, moderator: bool) -> str:
        return self.moderator if moderator else self.public


def entries_after(entries, seq: int, epoch: str | None, current: int, current_epoch: str) -> list[Entry] | None:
    """What a client at `seq` (of `epoch`) missed, from `entries` (consecutive, the room's history's tail) and the
    room's `current` seq and epoch: the entries after `seq`, [] when it missed nothing, None when it must take a
    snapshot (another epoch, a seq the room never had, or older than what the history still holds)."""
    if (epoch and epoch != current_epoch) or seq > current or seq < 0:
        return None
    if seq == current:
        return []
    index = seq + 1 - entries[0].seq if entries else -1
    if not 0 <= index < len(entries) or entries[index].seq != seq + 1:
        return None
    return entries[index:]


def _new_epoch() -> str:
    return str(time.time_ns() // 1_000_000)


def history_size() -> int:
    return getattr(settings, "LIVE_HISTORY_SIZE", 2000)


class MemoryHistory:
    """One process's rooms: a counter and a deque each."""

    def __init__(self):
        self.rooms: dict[int, list] = {}  # session id -> [seq, epoch, deque of Entry]

    def _room(self, session_id: int) -> list:
        room = self.rooms.get(session_id)
        if room is None:
            room = self.rooms[session_id] = [0, _new_epoch(), collections.deque(maxlen=history_size())]
        return room

    async def append(self, session_id: int, rest_public: str, rest_moderator: str | None) -> tuple[Entry, str]:
        room = self._room(session_id)
        room[0] += 1
        seq = room[0]
        public = event_text(seq, rest_public)
        entry = Entry(seq, public, event_text(seq, rest_moderator) if rest_moderator is not None else public)
        room[2].append(entry)
        return entry, room[1]

    async def current(self, session_id: int) -> tuple[int, str]:
        room = self._room(session_id)
        return room[0], room[1]

    async def peek(self, session_id: int) -> tuple[int, str | None]:
        room = self.rooms.get(session_id)
        return (room[0], room[1]) if room is not None else (0, None)

    async def since(self, session_id: int, seq: int, epoch: str | None = None) -> list[Entry] | None:
        current, current_epoch = await self.current(session_id)
        return entries_after(list(self.rooms[session_id][2]), seq, epoch, current, current_epoch)

    async def range(self, session_id: int, after: int, upto: int) -> list[Entry]:
        room = self.rooms.get(session_id)
        if room is None:
            return []
        return [entry for entry in room[2] if after < entry.seq <= upto]

    async def restart(self, session_id: int) -> str:
        """Start a new epoch for the room (its seq goes on): every client resumes from a snapshot."""
        room = self._room(session_id)
        room[1] = _new_epoch()
        room[2].clear()
        return room[1]

    async def clear(self) -> None:
        self.rooms.clear()


# KEYS: state hash, events stream. ARGV: max length, new epoch, public rest, moderator rest ('' when the same).
_APPEND = """
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
if seq == 1 then
  redis.call('DEL', KEYS[2])
end
local head = '{"type":"event","seq":' .. seq .. ','
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], seq .. '-0', 'p', head .. ARGV[3], 'm', head .. ARGV[4])
else
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], seq .. '-0', 'p', head .. ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {seq, epoch}
"""

# A room's history is forgotten this long after its last event.
KEY_TTL_SECONDS = 3 * 24 * 3600


class RedisHistory:
    """The rooms of every process: a hash (seq, epoch) and a stream per room, in Redis."""

    def __init__(self, url: str, pool_size: int):
        self.url = url
        self.pool_size = pool_size
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> client
        # event loop -> {room: the `since` asks waiting for the room's next read} (see `since`)
        self._since_asks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def client(self):
        """One client (and bounded, blocking pool) per event loop: redis.asyncio connections belong to a loop."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            import redis.asyncio as redis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialBackoff

            # After a Redis restart every pooled connection is dead, and without a retry its next command fails
            # (a join answered 4500, an event's append lost after its change was committed): a command that meets
            # a closed connection reconnects and is sent again, up to 3 times within about 0.4 s.
            pool = redis.BlockingConnectionPool.from_url(self.url, max_connections=self.pool_size, timeout=10,
                                                         retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 3))
            client = redis.Redis(connection_pool=pool)
            client.live_append = client.register_script(_APPEND)
            self._clients[loop] = client
        return client

    @staticmethod
    def _keys(session_id: int) -> tuple[str, str]:
        return f"live:{{{session_id}}}:state", f"live:{{{session_id}}}:events"

    async def append(self, session_id: int, rest_public: str, rest_moderator: str | None) -> tuple[Entry, str]:
        client = self.client()
        seq, epoch = await client.live_append(
            keys=self._keys(session_id),
            args=[history_size(), _new_epoch(), rest_public, rest_moderator or "", KEY_TTL_SECONDS],
        )
        seq = int(seq)
        epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        public = event_text(seq, rest_public)
        return Entry(seq, public, event_text(seq, rest_moderator) if rest_moderator is not None else public), epoch

    async def current(self, session_id: int) -> tuple[int, str]:
        client = self.client()
        state, _ = self._keys(session_id)
        async with client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(state, "epoch", _new_epoch())
            pipe.hget(state, "seq")
            pipe.hget(state, "epoch")
            pipe.expire(state, KEY_TTL_SECONDS)
            _, seq, epoch, _ = await pipe.execute()
        return int(seq or 0), epoch.decode()

    async def peek(self, session_id: int) -> tuple[int, str | None]:
        """The room's seq and epoch as they are (None for the epoch before the history began); writes nothing."""
        state, _ = self._keys(session_id)
        seq, epoch = await self.client().hmget(state, ["seq", "epoch"])
        return int(seq or 0), epoch.decode() if epoch is not None else None

    @staticmethod
    def _entries(raw) -> list[Entry]:
        entries = []
        for entry_id, fields in raw:
            seq = int(entry_id.split(b"-")[0])
            public = fields[b"p"].decode()
            moderator = fields[b"m"].decode() if b"m" in fields else public
            entries.append(Entry(seq, public, moderator))
        return entries

    async def since(self, session_id: int, seq: int, epoch: str | None = None) -> list[Entry] | None:
        """What a resuming client missed (`entries_after`). The resumes of one room share their reads: while one
        read is in flight the asks that come meanwhile wait and go together in the next, one `current` and one
        `XRANGE` from the lowest seq among them. Each ask is thus answered by a read that began after it was made
        (what the consumer's ordering needs), and a host's lost participants, resuming by the thousand, cost the
        history's pool a few round trips instead of two each (with one each, joins waited for a pooled connection
        past its time-out and were closed with 4500)."""
        loop = asyncio.get_running_loop()
        rooms = self._since_asks.get(loop)
        if rooms is None:
            rooms = self._since_asks[loop] = {}
        asks = rooms.get(session_id)
        if asks is None:
            asks = rooms[session_id] = []
            asyncio.ensure_future(self._since_reads(session_id, rooms))
        future = loop.create_future()
        asks.append((seq, epoch, future))
        return await future

    async def _since_reads(self, session_id: int, rooms: dict) -> None:
        _, stream = self._keys(session_id)
        try:
            while rooms.get(session_id):
                asks, rooms[session_id] = rooms[session_id], []
                try:
                    current, current_epoch = await self.current(session_id)
                    low = min((seq for seq, _, _ in asks if 0 <= seq < current), default=None)
                    entries = [] if low is None else self._entries(
                        await self.client().xrange(stream, min=f"{low + 1}-0", max="+"))
                except Exception as error:  # noqa: BLE001 - every ask of the read fails with it (4500: reconnect)
                    for _, _, future in asks:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for seq, epoch, future in asks:
                    if not future.done():
                        future.set_result(entries_after(entries, seq, epoch, current, current_epoch))
        finally:
            rooms.pop(session_id, None)

    async def range(self, session_id: int, after: int, upto: int) -> list[Entry]:
        _, stream = self._keys(session_id)
        return self._entries(await self.client().xrange(stream, min=f"{after + 1}-0", max=f"{upto}-0"))

    async def restart(self, session_id: int) -> str:
        """Start a new epoch for the room (its seq goes on): every hub sends each of its connections a fresh
        snapshot in place (live/hub.py `RoomHub.restart`)."""
        state, stream = self._keys(session_id)
        epoch = _new_epoch()
        async with self.client().pipeline(transaction=True) as pipe:
            pipe.hset(state, "epoch", epoch)
            pipe.delete(stream)
            pipe.expire(state, KEY_TTL_SECONDS)
            await pipe.execute()
        return epoch

    async def clear(self) -> None:
        client = self.client()
        async for key in client.scan_iter(match="live:{*}:*", count=500):
            await client.delete(key)


_history: MemoryHistory | RedisHistory | None = None


def get_history() -> MemoryHistory | RedisHistory:
    global _history
    if _history is None:
        if settings.REDIS_URL:
            _history = RedisHistory(settings.REDIS_URL, getattr(settings, "LIVE_REDIS_POOL_SIZE", 50))
        else:
            _history = MemoryHistory()
    return _history
