"""Joining the room: one set of rules (live.selectors.access) over facts read two ways, and joins as items of the
group commit (live/admission.py, live/batching.py) with the room's facts cached on its hub."""
import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission
from django.utils import timezone

from live.admission import JoinRequest
from live.batching import get_committer
from live.hub import get_hub
from live.models import Ban, Poll, PollAnswer, PollAnswerChoice, PollChoice, Question, Registration, Vote
from live.selectors.access import (
    UserFacts, join_facts, may_join, may_moderate, registered_among, room_facts,
)
from live.selectors.room import room_personal_states, room_shared_state
from live.services.access import ban_create
from tests.factories import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import receive, room_communicator, room_fixture

_room = room_fixture()

# kind: (may join when registration is required, may join when it is not, may moderate)
EXPECTED = {
    "registered": (True, True, False),
    "unregistered": (False, True, False),
    "cancelled": (False, True, False),
    "banned": (False, False, False),
    "named_moderator": (True, True, True),
    "group_moderator": (True, True, True),
    "permission_holder": (True, True, True),
    "superuser": (True, True, True),
    "inactive_moderator": (False, False, False),
    "organiser": (True, True, True),  # Organisers hold accounts.moderate_live
}


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
def test_the_one_rule_decides_every_kind_of_user_alike_from_facts_read_either_way(registration_required):
    users = people()
    session = setup_session(users, registration_required=registration_required)
    room = room_facts(session_id=session.pk)
    registered = registered_among(session=session, user_ids=[u.pk for u in users.values()])
    for kind, user in users.items():
        one_by_one = UserFacts(session, fresh(user))
        batched = join_facts(room, fresh(user), registered=user.pk in registered)
        expected_join = EXPECTED[kind][0 if registration_required else 1]
        assert (may_join(one_by_one), may_moderate(one_by_one)) == (expected_join, EXPECTED[kind][2]), kind
        assert (may_join(batched), may_moderate(batched)) == (expected_join, EXPECTED[kind][2]), kind


@pytest.mark.django_db
def test_room_facts_of_an_unknown_or_unpublished_session_name_no_session():
    draft = make_live_session(publish=False)
    assert room_facts(session_id=draft.pk).session is None
    assert room_facts(session_id=10**9).session is None


@pytest.mark.django_db
def test_personal_states_show_each_users_own_questions_votes_and_choices():
    users = people()
    session = setup_session(users, registration_required=False)
    author = users["registered"]
    approved = [Question.objects.create(session=session, author=users["unregistered"], text=f"公开问题{i}",
                                        status=Question.Status.APPROVED) for i in range(3)]
    pending = Question.objects.create(session=session, author=author, text="待审问题", status=Question.Status.PENDING)
    Question.objects.create(session=session, author=author, text="已驳回", status=Question.Status.DISMISSED)
    Vote.objects.create(question=approved[0], user=author)
    Vote.objects.create(question=approved[1], user=author)
    Vote.objects.create(question=approved[1], user=users["named_moderator"])
    poll = Poll.objects.create(session=session, question="你所在社区有派单群吗?", kind=Poll.Kind.MULTIPLE)
    yes, no = PollChoice.objects.create(poll=poll, text="有"), PollChoice.objects.create(poll=poll, text="没有")
    answer = PollAnswer.objects.create(poll=poll, user=author)
    PollAnswerChoice.objects.create(answer=answer, choice=yes)
    PollAnswerChoice.objects.create(answer=answer, choice=no)
    shared = room_shared_state(session=session, moderator=False)
    members = [(fresh(u), False) for u in users.values()]
    states = room_personal_states(session=session, members=members, shared=shared)
    mine = states[author.pk]
    assert [q["text"] for q in mine["extra_questions"]] == ["待审问题"]
    assert mine["my_votes"] == sorted([approved[0].pk, approved[1].pk])
    assert mine["my_questions"] == [pending.pk]
    assert mine["my_choices"] == sorted([yes.pk, no.pk])
    assert states[users["named_moderator"].pk]["my_votes"] == [approved[1].pk]
    assert states[users["superuser"].pk] == {"extra_questions": [], "my_votes": [], "my_questions": [],
                                             "my_choices": []}
    # Moderators see pending questions in the shared part, so theirs are not added again.
    shared = room_shared_state(session=session, moderator=True)
    assert room_personal_states(session=session, members=[(fresh(author), True)],
                                shared=shared)[author.pk]["extra_questions"] == []


