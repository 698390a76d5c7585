"""No input ends a connection, and every way a connection ends closes its attendance span: deeply nested JSON,
binary frames, out-of-range ids, a connection cancelled by the server, a batch with one bad item."""
import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from live.admission import JoinRequest
from live.batching import get_committer
from live.hub import PROCESS_ID, get_hub
from live.models import AttendanceSpan, Question, Vote
from live.services.room import ERROR_SERVER, RoomError
from live.services.room_batch import attendance_heartbeat
from tests.factories import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import (
    answers, command, make_question, receive, receive_until, room_communicator, room_fixture, send_command,
)

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()

DEEP = "[" * 2000 + "]" * 2000  # under the 4,096-character frame limit; json.loads raises RecursionError


def open_spans(session):
    return database_sync_to_async(
        lambda: AttendanceSpan.objects.filter(session=session, left_at__isnull=True).count())()


async def test_deeply_nested_json_is_answered_and_the_connection_stays(volunteer):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    for frame in (DEEP, "{\"type\": \"ping\", \"id\": " + DEEP + "}", "[{\"\":" * 580 + "1" + "}]" * 580):
        await communicator.send_to(text_data=frame)
        error = await receive_until(communicator, lambda m: m["type"] == "error")
        assert error["code"] == "bad_json"
    assert (await command(communicator, "ping", "p1"))["type"] == "ack"
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await receive_until(communicator, lambda m: m["type"] == "error"))["code"] == "bad_json"
    assert (await command(communicator, "ping", "p2"))["type"] == "ack"
    await communicator.disconnect()
    await get_committer().flush()
    assert await open_spans(session) == 0


async def test_a_connection_the_server_cancels_closes_its_span_and_leaves_the_count(volunteer):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    assert await open_spans(session) == 1
    hub = get_hub(session.pk)
    assert hub.participants_here() == 1
    # What Daphne does to an application that outlives its connection: cancel it (no websocket.disconnect).
    communicator.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await communicator.future
    await get_committer().flush()
    assert await open_spans(session) == 0
    assert hub.participants_here() == 0


async def test_a_hub_stopped_while_it_starts_leaves_nothing_running():
    session = await database_sync_to_async(make_live_session)()
    hub = get_hub(session.pk)
    starting = asyncio.ensure_future(hub.ensure_started())
    await asyncio.sleep(0)  # the start is under way: it waits on the channel layer
    assert not hub.started.done()
    await hub.stop()
    await starting
    assert len(hub.tasks) == 2
    done, running = await asyncio.wait(hub.tasks, timeout=2)
    assert not running  # the receive loop and the ticker were cancelled with the hub


def test_the_heartbeat_extends_only_spans_whose_socket_is_alive(volunteer):
    session = make_live_session()
    earlier = timezone.now() - timedelta(minutes=2)
    for connection in ("alive", "ghost"):
        AttendanceSpan.objects.create(session=session, user=volunteer, connection=connection, process=PROCESS_ID,
                                      joined_at=earlier, seen_at=earlier)
    AttendanceSpan.objects.create(session=session, user=volunteer, connection="elsewhere", process="other",
                                  joined_at=earlier, seen_at=earlier)
    attendance_heartbeat(process=PROCESS_ID, alive={"alive"})
    spans = {s.connection: s for s in AttendanceSpan.objects.filter(session=session)}
    assert spans["alive"].left_at is None and spans["alive"].seen_at > earlier
    assert spans["ghost"].left_at == earlier  # ended at its last sign of life, never extended
    assert spans["elsewhere"].left_at is None and spans["elsewhere"].seen_at == earlier  # another process's


async def test_the_process_heartbeat_keeps_open_sockets_and_ends_the_rest(volunteer, socialworker):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    earlier = timezone.now() - timedelta(minutes=5)
    await database_sync_to_async(AttendanceSpan.objects.create)(
        session=session, user=socialworker, connection="died-unseen", process=PROCESS_ID, joined_at=earlier,
        seen_at=earlier)
    await get_committer().beat()
    spans = await database_sync_to_async(lambda: {s.user_id: s for s in AttendanceSpan.objects.filter(
        session=session)})()
    assert spans[volunteer.pk].left_at is None
    assert spans[socialworker.pk].left_at == earlier
    await communicator.disconnect()


