"""Group commit: many votes in few transactions, each acknowledged after its commit, in order per user."""
import asyncio

import pytest
from channels.db import database_sync_to_async

from live.batching import get_committer
from live.models import Question, Vote
from live.services.room import RoomError
from tests.factories.accounts import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import make_question, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


async def test_votes_arriving_together_are_written_in_one_transaction(settings):
    settings.LIVE_BATCH_DELAY = 0.02
    session = await database_sync_to_async(make_live_session)()
    users = await database_sync_to_async(lambda: [UserFactory() for _ in range(40)])()
    question = await database_sync_to_async(make_question)(session, users[0])
    committer = get_committer()
    before = committer.batches
    results = await asyncio.gather(*[committer.vote(session_id=session.pk, question_id=question.pk, user_id=u.pk)
                                     for u in users])
    assert committer.batches - before == 1
    assert all(r["counted"] for r in results)
    assert {r["votes"] for r in results} == {40}
    assert await database_sync_to_async(Vote.objects.filter(question=question).count)() == 40


async def test_a_vote_and_an_unvote_in_one_batch_keep_their_order(volunteer):
    session = await database_sync_to_async(make_live_session)()
    question = await database_sync_to_async(make_question)(session, volunteer)
    committer = get_committer()
    vote = committer.vote(session_id=session.pk, question_id=question.pk, user_id=volunteer.pk)
    unvote = committer.vote(session_id=session.pk, question_id=question.pk, user_id=volunteer.pk, add=False)
    revote = committer.vote(session_id=session.pk, question_id=question.pk, user_id=volunteer.pk)
    first, second, third = await asyncio.gather(vote, unvote, revote)
    assert first["counted"] and second["removed"] and third["counted"]
    assert third["votes"] == 1
    assert (await database_sync_to_async(Question.objects.get)(pk=question.pk)).vote_count == 1


async def test_one_bad_vote_does_not_fail_the_others_in_its_batch(volunteer, socialworker):
    session = await database_sync_to_async(make_live_session)()
    question = await database_sync_to_async(make_question)(session, volunteer)
    committer = get_committer()
    good = committer.vote(session_id=session.pk, question_id=question.pk, user_id=socialworker.pk)
    bad = committer.vote(session_id=session.pk, question_id=question.pk + 1000, user_id=volunteer.pk)
    results = await asyncio.gather(good, bad, return_exceptions=True)
    assert results[0]["counted"] is True
    assert isinstance(results[1], RoomError) and results[1].code == "not_found"
