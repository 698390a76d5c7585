"""Joins under load: a client that has gone costs nothing, and a process over its bound on joins refuses early."""
import os
import re
import time

import pytest
from channels.db import database_sync_to_async

from bench.wsclient import BlockingClient
from live.limits import BUSY_RETRY_MAX, BUSY_RETRY_MIN, CLOSE_BUSY, JoinGate, gate
from live.batching import get_committer
from live.models import AttendanceSpan
from tests.factories.live import make_live_session
from tests.factories.live_room import receive, room_communicator, room_cookie, room_fixture
from tests.servers import Serve, database_url

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


async def test_a_client_that_leaves_while_its_join_is_queued_costs_no_database_work(settings, volunteer, socialworker):
    settings.LIVE_BATCH_DELAY = 0.3  # the join waits in the queue long enough to leave first
    session = await database_sync_to_async(make_live_session)()
    committer = get_committer()
    skipped = committer.joins_skipped
    gone, connected, _ = await room_communicator(session, volunteer)
    assert connected
    staying, _, _ = await room_communicator(session, socialworker)
    await gone.send_input({"type": "websocket.disconnect", "code": 1001})
    assert (await receive(staying))["type"] == "snapshot"
    await gone.wait(timeout=3)
    assert committer.joins_skipped == skipped + 1
    await committer.flush()
    spans = await database_sync_to_async(lambda: set(AttendanceSpan.objects.values_list("user_id", flat=True)))()
    assert spans == {socialworker.pk}  # no span (nor admission or snapshot) for the one who left
    await staying.disconnect()


async def test_connects_over_the_bound_on_joins_in_flight_are_refused_with_4503_before_any_work(
        settings, volunteer, socialworker, moderator):
    settings.LIVE_BATCH_DELAY = 0.3  # the first two joins are in flight (queued) while the third arrives
    settings.LIVE_JOINS_IN_FLIGHT = 2
    session = await database_sync_to_async(make_live_session)()
    committer = get_committer()
    refused, items = gate.refused, committer.items
    first, _, _ = await room_communicator(session, volunteer)
    second, _, _ = await room_communicator(session, socialworker)
    third, connected, _ = await room_communicator(session, moderator)
    assert connected
    close = await third.receive_output(timeout=3)
    assert close["type"] == "websocket.close" and close["code"] == CLOSE_BUSY
    seconds = int(re.fullmatch(r"busy: retry after (\d+) s", close["reason"]).group(1))
    assert BUSY_RETRY_MIN / 2 <= seconds <= BUSY_RETRY_MAX * 1.5
    assert gate.refused == refused + 1
    assert (await receive(first))["type"] == "snapshot"
    assert (await receive(second))["type"] == "snapshot"
    assert committer.items == items + 2  # the refused connect put nothing into the group commit
    spans = await database_sync_to_async(lambda: set(AttendanceSpan.objects.values_list("user_id", flat=True)))()
    assert spans == {volunteer.pk, socialworker.pk}
    # The joins done, the process has room again: the refused one comes back and is in.
    again, _, _ = await room_communicator(session, moderator)
    assert (await receive(again))["type"] == "snapshot"
    assert gate.in_flight == 0
    for communicator in (first, second, again):
        await communicator.disconnect()


def test_under_daphne_a_busy_process_refuses_at_the_handshake_without_an_application(tmp_path, volunteer):
    """A real server whose bound is 0 (it admits nobody: how a host is drained): the handshake completes, the
    connection is closed at once with 4503 and the time to come back, and no join reaches the database."""
    session = make_live_session()
    env = {**os.environ, "DATABASE_URL": database_url(), "LIVE_JOINS_IN_FLIGHT": "0", "PYTHONUNBUFFERED": "1",
           "ALLOWED_HOSTS": "127.0.0.1", "ACCESS_LOG_LEVEL": "INFO"}
    server = Serve(tmp_path / "serve.log", 1, env=env)
    try:
        client = BlockingClient("127.0.0.1", server.port, f"/ws/live/{session.pk}/", f"http://127.0.0.1:{server.port}",
                                room_cookie(volunteer), timeout=20)
        with pytest.raises(ConnectionError):
            client.recv_text(timeout=20)
        assert client.close_code == CLOSE_BUSY
        assert re.fullmatch(r"busy: retry after \d+ s", client.close_reason)
        client.close()
    finally:
        server.stop()
    assert not AttendanceSpan.objects.exists()
    output = server.output()
    assert "Traceback" not in output
    assert "/healthz" in output  # the access log is on (Serve's readiness requests) ...
    assert "WebSocket CONNECT" not in output  # ... and Daphne never knew the refused socket (no application)


def test_the_time_to_come_back_grows_while_a_process_only_refuses(settings):
    """JoinGate is academy/busy.py's Busy: the limit is read at each connect, and refusals with no join done double
    the announced time each second (within 1-30 s, jittered ±50 %)."""
    settings.LIVE_JOINS_IN_FLIGHT = 0
    refusing = JoinGate()
    deadline = time.monotonic() + 15
    longest = 0
    while longest < 4 * BUSY_RETRY_MIN * 1.5 and time.monotonic() < deadline:
        assert not refusing.take()
        seconds = int(re.fullmatch(r"busy: retry after (\d+) s", refusing.refusal_reason()).group(1))
        assert 1 <= seconds <= BUSY_RETRY_MAX * 1.5
        longest = max(longest, seconds)
        time.sleep(0.01)
    assert longest >= 4 * BUSY_RETRY_MIN * 1.5
    assert refusing.in_flight == 0 and refusing.admitted == 0
    settings.LIVE_JOINS_IN_FLIGHT = 1
    assert refusing.take() and not refusing.take()
