"""Live-room helpers for the tests (the demo's room step is live.demo.room_load_demo, re-exported as load_demo).

room_cookie(user)                       a real Django session for `user`: the `Cookie` header a browser would send
room_communicator(session, user, ...)   a WebsocketCommunicator on the project's ASGI application (origin check and
                                        session auth included), for /ws/live/<pk>/
make_question(session, author, ...)     a question row (for tests that need one before connecting)
receive_through(comm, predicate)        every message up to the first that satisfies `predicate` (with a deadline)
barrier(comm, moderator)                what `comm` receives before an announcement published now: all earlier events
room_reset()                            forget every room's history (Redis keys or the process's deque) between tests
load_demo(*, users, log)                the past panel's questions, replies and votes (live/demo.py)
"""
from __future__ import annotations

import asyncio
import itertools
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from live.demo import room_load_demo as load_demo  # noqa: F401  (re-exported)
from live.models import Question

ORIGIN = b"http://testserver"


def room_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def room_communicator(session, user=None, *, since=None, epoch=None, origin=ORIGIN, cookie=None,
                            path=None, application=None):
    """Connect to the room of `session` as `user` (None: anonymous). Returns (communicator, connected, close code)."""
    from academy.asgi import application as default_application

    if cookie is None and user is not None:
        cookie = await database_sync_to_async(room_cookie)(user)
    path = path or f"/ws/live/{session.pk}/"
    query = []
    if since is not None:
        query.append(f"since={since}")
    if epoch is not None:
        query.append(f"epoch={epoch}")
    if query:
        path += "?" + "&".join(query)
    headers = [(b"host", b"testserver")]
    if origin:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application or default_application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def _backlog(communicator) -> list:
    if not hasattr(communicator, "backlog"):
        communicator.backlog = []
    return communicator.backlog


async def receive(communicator, timeout: float = 3) -> dict:
    """The next message (messages set aside by `command` come first, in their order)."""
    backlog = _backlog(communicator)
    if backlog:
        return backlog.pop(0)
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(communicator, predicate, timeout: float = 3) -> dict:
    """The first message that satisfies `predicate`, dropping the others before it (counts, other events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("no matching message arrived")
        message = await receive(communicator, timeout=remaining)
        if predicate(message):
            return message


async def command(communicator, type_: str, request_id: str = "c1", **fields) -> dict:
    """Send a command and return its answer (an ack or an error with the same id); broadcasts that arrive first
    are kept for the next `receive`."""
    await communicator.send_to(text_data=json.dumps({"type": type_, "id": request_id, **fields}))
    skipped = []
    try:
        while True:
            message = json.loads(await communicator.receive_from(timeout=5))
            if message.get("type") in ("ack", "error") and message.get("id") == request_id:
                return message
            skipped.append(message)
    finally:
        _backlog(communicator).extend(skipped)


async def send_command(communicator, type_: str, request_id: str, **fields) -> None:
    await communicator.send_to(text_data=json.dumps({"type": type_, "id": request_id, **fields}))


async def answers(communicator, request_ids, timeout: float = 5) -> dict:
    """The acks/errors for `request_ids` (sent with send_command), by id; other messages go to the backlog."""
    wanted, found, skipped = set(request_ids), {}, []
    try:
        while wanted - set(found):
            message = json.loads(await communicator.receive_from(timeout=timeout))
            if message.get("type") in ("ack", "error") and message.get("id") in wanted:
                found[message["id"]] = message
            else:
                skipped.append(message)
    finally:
        _backlog(communicator).extend(skipped)
    return found


async def receive_through(communicator, predicate, timeout: float = 5) -> list[dict]:
    """Every message up to and including the first that satisfies `predicate` (messages set aside by `command`
    first): wait for the condition, never for a quiet period."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    messages = []
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no matching message arrived; received {messages}")
        messages.append(await receive(communicator, timeout=remaining))
        if predicate(messages[-1]):
            return messages


def event_numbered(seq: int):
    """A predicate: the room event numbered `seq`."""
    return lambda message: message.get("type") == "event" and message["seq"] == seq


_barriers = itertools.count(1)


async def barrier(communicator, moderator, timeout: float = 5) -> list[dict]:
    """What `communicator` receives before an announcement that `moderator` (a communicator with moderator rights)
    publishes now. A room's hub delivers events strictly in seq order, so once the announcement has arrived every
    event published before it has arrived too: the list is all of them ("nothing else came" without a quiet
    period). The announcement itself is not in the list."""
    number = next(_barriers)
    text = f"屏障{number}"
    ack = await command(moderator, "announce", f"barrier-{number}", text=text)
    assert ack["type"] == "ack", ack
    messages = await receive_through(
        communicator, lambda m: m.get("type") == "event" and m.get("name") == "announcement"
        and m["data"]["announcement"]["text"] == text, timeout)
    return messages[:-1]


def make_question(session, author, text="一个问题", **fields) -> Question:
    fields.setdefault("status", Question.Status.APPROVED)
    return Question.objects.create(session=session, author=author, text=text, **fields)


async def room_reset() -> None:
    from live.history import get_history

    await get_history().clear()


async def room_shutdown() -> None:
    """Stop this loop's hubs and committer (the test's event loop is about to close)."""
    from live.batching import get_committer
    from live.hub import _hubs

    committer = get_committer()
    await committer.flush()
    if committer.heartbeat:
        committer.heartbeat.cancel()
    for session_id, hub in list(_hubs().items()):
        await hub.stop()
        _hubs().pop(session_id, None)


def room_fixture():
    """A pytest fixture (import it into a test module): a clean room history before, stopped hubs after."""
    import pytest

    @pytest.fixture(autouse=True)
    async def _live_room_env(settings):
        settings.LIVE_COUNTS_INTERVAL = 0.05
        await room_reset()
        yield
        await room_shutdown()

    return _live_room_env
