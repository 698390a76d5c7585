"""Batched room entry (live.selectors.joins, live.joins) answers exactly as the one-user selectors do."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission
from django.utils import timezone

from live import joins
from live.models import Ban, Poll, PollAnswer, PollAnswerChoice, PollChoice, Question, Registration, Vote
from live.selectors.joins import room_admissions, room_personal_states
from live.selectors.room import room_admission, room_personal_state, room_shared_state
from tests.factories import UserFactory
from tests.factories.live import make_live_session


def people():
    """One user of every kind the admission rules tell apart."""
    users = {
        "registered": UserFactory(username="j-registered"),
        "unregistered": UserFactory(username="j-unregistered"),
        "cancelled": UserFactory(username="j-cancelled"),
        "banned": UserFactory(username="j-banned"),
        "named_moderator": UserFactory(username="j-named"),
        "group_moderator": UserFactory(username="j-group", groups=["Moderators"]),
        "permission_holder": UserFactory(username="j-perm"),
        "superuser": UserFactory(username="j-super", is_superuser=True),
        "inactive_moderator": UserFactory(username="j-inactive", groups=["Moderators"], is_active=False),
        "organiser": UserFactory(username="j-organiser", groups=["Organisers"]),
    }
    users["permission_holder"].user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="moderate_live"))
    return users


def setup_session(users, *, registration_required):
    session = make_live_session(registration_required=registration_required,
                                moderators=[users["named_moderator"]])
    Registration.objects.create(session=session, user=users["registered"])
    Registration.objects.create(session=session, user=users["cancelled"], cancelled_at=timezone.now())
    Registration.objects.create(session=session, user=users["banned"])
    Ban.objects.create(session=session, user=users["banned"])
    return session


def fresh(user):
    """The user as authentication hands it over (no permission cache)."""
    return type(user).objects.get(pk=user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("registration_required", [True, False])
def test_batched_admissions_match_one_by_one(registration_required):
    users = people()
    session = setup_session(users, registration_required=registration_required)
    batched = room_admissions(session_id=session.pk, users=[fresh(u) for u in users.values()])
    for kind, user in users.items():
        one = room_admission(session_id=session.pk, user=fresh(user))
        got = batched[user.pk]
        assert (got.refusal, got.moderator, got.session and got.session.pk) == \
               (one.refusal, one.moderator, one.session and one.session.pk), kind
    refusals = {kind: batched[u.pk].refusal for kind, u in users.items()}
    assert refusals["banned"] == 4410
    assert (refusals["unregistered"] == 4403) is registration_required


@pytest.mark.django_db
def test_an_unknown_or_unpublished_session_is_not_found_for_everyone():
    users = people()
    draft = make_live_session(publish=False)
    for session_id in (draft.pk, 10**9):
        batched = room_admissions(session_id=session_id, users=[fresh(u) for u in users.values()])
        assert {a.refusal for a in batched.values()} == {4404}


@pytest.mark.django_db
def test_batched_personal_states_match_one_by_one():
    users = people()
    session = setup_session(users, registration_required=False)
    author = users["registered"]
    approved = [Question.objects.create(session=session, author=users["unregistered"], text=f"公开问题{i}",
                                        status=Question.Status.APPROVED) for i in range(3)]
    Question.objects.create(session=session, author=author, text="待审问题", status=Question.Status.PENDING)
    Question.objects.create(session=session, author=author, text="已驳回", status=Question.Status.DISMISSED)
    Vote.objects.create(question=approved[0], user=author)
    Vote.objects.create(question=approved[1], user=author)
    Vote.objects.create(question=approved[1], user=users["named_moderator"])
    poll = Poll.objects.create(session=session, question="你所在社区有派单群吗?", kind=Poll.Kind.MULTIPLE)
    yes, no = PollChoice.objects.create(poll=poll, text="有"), PollChoice.objects.create(poll=poll, text="没有")
    answer = PollAnswer.objects.create(poll=poll, user=author)
    PollAnswerChoice.objects.create(answer=answer, choice=yes)
    PollAnswerChoice.objects.create(answer=answer, choice=no)
    for moderator in (False, True):
        shared = room_shared_state(session=session, moderator=moderator)
        members = [(fresh(u), moderator) for u in users.values()]
        batched = room_personal_states(session=session, members=members, shared=shared)
        for kind, user in users.items():
            one = room_personal_state(session=session, user=fresh(user), moderator=moderator, shared=shared)
            one["my_choices"] = sorted(one["my_choices"])
            assert batched[user.pk] == one, (kind, moderator)
    shared = room_shared_state(session=session, moderator=False)
    mine = room_personal_states(session=session, members=[(fresh(author), False)], shared=shared)[author.pk]
    assert [q["text"] for q in mine["extra_questions"]] == ["待审问题"]
    assert mine["my_votes"] == sorted([approved[0].pk, approved[1].pk])
    assert mine["my_choices"] == sorted([yes.pk, no.pk])


@pytest.mark.django_db(transaction=True)
async def test_concurrent_connects_are_admitted_in_a_few_batches():
    def build():
        users = [UserFactory(username=f"j-many-{i}") for i in range(40)]
        return make_live_session(moderators=[users[0]]), [fresh(u) for u in users]

    session, users = await database_sync_to_async(build)()
    admissions = await asyncio.gather(*(joins.admit(session_id=session.pk, user=u) for u in users))
    assert [a.refusal for a in admissions] == [None] * 40
    assert [a.moderator for a in admissions] == [True] + [False] * 39
    assert joins.get_batcher("admit", None).batches <= 3
    shared = await database_sync_to_async(room_shared_state)(session=session, moderator=False)
    states = await asyncio.gather(*(joins.personal_state(session=session, user=u, moderator=False, shared=shared)
                                    for u in users))
    assert all(state["my_votes"] == [] for state in states)
    assert joins.get_batcher("personal", None).batches <= 3