@pytest.mark.parametrize("value", [2**64, 2**63, 0, -1, 1.5, "7", True, None])
async def test_ids_out_of_range_are_invalid_fields(volunteer, value):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    for kind, field, extra in (("question.vote", "question", {}), ("poll.answer", "poll", {"choices": [1]}),
                               ("poll.answer", "choices", {"poll": 1})):
        fields = {field: [value] if field == "choices" else value, **extra}
        answer = await command(communicator, kind, "x", **fields)
        assert answer["type"] == "error" and answer["code"] == "invalid" and answer["field"] == field
    await communicator.disconnect()


async def test_an_out_of_range_vote_does_not_fail_the_votes_sent_with_it(volunteer, socialworker):
    session = await database_sync_to_async(make_live_session)()
    question = await database_sync_to_async(make_question)(session, socialworker)
    bad, _, _ = await room_communicator(session, volunteer)
    good, _, _ = await room_communicator(session, socialworker)
    assert (await receive(bad))["type"] == "snapshot" and (await receive(good))["type"] == "snapshot"
    await send_command(bad, "question.vote", "b1", question=2**64)
    await send_command(good, "question.vote", "g1", question=question.pk)
    assert (await answers(bad, ["b1"]))["b1"]["code"] == "invalid"
    assert (await answers(good, ["g1"]))["g1"]["counted"] is True
    assert await database_sync_to_async(Vote.objects.filter(question=question).count)() == 1
    await bad.disconnect()
    await good.disconnect()


async def test_a_failing_item_fails_alone_and_its_sender_sees_no_exception_text(settings, volunteer, socialworker):
    settings.LIVE_BATCH_DELAY = 0.02
    session = await database_sync_to_async(make_live_session)()
    question = await database_sync_to_async(make_question)(session, socialworker)
    committer = get_committer()
    vote = committer.vote(session_id=session.pk, question_id=question.pk, user_id=volunteer.pk)
    # A join of a user that does not exist: its span's foreign key fails the whole transaction at its commit.
    nobody = UserFactory.build(pk=10**12, username="no-such-user")
    ghost = committer.enter(JoinRequest(session_id=session.pk, user=nobody, django_session=None,
                                        connection="no-such-user", snapshot=False), outlet=None)
    join = committer.enter(JoinRequest(session_id=session.pk, user=socialworker, django_session=None,
                                       connection="real", snapshot=False), outlet=None)
    before = committer.batches
    results = await asyncio.gather(vote, ghost, join, return_exceptions=True)
    assert committer.batches - before == 1
    assert results[0]["counted"] is True and results[0]["votes"] == 1
    assert isinstance(results[1], RoomError) and results[1].code == "server_error"
    assert str(results[1].message) == str(ERROR_SERVER)
    assert results[2].refusal is None  # the good join went in
    assert await database_sync_to_async(Vote.objects.filter(question=question).count)() == 1
    assert await database_sync_to_async(AttendanceSpan.objects.filter(connection="real").count)() == 1
    committer.connections.clear()


async def test_a_session_id_too_large_for_the_database_is_no_such_session(volunteer):
    session = await database_sync_to_async(make_live_session)()
    communicator, connected, _ = await room_communicator(session, volunteer, path="/ws/live/" + "9" * 23 + "/")
    assert connected
    assert (await communicator.receive_output())["code"] == 4404


async def test_unexpected_question_text_types_are_answers(volunteer):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    for text in ({"a": 1}, ["x"], 5, None):
        answer = await command(communicator, "question.ask", "q", text=text)
        assert answer["type"] == "error" and answer["field"] == "text"
    assert (await command(communicator, "ping", "p"))["type"] == "ack"
    assert json.dumps(answer)  # plain data
    assert await database_sync_to_async(Question.objects.filter(session=session).count)() == 0
    await communicator.disconnect()


async def test_a_join_that_fails_on_the_server_is_closed_with_4500_and_leaves_no_span(volunteer, monkeypatch):
    from live import admission

    def unavailable(**kwargs):  # the database failing mid-join (fault injection at the selector's boundary)
        raise RuntimeError("database is unavailable")
    monkeypatch.setattr(admission, "room_shared_state", unavailable)
    session = await database_sync_to_async(make_live_session)()
    communicator, connected, _ = await room_communicator(session, volunteer)
    assert connected  # accepted first: the failure is told with a code the client reconnects on
    output = await communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4500}
    await communicator.wait(timeout=3)
    await get_committer().flush()
    assert await open_spans(session) == 0
    assert get_hub(session.pk).participants_here() == 0
