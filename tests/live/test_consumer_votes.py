"""Votes: acknowledged after commit, once per user and question (a constraint), exact counts, coalesced updates."""
import asyncio

import pytest
from channels.db import database_sync_to_async

from live.models import Question, Vote
from tests.factories.accounts import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import (
    answers, command, make_question, receive, receive_through, receive_until, room_communicator, room_fixture,
    send_command,
)

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


async def test_vote_is_acknowledged_after_commit_and_a_second_vote_is_not_counted(session, volunteer, socialworker):
    question = await database_sync_to_async(make_question)(session, socialworker, "值得点赞的问题")
    voter = await join(session, volunteer)
    first = await command(voter, "question.vote", "v1", question=question.pk)
    assert first == {"type": "ack", "id": "v1", "counted": True, "votes": 1}
    assert await database_sync_to_async(Vote.objects.filter(question=question, user=volunteer).count)() == 1
    second = await command(voter, "question.vote", "v2", question=question.pk)
    assert second == {"type": "ack", "id": "v2", "counted": False, "votes": 1}
    removed = await command(voter, "question.unvote", "u1", question=question.pk)
    assert removed == {"type": "ack", "id": "u1", "removed": True, "votes": 0}
    again = await command(voter, "question.unvote", "u2", question=question.pk)
    assert again == {"type": "ack", "id": "u2", "removed": False, "votes": 0}
    stored = await database_sync_to_async(Question.objects.get)(pk=question.pk)
    assert stored.vote_count == 0
    await voter.disconnect()


async def test_the_database_refuses_a_second_vote_row():
    from django.db import IntegrityError, transaction

    def insert_twice():
        session = make_live_session()
        user = UserFactory()
        question = make_question(session, user)
        Vote.objects.create(question=question, user=user)
        with pytest.raises(IntegrityError), transaction.atomic():
            Vote.objects.create(question=question, user=user)
    await database_sync_to_async(insert_twice)()


async def test_concurrent_votes_are_each_counted_once(session, socialworker, moderator):
    question = await database_sync_to_async(make_question)(session, socialworker, "热门问题")
    users = await database_sync_to_async(lambda: [UserFactory() for _ in range(12)])()
    voters = [await join(session, user) for user in users]
    watcher = await join(session, moderator)
    # Everyone votes at once, and the first four vote twice in the same instant.
    for i, c in enumerate(voters):
        await send_command(c, "question.vote", f"v{i}", question=question.pk)
        if i < 4:
            await send_command(c, "question.vote", f"w{i}", question=question.pk)
    found = await asyncio.gather(*[answers(c, [f"v{i}"] + ([f"w{i}"] if i < 4 else []))
                                   for i, c in enumerate(voters)])
    answers_ = [a for by_id in found for a in by_id.values()]
    assert len(answers_) == 16
    assert sum(1 for a in answers_ if a.get("counted") is True) == 12
    assert sum(1 for a in answers_ if a.get("counted") is False) == 4
    assert await database_sync_to_async(Vote.objects.filter(question=question).count)() == 12
    assert (await database_sync_to_async(Question.objects.get)(pk=question.pk)).vote_count == 12
    counts = await receive_until(watcher, lambda m: m["type"] == "counts" and m["votes"].get(str(question.pk)) == 12)
    assert counts["votes"] == {str(question.pk): 12}
    for communicator in voters + [watcher]:
        await communicator.disconnect()


async def test_counts_are_coalesced_not_sent_per_vote(session, socialworker, settings):
    settings.LIVE_COUNTS_INTERVAL = 0.4
    questions = await database_sync_to_async(lambda: [make_question(session, socialworker, f"问题{i}")
                                                      for i in range(3)])()
    users = await database_sync_to_async(lambda: [UserFactory() for _ in range(6)])()
    voters = [await join(session, user) for user in users]
    watcher = voters[0]
    # The join-time participant counts (sent at most every LIVE_PARTICIPANTS_INTERVAL): all six are in.
    await receive_until(watcher, lambda m: m["type"] == "counts" and m["participants"] == len(voters), timeout=10)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for i, c in enumerate(voters):
        for q in questions:
            await send_command(c, "question.vote", f"v{q.pk}", question=q.pk)
    await asyncio.gather(*[answers(c, [f"v{q.pk}" for q in questions]) for c in voters])
    expected = {str(q.pk): 6 for q in questions}
    final = {}

    def all_counted(message):
        if message["type"] == "counts":
            final.update(message["votes"])
        return final == expected

    messages = await receive_through(watcher, all_counted)
    elapsed = loop.time() - began
    counts = [m for m in messages if m["type"] == "counts"]
    # 18 votes, but at most one counts message per interval.
    assert 1 <= len(counts) <= int(elapsed / 0.4) + 1
    # Nothing changes them afterwards: the next counts carry the next change (an unvote), and only it.
    first = str(questions[0].pk)
    assert (await command(voters[1], "question.unvote", "u1", question=questions[0].pk))["type"] == "ack"
    after = [m for m in await receive_through(watcher, lambda m: m["type"] == "counts" and m["votes"].get(first) == 5)
             if m["type"] == "counts"]
    assert [m["votes"] for m in after] == [{first: 5}]
    for communicator in voters:
        await communicator.disconnect()


async def test_voting_is_rate_limited_per_user_with_an_error(session, volunteer, socialworker):
    questions = await database_sync_to_async(lambda: [make_question(session, socialworker, f"问题{i}")
                                                      for i in range(31)])()
    voter = await join(session, volunteer)
    answers = []
    for i, question in enumerate(questions):
        answers.append(await command(voter, "question.vote", f"v{i}", question=question.pk))
    assert all(a["type"] == "ack" for a in answers[:30])
    assert answers[30]["type"] == "error" and answers[30]["code"] == "rate_limited"
    assert await database_sync_to_async(Vote.objects.filter(user=volunteer).count)() == 30
    assert (await command(voter, "ping", "p"))["type"] == "ack"
    await voter.disconnect()


async def test_pending_and_dismissed_questions_cannot_be_voted_for(session, volunteer, socialworker):
    pending = await database_sync_to_async(make_question)(session, socialworker, "待审核", status="pending")
    dismissed = await database_sync_to_async(make_question)(session, socialworker, "已移除", status="dismissed")
    other_session = await database_sync_to_async(make_live_session)()
    elsewhere = await database_sync_to_async(make_question)(other_session, socialworker, "别的场次")
    voter = await join(session, volunteer)
    assert (await command(voter, "question.vote", "a", question=pending.pk))["code"] == "not_found"
    assert (await command(voter, "question.vote", "b", question=dismissed.pk))["code"] == "closed"
    assert (await command(voter, "question.vote", "c", question=elsewhere.pk))["code"] == "not_found"
    assert await database_sync_to_async(Vote.objects.count)() == 0
    await voter.disconnect()


async def test_snapshot_says_which_questions_i_voted_for(session, volunteer, socialworker):
    question = await database_sync_to_async(make_question)(session, socialworker, "点过赞的问题")
    voter = await join(session, volunteer)
    await command(voter, "question.vote", "v", question=question.pk)
    await voter.disconnect()
    again, _, _ = await room_communicator(session, volunteer)
    snapshot = await receive(again)
    assert snapshot["my_votes"] == [question.pk]
    assert snapshot["questions"][0]["votes"] == 1
    await again.disconnect()
