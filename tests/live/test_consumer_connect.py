"""Entering the room: who is refused (and with which close code), and the first message a connection gets."""
import pytest
from channels.db import database_sync_to_async

from live.models import Ban, Registration
from tests.factories.live import make_live_session
from tests.factories.live_room import make_question, receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


@pytest.fixture
def session(moderator):
    return make_live_session(moderators=[moderator])


async def test_anonymous_visitor_is_closed_with_4401(session):
    communicator, connected, _ = await room_communicator(session, None)
    assert connected
    assert (await communicator.receive_output())["code"] == 4401


async def test_foreign_origin_is_rejected_at_the_handshake(session, volunteer):
    communicator, connected, _ = await room_communicator(session, volunteer, origin=b"https://evil.example")
    assert not connected


async def test_unknown_session_is_closed_with_4404(session, volunteer):
    communicator, connected, _ = await room_communicator(session, volunteer, path="/ws/live/999999/")
    assert connected
    assert (await communicator.receive_output())["code"] == 4404


async def test_unregistered_user_is_refused_from_a_registration_only_session(volunteer, socialworker):
    session = await database_sync_to_async(make_live_session)(registration_required=True)
    await database_sync_to_async(Registration.objects.create)(session=session, user=socialworker)
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await communicator.receive_output())["code"] == 4403
    registered, _, _ = await room_communicator(session, socialworker)
    assert (await receive(registered))["type"] == "snapshot"
    await registered.disconnect()


async def test_banned_user_is_refused_with_4410(session, volunteer, moderator):
    await database_sync_to_async(Ban.objects.create)(session=session, user=volunteer, by=moderator)
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await communicator.receive_output())["code"] == 4410


async def test_participant_snapshot_shows_the_room_as_a_participant_sees_it(session, volunteer, socialworker):
    visible = await database_sync_to_async(make_question)(session, socialworker, "看得见的问题")
    await database_sync_to_async(make_question)(session, socialworker, "待审核的问题", status="pending")
    mine_pending = await database_sync_to_async(make_question)(session, volunteer, "我的待审核问题", status="pending")
    communicator, _, _ = await room_communicator(session, volunteer)
    snapshot = await receive(communicator)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == 0
    assert snapshot["role"] == "participant"
    assert snapshot["me"] == {"id": volunteer.pk, "name": "王志愿"}
    assert snapshot["session"]["status"] == "live"
    assert snapshot["session"]["moderation"] == "post"
    assert [t["title"] for t in snapshot["topics"]] == ["开场:本次直播的安排", "问答:一线经验交流"]
    texts = [q["text"] for q in snapshot["questions"]]
    assert sorted(texts) == ["我的待审核问题", "看得见的问题"]
    assert snapshot["my_questions"] == [mine_pending.pk]
    assert snapshot["my_votes"] == []
    assert snapshot["poll"] is None
    assert snapshot["participants"] >= 0
    assert visible.pk in [q["id"] for q in snapshot["questions"]]
    await communicator.disconnect()


async def test_moderator_snapshot_includes_pending_questions_and_anonymous_authors(session, moderator, socialworker):
    await database_sync_to_async(make_question)(session, socialworker, "匿名的问题", anonymous=True)
    await database_sync_to_async(make_question)(session, socialworker, "待审核的问题", status="pending")
    communicator, _, _ = await room_communicator(session, moderator)
    snapshot = await receive(communicator)
    assert snapshot["role"] == "moderator"
    by_text = {q["text"]: q for q in snapshot["questions"]}
    assert set(by_text) == {"匿名的问题", "待审核的问题"}
    assert by_text["匿名的问题"]["author"] == {"id": socialworker.pk, "name": "李社工"}
    await communicator.disconnect()


async def test_participants_never_receive_the_author_of_an_anonymous_question(session, volunteer, socialworker):
    await database_sync_to_async(make_question)(session, socialworker, "匿名的问题", anonymous=True)
    communicator, _, _ = await room_communicator(session, volunteer)
    snapshot = await receive(communicator)
    (question,) = snapshot["questions"]
    assert question["anonymous"] is True
    assert question["author"] is None
    assert "李社工" not in str(snapshot)
    await communicator.disconnect()