def request_for(session_id, user, connection=None):
    return JoinRequest(session_id=session_id, user=user, django_session=None, connection=connection, snapshot=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("registration_required", [True, False])
async def test_a_batch_of_joins_refuses_and_admits_every_kind_of_user_with_its_close_code(registration_required):
    def build():
        users = people()
        return setup_session(users, registration_required=registration_required), {k: fresh(u) for k, u in
                                                                                   users.items()}

    session, users = await database_sync_to_async(build)()
    committer = get_committer()
    joined = dict(zip(users, await asyncio.gather(*(
        committer.enter(request_for(session.pk, u), outlet=None) for u in users.values()))))
    for kind, result in joined.items():
        may, moderator = EXPECTED[kind][0 if registration_required else 1], EXPECTED[kind][2]
        expected = None if may else (4410 if kind == "banned" else 4403)
        assert (result.refusal, result.moderator) == (expected, moderator), kind
        assert (result.personal is not None) is may, kind
    unknown = await committer.enter(request_for(10**9, users["superuser"]), outlet=None)
    assert unknown.refusal == 4404


@pytest.mark.django_db(transaction=True)
async def test_concurrent_joins_share_a_few_batches_and_open_only_the_admitted_spans():
    from live.models import AttendanceSpan

    def build():
        users = [UserFactory(username=f"j-many-{i}") for i in range(40)]
        session = make_live_session(moderators=[users[0]])
        Ban.objects.create(session=session, user=users[1])
        return session, [fresh(u) for u in users]

    session, users = await database_sync_to_async(build)()
    committer = get_committer()
    before = committer.batches
    joined = await asyncio.gather(*(committer.enter(request_for(session.pk, u, connection=f"c{i}"), outlet=None)
                                    for i, u in enumerate(users)))
    assert [j.refusal for j in joined] == [None, 4410] + [None] * 38
    assert [j.moderator for j in joined] == [True, False] + [False] * 38
    assert committer.batches - before <= 3
    assert sorted(committer.connections) == sorted(f"c{i}" for i in range(40) if i != 1)
    spans = await database_sync_to_async(lambda: set(AttendanceSpan.objects.filter(session=session)
                                                     .values_list("user_id", flat=True)))()
    assert spans == {u.pk for i, u in enumerate(users) if i != 1}


async def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.django_db(transaction=True)
async def test_the_hub_caches_the_rooms_facts_and_forgets_them_when_someone_is_banned(volunteer, socialworker,
                                                                                     moderator):
    session = await database_sync_to_async(make_live_session)(moderators=[moderator])
    first, _, _ = await room_communicator(session, volunteer)
    assert (await receive(first))["type"] == "snapshot"
    entrance = get_hub(session.pk).entrance
    assert entrance.current_facts() is not None and socialworker.pk not in entrance.facts.banned
    await database_sync_to_async(ban_create)(session=session, user=socialworker, by=moderator)
    await wait_for(lambda: entrance.facts is None)
    refused, _, _ = await room_communicator(session, socialworker)
    assert (await refused.receive_output())["code"] == 4410
    await first.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_newly_named_moderator_gets_the_moderators_stream_on_the_next_connect(volunteer, moderator):
    from live.models import SessionModerator

    session = await database_sync_to_async(make_live_session)(moderators=[moderator])
    first, _, _ = await room_communicator(session, volunteer)
    assert (await receive(first))["role"] == "participant"
    await first.disconnect()
    await database_sync_to_async(SessionModerator.objects.create)(page=session, user=volunteer)
    await wait_for(lambda: get_hub(session.pk).entrance.facts is None)
    again, _, _ = await room_communicator(session, volunteer)
    assert (await receive(again))["role"] == "moderator"
    await again.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_cached_facts_expire_after_the_ttl(volunteer, moderator, settings):
    settings.LIVE_ENTRANCE_TTL = 0.05
    session = await database_sync_to_async(make_live_session)(moderators=[moderator])
    first, _, _ = await room_communicator(session, volunteer)
    assert (await receive(first))["type"] == "snapshot"
    entrance = get_hub(session.pk).entrance
    assert entrance.facts is not None
    await wait_for(lambda: entrance.current_facts() is None)
    assert entrance.facts is not None  # kept, but too old to be used
    await first.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_join_looks_its_user_up_from_the_session_key_in_the_same_batch(volunteer):
    from tests.factories.live_room import room_cookie

    session = await database_sync_to_async(make_live_session)()
    cookie = await database_sync_to_async(room_cookie)(volunteer)
    key = cookie.partition("sessionid=")[2].split(";")[0]
    committer = get_committer()
    before = committer.batches
    signed_in, unknown = await asyncio.gather(
        committer.enter(JoinRequest(session_id=session.pk, user=None, session_key=key, django_session=None,
                                    connection=None, snapshot=True), outlet=None),
        committer.enter(JoinRequest(session_id=session.pk, user=None, session_key="x" * 32, django_session=None,
                                    connection=None, snapshot=True), outlet=None))
    assert committer.batches - before == 1
    assert (signed_in.refusal, signed_in.user.pk, signed_in.personal is not None) == (None, volunteer.pk, True)
    assert unknown.refusal == 4401
