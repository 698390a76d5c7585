"""Questions over the WebSocket: asking, pre- and post-moderation, anonymity, every moderator action, bad input."""
import json

import pytest
from channels.db import database_sync_to_async

from live.models import LiveSessionPage, Question
from tests.factories.live import make_live_session
from tests.factories.live_room import (
    barrier, command, event_numbered, make_question, receive, receive_through, receive_until, room_communicator,
    room_fixture,
)

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


def is_event(name):
    return lambda m: m.get("type") == "event" and m.get("name") == name


@pytest.fixture
def session(moderator):
    return make_live_session(moderators=[moderator])


@pytest.fixture
def pre_session(moderator):
    return make_live_session(moderators=[moderator], moderation_mode=LiveSessionPage.ModerationMode.PRE)


async def join(session, user):
    communicator, connected, _ = await room_communicator(session, user)
    assert connected
    snapshot = await receive(communicator)
    assert snapshot["type"] == "snapshot"
    return communicator


async def test_post_moderation_question_reaches_everyone_and_is_durable(session, volunteer, socialworker, moderator):
    asker, other, mod = [await join(session, u) for u in (volunteer, socialworker, moderator)]
    ack = await command(asker, "question.ask", "a1", text="  派单群怎么建?  ", anonymous=False)
    assert ack["type"] == "ack"
    assert ack["question"]["text"] == "派单群怎么建?"
    assert ack["question"]["status"] == "approved"
    assert ack["question"]["author"] == {"id": volunteer.pk, "name": "王志愿"}
    stored = await database_sync_to_async(Question.objects.get)(pk=ack["question"]["id"])
    assert stored.text == "派单群怎么建?" and stored.author_id == volunteer.pk
    for communicator in (asker, other, mod):
        event = await receive_until(communicator, is_event("question.created"))
        assert event["seq"] == 1
        assert event["data"]["question"]["id"] == stored.pk
        assert isinstance(event["ts"], int) and event["ts"] > 1_700_000_000_000
    for communicator in (asker, other, mod):
        await communicator.disconnect()


async def test_pre_moderation_hides_the_question_from_participants_until_approved(
        pre_session, volunteer, socialworker, moderator):
    asker, other, mod = [await join(pre_session, u) for u in (volunteer, socialworker, moderator)]
    ack = await command(asker, "question.ask", "a1", text="待审核的问题", anonymous=False)
    assert ack["question"]["status"] == "pending"
    question_id = ack["question"]["id"]
    created = await receive_until(mod, lambda m: m.get("type") == "event")
    assert created["name"] == "question.created"
    assert created["data"]["question"]["text"] == "待审核的问题"
    hidden = await receive_until(other, lambda m: m.get("type") == "event")
    assert hidden == {"type": "event", "seq": 1, "ts": created["ts"], "name": "hidden", "data": {}}
    approved = await command(mod, "question.approve", "m1", question=question_id)
    assert approved["question"]["status"] == "approved"
    seen = await receive_until(other, lambda m: m.get("type") == "event")
    assert seen["seq"] == 2 and seen["name"] == "question.approved"
    assert seen["data"]["question"]["text"] == "待审核的问题"
    for communicator in (asker, other, mod):
        await communicator.disconnect()


async def test_anonymous_question_hides_the_author_from_participants_only(session, volunteer, socialworker, moderator):
    asker, other, mod = [await join(session, u) for u in (volunteer, socialworker, moderator)]
    await command(asker, "question.ask", "a1", text="匿名提问", anonymous=True)
    to_other = await receive_until(other, is_event("question.created"))
    to_mod = await receive_until(mod, is_event("question.created"))
    assert to_other["data"]["question"]["author"] is None
    assert to_other["data"]["question"]["anonymous"] is True
    assert "王志愿" not in json.dumps(to_other, ensure_ascii=False)
    assert to_mod["data"]["question"]["author"] == {"id": volunteer.pk, "name": "王志愿"}
    assert to_other["seq"] == to_mod["seq"] == 1
    for communicator in (asker, other, mod):
        await communicator.disconnect()


