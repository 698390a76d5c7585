"""Polls: a host opens and closes them, participants answer once, tallies arrive as coalesced counts."""
import pytest
from channels.db import database_sync_to_async

from live.models import Poll, PollAnswer
from tests.factories.live import make_live_session
from tests.factories.live_room import command, receive, receive_until, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


@pytest.fixture
def session(moderator):
    return make_live_session(moderators=[moderator])


async def join(session, user):
    communicator, connected, _ = await room_communicator(session, user)
    assert connected
    assert (await receive(communicator))["type"] == "snapshot"
    return communicator


async def test_single_choice_poll_from_open_to_close(session, volunteer, socialworker, moderator):
    mod, first, second = [await join(session, u) for u in (moderator, volunteer, socialworker)]
    opened = await command(mod, "poll.open", "o", question="社区是否已建立派单群?", kind="single",
                           choices=["已建立", "还没有", "正在筹备"])
    poll = opened["poll"]
    assert poll["status"] == "open" and [c["text"] for c in poll["choices"]] == ["已建立", "还没有", "正在筹备"]
    event = await receive_until(first, lambda m: m.get("name") == "poll.opened")
    assert event["data"]["poll"]["id"] == poll["id"]
    yes, no = poll["choices"][0]["id"], poll["choices"][1]["id"]
    assert await command(first, "poll.answer", "a", poll=poll["id"], choices=[yes]) == {
        "type": "ack", "id": "a", "counted": True}
    assert (await command(first, "poll.answer", "b", poll=poll["id"], choices=[no]))["counted"] is False
    assert (await command(second, "poll.answer", "c", poll=poll["id"], choices=[yes, no]))["code"] == "invalid"
    assert (await command(second, "poll.answer", "d", poll=poll["id"], choices=[no]))["counted"] is True
    counts = await receive_until(mod, lambda m: m["type"] == "counts"
                                 and m["polls"].get(str(poll["id"])) == {str(yes): 1, str(no): 1,
                                                                         str(poll["choices"][2]["id"]): 0})
    assert counts["respondents"] == {str(poll["id"]): 2}
    closed = await command(mod, "poll.close", "x", poll=poll["id"])
    assert closed["poll"]["status"] == "closed"
    assert [c["votes"] for c in closed["poll"]["choices"]] == [1, 1, 0]
    final = await receive_until(first, lambda m: m.get("name") == "poll.closed")
    assert final["data"]["poll"]["respondents"] == 2
    late = await command(second, "poll.answer", "e", poll=poll["id"], choices=[yes])
    assert late["code"] == "closed"
    answers = await database_sync_to_async(lambda: list(PollAnswer.objects.values_list("user_id", flat=True)))()
    assert sorted(answers) == sorted([volunteer.pk, socialworker.pk])
    for communicator in (mod, first, second):
        await communicator.disconnect()


async def test_multiple_choice_poll_counts_each_choice_and_reconnect_shows_my_answer(session, volunteer, moderator):
    mod, voter = await join(session, moderator), await join(session, volunteer)
    poll = (await command(mod, "poll.open", "o", question="需要哪些模板?", kind="multiple",
                          choices=["派单表", "排班表", "志愿者守则"]))["poll"]
    ids = [c["id"] for c in poll["choices"]]
    assert (await command(voter, "poll.answer", "a", poll=poll["id"], choices=[ids[0], ids[2]]))["counted"]
    await voter.disconnect()
    again, _, _ = await room_communicator(session, volunteer)
    snapshot = await receive(again)
    assert snapshot["poll"]["id"] == poll["id"]
    assert sorted(snapshot["poll"]["my_choices"]) == [ids[0], ids[2]]
    assert [c["votes"] for c in snapshot["poll"]["choices"]] == [1, 0, 1]
    await again.disconnect()
    await mod.disconnect()


async def test_opening_a_poll_closes_the_open_one_and_bad_polls_are_refused(session, moderator):
    mod = await join(session, moderator)
    first = (await command(mod, "poll.open", "o1", question="第一题", kind="single", choices=["甲", "乙"]))["poll"]
    second = (await command(mod, "poll.open", "o2", question="第二题", kind="single", choices=["丙", "丁"]))["poll"]
    statuses = await database_sync_to_async(lambda: dict(Poll.objects.values_list("pk", "status")))()
    assert statuses == {first["id"]: "closed", second["id"]: "open"}
    assert (await command(mod, "poll.open", "o3", question="只有一个选项", kind="single",
                          choices=["甲"]))["code"] == "invalid"
    assert (await command(mod, "poll.open", "o4", question="种类不对", kind="ranked",
                          choices=["甲", "乙"]))["field"] == "kind"
    assert (await command(mod, "poll.open", "o5", question=" ", kind="single",
                          choices=["甲", "乙"]))["field"] == "question"
    assert (await command(mod, "poll.close", "c", poll=999999))["code"] == "not_found"
    await mod.disconnect()
