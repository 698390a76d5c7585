"""A tiny ASGI app for tests/live/test_transport.py, served by a real Daphne process with live.transport installed.

Commands (text frames): `flood N SEED` sends N text messages of varied sizes (see `flood_message`) through ASGI
`send`; `frames N SEED` sends the same as prepared frames through `transport.writer_for`;
`stats` answers with a JSON object: disconnects seen, whether the transport engaged, and the process's RSS.
"""
import asyncio
import json
import os
import random

from live import transport

ENGAGED = transport.install(
    direct_write=os.environ.get("LIVE_DIRECT_WRITE", "1") == "1",
    send_buffer_limit=int(os.environ.get("LIVE_SEND_BUFFER_LIMIT", "0")),
)
DISCONNECTS = 0


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
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            DISCONNECTS += 1
            return
        command, *args = message.get("text", "").split()
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