async def test_every_moderator_action_is_an_event_with_consecutive_seq(session, volunteer, moderator):
    participant, mod = await join(session, volunteer), await join(session, moderator)
    first = await database_sync_to_async(make_question)(session, volunteer, "第一个")
    second = await database_sync_to_async(make_question)(session, volunteer, "第二个")
    topic_id = (await database_sync_to_async(lambda: session.agenda_topics.order_by("sort_order").first().pk)())
    actions = [
        ("question.highlight", {"question": first.pk}, "question.highlighted"),
        ("question.highlight", {"question": second.pk}, "question.highlighted"),
        ("question.reply", {"question": second.pk, "text": "谢谢提问,回答如下。"}, "question.replied"),
        ("question.pin", {"question": first.pk, "pinned": True}, "question.pinned"),
        ("question.topic", {"question": first.pk, "topic": topic_id}, "question.topic"),
        ("question.answered", {"question": second.pk}, "question.answered"),
        ("question.dismiss", {"question": first.pk}, "question.dismissed"),
        ("topic.set", {"topic": topic_id}, "topic.changed"),
        ("announce", {"text": "课件课后下载。"}, "announcement"),
        ("session.status", {"status": "live"}, "session.status"),
    ]
    for i, (kind, fields, _) in enumerate(actions):
        ack = await command(mod, kind, f"m{i}", **fields)
        assert ack["type"] == "ack", ack
    received = await receive_through(participant, event_numbered(len(actions)))
    received += await barrier(participant, mod)  # and nothing after them
    events = [m for m in received if m["type"] == "event"]
    assert [e["name"] for e in events] == [name for _, _, name in actions]
    assert [e["seq"] for e in events] == list(range(1, len(actions) + 1))
    highlighted = events[1]["data"]
    assert highlighted["question"]["id"] == second.pk and highlighted["previous"] == first.pk
    assert events[2]["data"]["question"]["reply"] == "谢谢提问,回答如下。"
    assert events[2]["data"]["question"]["replied_by"] == "赵主持"
    assert events[4]["data"]["question"]["topic"] == topic_id
    assert events[5]["data"]["question"]["status"] == "answered"
    assert events[5]["data"]["question"]["highlighted"] is False
    assert events[6]["data"] == {"question": {"id": first.pk, "status": "dismissed"}}
    assert events[7]["data"]["topic"]["id"] == topic_id
    assert events[8]["data"]["announcement"]["text"] == "课件课后下载。"
    assert events[9]["data"]["status"] == "live"
    refreshed = await database_sync_to_async(Question.objects.get)(pk=first.pk)
    assert refreshed.status == "dismissed" and refreshed.pinned and refreshed.topic_id == topic_id
    await participant.disconnect()
    await mod.disconnect()


async def test_participants_may_not_moderate(session, volunteer, moderator):
    participant = await join(session, volunteer)
    question = await database_sync_to_async(make_question)(session, volunteer, "我的问题")
    for i, (kind, fields) in enumerate([
        ("question.approve", {"question": question.pk}), ("question.dismiss", {"question": question.pk}),
        ("question.answered", {"question": question.pk}), ("question.highlight", {"question": question.pk}),
        ("question.reply", {"question": question.pk, "text": "自问自答"}),
        ("question.pin", {"question": question.pk, "pinned": True}),
        ("question.topic", {"question": question.pk, "topic": None}), ("topic.set", {"topic": None}),
        ("poll.open", {"question": "投票?", "kind": "single", "choices": ["是", "否"]}),
        ("announce", {"text": "我来发通知"}), ("user.ban", {"user": volunteer.pk}),
        ("session.status", {"status": "ended"}),
    ]):
        answer = await command(participant, kind, f"x{i}", **fields)
        assert answer["type"] == "error" and answer["code"] == "forbidden", (kind, answer)
        assert answer["message"] == "只有本场的主持人和主讲人可以这样做。"
    stored = await database_sync_to_async(Question.objects.get)(pk=question.pk)
    assert stored.status == "approved" and not stored.highlighted and not stored.pinned
    mod = await join(session, moderator)
    assert not [m for m in await barrier(participant, mod) if m["type"] == "event"]
    await participant.disconnect()
    await mod.disconnect()


