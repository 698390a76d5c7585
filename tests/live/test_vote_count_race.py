"""Two processes' vote batches on one question: the stored `vote_count` includes both batches' votes.

PostgreSQL only. Under READ COMMITTED, a batch's `UPDATE … SET vote_count = (SELECT COUNT …)` that waits on the
question row for another batch re-checks the row after that batch commits, but its sub-select still counts from the
snapshot taken when the statement started: it would write a count missing the other batch's votes, unless the batch
locks its questions before inserting its votes (live/services/room_batch.py, `_apply_votes`). SQLite serialises
writers, so the interleaving cannot happen there: the test is skipped on SQLite, and fails instead when the run was
meant to be on the services (EXPECT_SERVICES=1 with a DATABASE_URL).

The interleaving is made certain rather than hoped for: a third transaction (a moderator's change to the question,
say) holds the question row with FOR NO KEY UPDATE, which lets the votes' foreign-key checks through (FOR KEY SHARE)
but stops both batches at their first lock of the row; the holder lets go only once both batches wait on a lock. On
the code without the up-front lock, both batches have inserted their votes by then and both wait in the UPDATE.
"""
import os
import threading
import time

import pytest
from django.db import connection, connections, transaction

from live.models import Question, Vote
from live.services.room_batch import VoteChange, room_batch_write
from tests.factories.accounts import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import make_question

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 3
VOTERS_PER_BATCH = 5


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        if os.environ.get("EXPECT_SERVICES") == "1" and os.environ.get("DATABASE_URL"):
            pytest.fail(f"EXPECT_SERVICES=1 with DATABASE_URL set, yet the tests run on {connection.vendor}")
        pytest.skip("PostgreSQL only: SQLite serialises writers")


def _waiting_on_locks(pids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)", [pids])
        return cursor.fetchone()[0]


def _batches_behind_a_held_question(question: Question, batches: list[list[VoteChange]]) -> list[Exception]:
    """Run each batch in its own thread (own connection) while this thread's transaction holds the question row;
    release it once every batch waits on a lock."""
    pids, errors, lock = [], [], threading.Lock()
    ready = threading.Barrier(len(batches) + 1)

    def run(batch):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                with lock:
                    pids.append(cursor.fetchone()[0])
            ready.wait(timeout=30)
            room_batch_write(votes=batch)
        except Exception as exc:  # reported below: a failed batch fails the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    with transaction.atomic():
        Question.objects.select_for_update(no_key=True).get(pk=question.pk)
        for thread in threads:
            thread.start()
        ready.wait(timeout=30)
        give_up = time.monotonic() + 30
        while _waiting_on_locks(pids) < len(batches):
            assert time.monotonic() < give_up, "the batches never both waited on the question row"
            assert all(thread.is_alive() for thread in threads), f"a batch ended without waiting: {errors}"
            time.sleep(0.01)  # poll pg_locks again
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a batch hung"
    return errors


def test_concurrent_vote_batches_on_one_question_store_every_vote_in_its_count():
    session = make_live_session()
    question = make_question(session, UserFactory(username="asker"))
    voters = [UserFactory(username=f"voter{n}") for n in range(2 * VOTERS_PER_BATCH * ROUNDS)]
    for round_ in range(ROUNDS):
        group = voters[round_ * 2 * VOTERS_PER_BATCH:(round_ + 1) * 2 * VOTERS_PER_BATCH]
        batches = [[VoteChange(session_id=session.pk, question_id=question.pk, user_id=user.pk, add=True)
                    for user in group[half * VOTERS_PER_BATCH:(half + 1) * VOTERS_PER_BATCH]] for half in (0, 1)]
        assert _batches_behind_a_held_question(question, batches) == []
        assert all(change.result["counted"] for batch in batches for change in batch)
        expected = (round_ + 1) * 2 * VOTERS_PER_BATCH
        assert Vote.objects.filter(question=question).count() == expected
        question.refresh_from_db()
        assert question.vote_count == expected
        # The batch that committed last reports the count with both batches' votes.
        assert max(change.result["votes"] for batch in batches for change in batch) == expected
