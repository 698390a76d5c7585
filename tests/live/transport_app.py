"""A tiny ASGI app for tests/live/test_transport.py, served by a real Daphne process with live.transport installed.

Commands (text frames): `flood N SEED` sends N text messages of varied sizes (see `flood_message`) through ASGI
`send`; `frames N SEED` sends the same as prepared frames through `transport.writer_for`;
`stats` answers with a JSON object: disconnects seen, whether the transport engaged, and the process's RSS.

A room, as the hub has one (live.outlet's Roster of Outlets): `room` puts the connection in it (answering `in`),
`room-moderator` too, with the moderators' texts (the same prefixed with `moderators `); `room-joining` puts it in
joining (its texts held, answering `joining`) until it sends `open SEQ` (answered `open`). `broadcast FIRST N SEED`
hands texts FIRST … FIRST+N-1 (`flood_message`-sized, prefixed with their seq) to the whole room, as the hub
delivers events. A connection leaves the room when it disconnects.
"""
import asyncio
import json
import os
import random

from live import transport
from live.outlet import Outlet, Roster

ENGAGED = transport.install(
    direct_write=os.environ.get("LIVE_DIRECT_WRITE", "1") == "1",
    send_buffer_limit=int(os.environ.get("LIVE_SEND_BUFFER_LIMIT", "0")),
)
DISCONNECTS = 0
ROOM = Roster()


def flood_message(index: int, rng: random.Random) -> str:
    """Message `index` of a flood: its number, its length and a filler that depends on both (so corruption shows)."""
    size = rng.choice([1, 20, 125, 126, 127, 300, 4000, 65535, 65536, 70000])
    return f"{index:08d}:{size:06d}:" + chr(97 + index % 26) * size


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def application(scope, receive, send):
    global DISCONNECTS
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await receive()
    await send({"type": "websocket.accept"})
    outlet = None
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            DISCONNECTS += 1
            if outlet is not None:
                outlet.closed = True
                ROOM.pop(outlet, None)
            return
        command, *args = message.get("text", "").split()
        if command in ("room", "room-moderator", "room-joining"):
            outlet = Outlet(send, user_id=1, moderator=command == "room-moderator", on_close=lambda code: None,
                            write=transport.writer_for(send))
            ROOM[outlet] = None
            if command != "room-joining":
                outlet.open(0)
            await send({"type": "websocket.send", "text": "joining" if command == "room-joining" else "in"})
        elif command == "open":
            outlet.open(int(args[0]))
            await send({"type": "websocket.send", "text": "open"})
        elif command == "broadcast":
            first, count, seed = int(args[0]), int(args[1]), int(args[2])
            rng = random.Random(seed)
            for seq in range(first, first + count):
                text = f"{seq}:{flood_message(seq, rng)}"
                ROOM.deliver(text, "moderators " + text, seq)
                if seq % 50 == 0:
                    await asyncio.sleep(0)  # let the reactor flush what the kernel could not take yet
        if command == "flood":
            count, seed = int(args[0]), int(args[1])
            rng = random.Random(seed)
            for index in range(count):
                await send({"type": "websocket.send", "text": flood_message(index, rng)})
                if index % 50 == 0:
                    await asyncio.sleep(0)  # let the reactor flush what the kernel could not take yet
        elif command == "frames":  # the broadcast path: prepared frames through transport.writer_for
            count, seed = int(args[0]), int(args[1])
            rng = random.Random(seed)
            write = transport.writer_for(send)
            for index in range(count):
                if write is None:
                    await send({"type": "websocket.send", "text": "no writer"})
                    break
                write(transport.frame(flood_message(index, rng)))
                if index % 50 == 0:
                    await asyncio.sleep(0)
        elif command == "stats":
            await send({"type": "websocket.send", "text": json.dumps(
                {"disconnects": DISCONNECTS, "engaged": ENGAGED, "rss": rss_bytes()})})
