"""academy/gate.py: a flood of join-link taps beyond the per-process bound gets fast 503 pages that retry by
themselves; the admitted taps succeed, the refused ones get in on their retry (nothing lost), other paths pass, and
a client that has left before its request is worked on is not signed in (Django's ASGIHandler cancels it)."""
import asyncio
import html
import logging
import re
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.core.asgi import get_asgi_application
from django.db import connections
from django.utils import timezone

from academy import gate as gate_module
from academy.gate import StormGate, _turn_signature
from live import links
from live.models import Registration
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 3
RETRY_AFTER = 2


def _scope(path: str, cookie: str = "") -> dict:
    path, _, query = path.partition("?")
    headers = [(b"host", b"testserver")] + ([(b"cookie", cookie.encode())] if cookie else [])
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": headers, "client": ("127.0.0.9", 40000), "server": ("testserver", 80)}


def _refresh(answer: dict) -> tuple[int, str]:
    """The busy page's meta refresh: (seconds, address), the address unescaped as a browser reads it."""
    found = re.search(r'<meta http-equiv="refresh" content="(\d+); url=([^"]+)">', answer["body"].decode())
    return int(found.group(1)), html.unescape(found.group(2))


async def _get(app, path: str, *, cookie: str = "", incoming: asyncio.Queue | None = None) -> dict:
    """One request through `app`: {'status', 'headers', 'body'}; status None when nothing was answered. What the
    client sends after its request (a disconnect) goes into `incoming`."""
    if incoming is None:
        incoming = asyncio.Queue()
    await incoming.put({"type": "http.request", "body": b"", "more_body": False})
    answer = {"status": None, "headers": {}, "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            for name, value in message["headers"]:
                name = name.decode().lower()
                answer["headers"][name] = "\n".join(filter(None, (answer["headers"].get(name), value.decode())))
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    async def receive():
        return await incoming.get()

    await app(_scope(path, cookie), receive, send)
    return answer


def _links(count: int) -> list[str]:
    now = timezone.now()
    session = make_live_session(registration_required=True, start=now - timedelta(minutes=5),
                                end=now + timedelta(hours=2))
    return [links.link_path(Registration.objects.create(session=session, user=UserFactory())) for _ in range(count)]


@pytest.fixture
def gate(monkeypatch):
    # Each request runs in a thread of its own: its database connection closes when the request ends.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    return StormGate(get_asgi_application(), limit=LIMIT, retry_after=RETRY_AFTER)


async def test_a_flood_beyond_the_bound_gets_fast_503s_that_retry_and_the_admitted_taps_succeed(gate):
    paths = await database_sync_to_async(_links)(12)
    answers = await asyncio.gather(*(_get(gate, path) for path in paths))
    served = [a for a in answers if a["status"] == 200]
    refused = [(path, a) for path, a in zip(paths, answers) if a["status"] == 503]
    assert len(served) == LIMIT and len(refused) == len(paths) - LIMIT
    assert all("sessionid=" in a["headers"].get("set-cookie", "") for a in served)
    appointments = []
    for path, answer in refused:
        seconds = int(answer["headers"]["retry-after"])
        # One appointment after another, LIMIT a second at first (the rate is learnt from the work done).
        assert RETRY_AFTER <= seconds <= RETRY_AFTER + 1 + len(refused) / LIMIT
        page = answer["body"].decode()
        refresh_seconds, again = _refresh(answer)
        assert refresh_seconds == seconds and again.startswith(path + "?turn=")
        appointments.append(int(again.partition("=")[2].partition(".")[0]))
        assert "直播间正在进场" in page and f"{seconds} 秒后自动重试" in page
        assert "<script" not in page and "default-src 'none'" in answer["headers"]["content-security-policy"]
        cookie = answer["headers"]["set-cookie"]  # no session was made for it, only the appointment kept
        assert "sessionid" not in cookie and cookie.startswith(f"academy_turn={again.partition('turn=')[2]}; ")
        assert f"Path={path};" in cookie and "HttpOnly" in cookie
    assert appointments == sorted(appointments) and appointments[-1] > appointments[0]
    assert gate.in_flight == 0 and gate.refused == len(refused)
    # Nothing lost: each refused tap, tried again as its page does (at its address, when its time has come), gets in.
    await asyncio.sleep(max(appointments) - time.time() + 0.1)
    for _path, answer in refused:
        again = await _get(gate, _refresh(answer)[1])
        assert again["status"] == 200 and "sessionid=" in again["headers"]["set-cookie"]
    assert await database_sync_to_async(Session.objects.count)() == len(paths)


async def test_the_busy_page_speaks_english_when_the_visitor_switched(gate):
    paths = await database_sync_to_async(_links)(LIMIT + 1)
    answers = await asyncio.gather(*(_get(gate, path, cookie="django_language=en") for path in paths))
    refused = [a for a in answers if a["status"] == 503]
    assert len(refused) == 1
    html = refused[0]["body"].decode()
    assert 'lang="en"' in html and "The room is filling up" in html and "直播间" not in html


async def test_other_paths_pass_while_the_storm_paths_are_full(gate):
    paths = await database_sync_to_async(_links)(LIMIT + 2)
    answers = await asyncio.gather(*(_get(gate, path) for path in paths), _get(gate, "/accounts/login/"))
    assert [a["status"] for a in answers[:-1]].count(503) == 2
    assert answers[-1]["status"] == 200


async def _until(condition, seconds: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "the condition did not come about in time"
        await asyncio.sleep(0.01)  # poll for the condition until the deadline


async def test_a_client_that_left_while_in_line_is_not_signed_in(gate):
    [path] = await database_sync_to_async(_links)(1)
    gate.queue_seconds = 30
    for _ in range(LIMIT):
        assert gate.take()  # the process is full: LIMIT requests at work
    incoming = asyncio.Queue()
    leaving = asyncio.ensure_future(_get(gate, path, incoming=incoming))
    await _until(lambda: len(gate._line) == 1)
    await incoming.put({"type": "http.disconnect"})  # the phone gave up while in line
    answer = await asyncio.wait_for(leaving, 10)
    assert answer["status"] is None and all(place.done() for place in gate._line)
    for _ in range(LIMIT):
        gate.release()
    assert gate.in_flight == 0
    assert await database_sync_to_async(Session.objects.count)() == 0  # Django never saw the request
    assert (await _get(gate, path))["status"] == 200  # the same link, from a client that stays
    assert await database_sync_to_async(Session.objects.count)() == 1


async def test_the_place_of_a_client_that_left_the_line_passes_to_the_next():
    held = asyncio.Event()
    entered = []

    async def slow_app(scope, receive, send):
        entered.append(scope["path"])
        assert (await receive())["type"] == "http.request"  # the body the gate read is handed on
        await held.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = StormGate(slow_app, limit=1, retry_after=RETRY_AFTER, queue_seconds=30)
    holder = asyncio.ensure_future(_get(gate, "/live/join/held/"))
    await _until(lambda: gate.in_flight == 1)
    gone_queue = asyncio.Queue()
    gone = asyncio.ensure_future(_get(gate, "/live/join/gone/", incoming=gone_queue))
    await _until(lambda: len(gate._line) == 1)
    staying = asyncio.ensure_future(_get(gate, "/live/join/staying/"))
    await _until(lambda: len(gate._line) == 2)
    await gone_queue.put({"type": "http.disconnect"})
    assert (await asyncio.wait_for(gone, 10))["status"] is None
    held.set()
    answers = await asyncio.wait_for(asyncio.gather(holder, staying), 10)
    assert [answer["status"] for answer in answers] == [200, 200]
    assert entered == ["/live/join/held/", "/live/join/staying/"]
    assert gate.in_flight == 0 and not [place for place in gate._line if not place.done()]


def test_the_site_application_puts_the_gate_before_django(settings):
    from academy import asgi

    http = asgi.application.application_mapping["http"]
    assert isinstance(http, StormGate) and http.limit == settings.LIVE_PAGES_IN_FLIGHT
    assert re.search(http.paths, "/live/join/abc-0123/") and re.search(http.paths, "/sessions/x/room/")
    assert not re.search(http.paths, "/sessions/x/") and not re.search(http.paths, "/ws/live/1/")


async def test_appointments_are_kept_in_order_and_a_returner_on_time_goes_before_newcomers():
    held = asyncio.Event()
    entered = []

    async def slow_app(scope, receive, send):  # a request that is still being worked on
        entered.append(scope["path"])
        await held.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = StormGate(slow_app, limit=1, retry_after=RETRY_AFTER, queue_seconds=5)
    holder = asyncio.ensure_future(_get(gate, "/live/join/held/"))
    await _until(lambda: gate.in_flight == 1)
    # Newcomers while the process is full and no appointment is outstanding: they stand in line.
    first = asyncio.ensure_future(_get(gate, "/live/join/first/"))
    await _until(lambda: len(gate._line) == 1)
    # The line is longer than the process (1 a second so far) serves in 5 s: appointments, one after another.
    crowd = [asyncio.ensure_future(_get(gate, f"/live/join/c{index}/")) for index in range(4)]
    await _until(lambda: len(gate._line) == 5)
    refused = [await _get(gate, f"/live/join/r{index}/") for index in range(3)]
    assert [answer["status"] for answer in refused] == [503, 503, 503]
    dues = [int(_refresh(answer)[1].partition("turn=")[2].partition(".")[0]) for answer in refused]
    assert dues[0] >= time.time() + 5 and dues == sorted(dues) and dues[-1] > dues[0]
    # Back early: the same appointment again, nothing new given; so too for a reload by hand of the plain address,
    # which carries the appointment in the busy page's cookie.
    early = await _get(gate, _refresh(refused[0])[1])
    assert early["status"] == 503 and _refresh(early)[1] == _refresh(refused[0])[1]
    kept = refused[0]["headers"]["set-cookie"].split(";")[0]
    reloaded = await _get(gate, "/live/join/r0/", cookie=kept)
    assert reloaded["status"] == 503 and _refresh(reloaded)[1] == _refresh(refused[0])[1]
    elsewhere = await _get(gate, "/live/join/other/", cookie=kept)  # signed for its own path only
    assert elsewhere["status"] == 503 and int(_refresh(elsewhere)[1].partition("turn=")[2][:10]) > dues[-1]
    # A forged appointment is a newcomer's request: the next appointment, after the others.
    forged = await _get(gate, f"/live/join/forged/?turn={int(time.time())}.0123456789abcdef")
    assert forged["status"] == 503 and int(_refresh(forged)[1].partition("turn=")[2][:10]) > dues[-1]
    # Back on time (its appointment has come): first in line, before the five newcomers.
    due = int(time.time())
    returner = asyncio.ensure_future(_get(gate, f"/live/join/r0/?turn={due}.{_turn_signature('/live/join/r0/', due)}"))
    await _until(lambda: len(gate._first) == 1)
    # A newcomer now does not stand in line at all: appointments are outstanding.
    late = await _get(gate, "/live/join/late/")
    assert late["status"] == 503
    held.set()
    answers = await asyncio.gather(holder, returner, first, *crowd)
    assert [answer["status"] for answer in answers] == [200] * 7
    assert entered == ["/live/join/held/", "/live/join/r0/", "/live/join/first/"] + [
        f"/live/join/c{index}/" for index in range(4)]
    assert gate.in_flight == 0 and not gate._line and not gate._first


async def test_a_storm_is_summed_up_in_one_warning_line_not_one_per_busy_page(monkeypatch, caplog):
    monkeypatch.setattr(gate_module, "SUMMARY_SECONDS", 0.2)
    held = asyncio.Event()

    async def slow_app(scope, receive, send):
        await held.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = StormGate(slow_app, limit=1, retry_after=RETRY_AFTER)  # no line: refused at once
    holder = asyncio.ensure_future(_get(gate, "/live/join/held/"))
    await _until(lambda: gate.in_flight == 1)
    with caplog.at_level(logging.WARNING, logger="academy.gate"):
        refused = [await _get(gate, f"/live/join/r{index}/") for index in range(5)]
        assert [answer["status"] for answer in refused] == [503] * 5
        await _until(lambda: [r for r in caplog.records if r.name == "academy.gate"])  # the summary line
    [line] = [record for record in caplog.records if record.name == "academy.gate"]
    assert line.levelno == logging.WARNING
    assert line.getMessage().startswith(
        "busy: 5 busy pages in 0.2 s on the join links and room pages (1 in flight, 0 in line); appointments up to ")
    held.set()
    assert (await holder)["status"] == 200


@pytest.mark.parametrize("handed_a_ticket", [False, True])
async def test_a_request_the_server_gives_up_on_while_in_line_keeps_no_ticket(handed_a_ticket):
    entered = []

    async def app(scope, receive, send):
        entered.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = StormGate(app, limit=1, retry_after=RETRY_AFTER, queue_seconds=30)
    assert gate.take()  # the process is full
    waiting = asyncio.ensure_future(_get(gate, "/live/join/waiting/"))
    await _until(lambda: len(gate._line) == 1)
    if handed_a_ticket:
        gate.release()  # the ticket passes to the one in line, in the moment the server gives up on it
    waiting.cancel()  # Daphne's --http-timeout, or the server stopping
    with pytest.raises(asyncio.CancelledError):
        await waiting
    if not handed_a_ticket:
        gate.release()
    await _until(lambda: gate.in_flight == 0)
    assert entered == [] and (await _get(gate, "/live/join/next/"))["status"] == 200
