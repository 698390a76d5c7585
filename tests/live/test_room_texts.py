"""Every text the room accepts (questions, replies, announcements, poll texts, ban reasons) goes through the
project's one cleaning rule (academy.text): no control or bidirectional characters, no invisible-only text."""
import pytest
from channels.db import database_sync_to_async

from live.models import Announcement, Ban, Poll, Question
from tests.factories.live import make_live_session
from tests.factories.live_room import command, make_question, receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()

HOSTILE = "\u202e=HYPERLINK(1)\x07\x1b[31m 怎么\u200b报名\ufeff？\x00"


async def test_hostile_characters_are_removed_from_every_room_text(moderator, volunteer):
    session = await database_sync_to_async(make_live_session)(moderators=[moderator])
    host, _, _ = await room_communicator(session, moderator)
    assert (await receive(host))["type"] == "snapshot"
    asked = await command(host, "question.ask", "a", text=HOSTILE + "\n第二行")
    assert asked["type"] == "ack"
    assert asked["question"]["text"] == "=HYPERLINK(1)[31m 怎么\u200b报名？\n第二行"
    replied = await command(host, "question.reply", "r", question=asked["question"]["id"], text=HOSTILE)
    assert "\u202e" not in replied["question"]["reply"] and "\x07" not in replied["question"]["reply"]
    announced = await command(host, "announce", "n", text="\u2066通知\u2069\x7f")
    assert announced["announcement"]["text"] == "通知"
    poll = await command(host, "poll.open", "p", question="选\n哪个\x1f？", kind="single", choices=["甲\u202d", "乙\r"])
    assert poll["poll"]["question"] == "选 哪个？"
    assert [c["text"] for c in poll["poll"]["choices"]] == ["甲", "乙"]
    target = await database_sync_to_async(make_question)(session, volunteer)
    banned = await command(host, "user.ban", "b", user=volunteer.pk, reason="刷屏\x00\u202e")
    assert banned["type"] == "ack"
    assert await database_sync_to_async(lambda: Ban.objects.get(session=session).reason)() == "刷屏"
    stored = await database_sync_to_async(lambda: (
        Question.objects.exclude(pk=target.pk).get(session=session).text,
        Announcement.objects.get(session=session).text, Poll.objects.get(session=session).question))()
    assert all("\u202e" not in text and "\x07" not in text and "\u2066" not in text for text in stored)
    await host.disconnect()


@pytest.mark.parametrize("text", ["\u200b\u200c\ufeff", "\u202e\u202c", " \x00\t\n ", "\u2060\u200d"])
async def test_text_that_is_only_invisible_characters_is_refused(volunteer, text):
    session = await database_sync_to_async(make_live_session)()
    communicator, _, _ = await room_communicator(session, volunteer)
    assert (await receive(communicator))["type"] == "snapshot"
    answer = await command(communicator, "question.ask", "a", text=text)
    assert answer["type"] == "error" and answer["code"] == "invalid" and answer["field"] == "text"
    assert await database_sync_to_async(Question.objects.filter(session=session).count)() == 0
    await communicator.disconnect()


def test_the_room_scripts_show_texts_as_text_never_as_html():
    from pathlib import Path

    for script in Path("live/static/live").glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source, f"{script.name} uses {sink}"
