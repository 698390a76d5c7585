"""Two reviewers never hold the same application: claims raced from threads against the real database.

Run on SQLite (default) and on PostgreSQL (DATABASE_URL=postgres://…): each thread has its own connection.
"""
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.factories import UserFactory
from volunteers import services
from volunteers.builders import make_application
from volunteers.models import AuditEntry, Claim

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 6


def _run(workers):
    barrier = threading.Barrier(len(workers))
    errors = []

    def wrap(func):
        def run():
            try:
                barrier.wait(timeout=30)
                func()
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()
        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a claiming thread hung"
    return errors


def test_reviewers_claiming_next_at_once_never_share_an_application(campaign):
    applications = [make_application(campaign, UserFactory(username=f"race{i}")) for i in range(18)]
    reviewers = [UserFactory(username=f"rev{i}", groups=["Reviewers"]) for i in range(THREADS)]
    taken = {r.pk: [] for r in reviewers}

    def worker(reviewer):
        def run():
            while True:
                application = services.claim_next(reviewer=reviewer)
                if application is None:
                    return
                taken[reviewer.pk].append(application.pk)
        return run

    errors = _run([worker(r) for r in reviewers])
    assert errors == []
    claimed = [pk for pks in taken.values() for pk in pks]
    assert sorted(claimed) == sorted(a.pk for a in applications)  # every one claimed, none twice
    assert Claim.objects.count() == len(applications)
    audit = Counter(AuditEntry.objects.filter(action="claimed").values_list("application_id", flat=True))
    assert set(audit.values()) == {1}


def test_reviewers_claiming_the_same_application_at_once_one_wins(campaign):
    application = make_application(campaign, UserFactory(username="contested"))
    reviewers = [UserFactory(username=f"same{i}", groups=["Reviewers"]) for i in range(THREADS)]
    winners = []

    def worker(reviewer):
        def run():
            try:
                services.claim_take(application=application, reviewer=reviewer)
                winners.append(reviewer.pk)
            except ValidationError as exc:
                assert exc.code == "claimed"
        return run

    errors = _run([worker(r) for r in reviewers])
    assert errors == []
    assert len(winners) == 1
    assert Claim.objects.get(application=application).reviewer_id == winners[0]


def test_reviewers_deciding_the_same_application_at_once_one_decision(campaign, training):
    application = make_application(campaign, UserFactory(username="decided"))
    reviewers = [UserFactory(username=f"dec{i}", groups=["Reviewers"]) for i in range(THREADS)]

    def worker(reviewer, index):
        def run():
            try:
                if index % 2:
                    services.application_approve(application=application, reviewer=reviewer)
                else:
                    services.application_reject(application=application, reviewer=reviewer, reason="名额已满。")
            except ValidationError:
                pass
        return run

    errors = _run([worker(r, i) for i, r in enumerate(reviewers)])
    assert errors == []
    decisions = AuditEntry.objects.filter(application=application, action__in=["approved", "rejected"])
    assert decisions.count() == 1