async def test_bad_input_gets_an_error_and_the_connection_stays_open(session, volunteer):
    participant = await join(session, volunteer)
    await participant.send_to(text_data="{not json")
    bad = await receive_until(participant, lambda m: m["type"] == "error")
    assert bad["type"] == "error" and bad["code"] == "bad_json" and "id" not in bad
    await participant.send_to(text_data="[1, 2]")
    assert (await receive_until(participant, lambda m: m["type"] == "error"))["code"] == "bad_json"
    unknown = await command(participant, "question.delete", "u1", question=1)
    assert unknown["code"] == "unknown_type" and unknown["id"] == "u1"
    empty = await command(participant, "question.ask", "e1", text="   ")
    assert empty["code"] == "invalid" and empty["field"] == "text"
    too_long = await command(participant, "question.ask", "e2", text="长" * 301)
    assert too_long["code"] == "invalid" and "300" in too_long["message"]
    wrong_type = await command(participant, "question.vote", "e3", question="1")
    assert wrong_type["code"] == "invalid" and wrong_type["field"] == "question"
    bad_anonymous = await command(participant, "question.ask", "e4", text="你好", anonymous="yes")
    assert bad_anonymous["code"] == "invalid" and bad_anonymous["field"] == "anonymous"
    await participant.send_to(text_data=json.dumps({"type": "ping", "id": "x" * 65}))
    assert (await receive_until(participant, lambda m: m["type"] == "error"))["code"] == "invalid"
    missing = await command(participant, "question.vote", "e5", question=987654)
    assert missing["code"] == "not_found"
    assert (await command(participant, "ping", "p1")) == {"type": "ack", "id": "p1"}
    assert await database_sync_to_async(Question.objects.count)() == 0
    await participant.disconnect()


async def test_asking_is_rate_limited_with_an_error_not_a_disconnect(session, volunteer):
    participant = await join(session, volunteer)
    for i in range(3):
        assert (await command(participant, "question.ask", f"a{i}", text=f"问题{i}"))["type"] == "ack"
    limited = await command(participant, "question.ask", "a3", text="第四个问题")
    assert limited["code"] == "rate_limited"
    assert (await command(participant, "ping", "p"))["type"] == "ack"
    assert await database_sync_to_async(Question.objects.count)() == 3
    await participant.disconnect()


async def test_question_text_is_kept_verbatim_as_plain_text(session, volunteer, socialworker):
    asker, other = await join(session, volunteer), await join(session, socialworker)
    text = '<script>alert("x")</script> & <b>粗体</b>'
    await command(asker, "question.ask", "a1", text=text)
    event = await receive_until(other, is_event("question.created"))
    assert event["data"]["question"]["text"] == text
    await asker.disconnect()
    await other.disconnect()


async def test_asking_after_the_session_ended_is_refused(session, volunteer, moderator):
    mod, participant = await join(session, moderator), await join(session, volunteer)
    assert (await command(mod, "session.status", "s1", status="ended"))["status"] == "ended"
    refused = await command(participant, "question.ask", "a1", text="还能提问吗?")
    assert refused["code"] == "closed"
    await mod.disconnect()
    await participant.disconnect()


async def test_moderators_read_the_queue_page_by_page_with_exact_counts(moderator, volunteer):
    session = await database_sync_to_async(make_live_session)(moderators=[moderator], moderation_mode="pre")

    def many():
        Question.objects.bulk_create([Question(session=session, author=volunteer, text=f"问题{i}", status="pending")
                                      for i in range(620)])
        Question.objects.create(session=session, author=volunteer, text="排班表怎么共享", status="approved")
    await database_sync_to_async(many)()
    mod, _, _ = await room_communicator(session, moderator)
    snapshot = await receive(mod)
    assert len(snapshot["questions"]) == 500
    assert snapshot["question_counts"] == {"pending": 620, "approved": 1, "answered": 0, "dismissed": 0}
    oldest = min(q["id"] for q in snapshot["questions"] if q["status"] == "pending")
    page = await command(mod, "questions.list", "l1", status="pending", before=oldest, limit=100)
    assert len(page["questions"]) == 100 and page["more"] is True
    assert all(q["id"] < oldest and q["status"] == "pending" for q in page["questions"])
    last = await command(mod, "questions.list", "l2", status="pending", before=min(q["id"] for q in page["questions"]),
                         limit=100)
    in_snapshot = sum(q["status"] == "pending" for q in snapshot["questions"])
    assert len(last["questions"]) == 620 - in_snapshot - 100 and last["more"] is False
    found = await command(mod, "questions.list", "l3", status="approved", search="排班")
    assert [q["text"] for q in found["questions"]] == ["排班表怎么共享"]
    assert (await command(mod, "questions.list", "l4", status="whatever"))["code"] == "invalid"
    assert (await command(mod, "questions.list", "l5", status="pending", limit=1000))["field"] == "limit"
    participant, _, _ = await room_communicator(session, volunteer)
    assert "question_counts" not in await receive(participant)
    assert (await command(participant, "questions.list", "p1", status="pending"))["code"] == "forbidden"
    await mod.disconnect()
    await participant.disconnect()
