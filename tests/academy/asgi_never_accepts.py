"""An ASGI application for tests/academy/test_serve.py: answers HTTP, never accepts a WebSocket (so that Daphne's
accept time-out is what ends it)."""


async def application(scope, receive, send):
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
    elif scope["type"] == "websocket":
        while (await receive())["type"] != "websocket.disconnect":
            pass
