"""The room's entry reads for many users at once: who may enter, and each one's part of the snapshot.

`room_admission` and `room_personal_state` (live/selectors/room.py) answer for one user with about a dozen queries;
in a join burst of thousands of phones per second that is the bottleneck. These answer the same questions for a
batch of users with a fixed number of queries (live/joins.py collects the batches). The rules are still
live.selectors.access's: tests/live/test_joins.py checks that both give the same answers for every kind of user.
When the project authenticates with other backends than Django's ModelBackend (whose permissions these queries
reproduce), `room_admissions` asks the one-user selector for each user instead.
"""
from __future__ import annotations

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from live import payloads
from live.models import Ban, LiveSessionPage, PollAnswerChoice, Question, Registration, SessionModerator, Vote
from live.selectors.room import (
    CLOSE_BANNED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, Admission, room_admission,
    session_view_restrictions, valid_id,
)

MODERATE_PERMISSION = ("accounts", "moderate_live")


PERMISSION_METHODS = ("has_perm", "get_all_permissions", "get_user_permissions", "get_group_permissions",
                      "_get_permissions", "_get_user_permissions", "_get_group_permissions")


def permissions_are_model_backends() -> bool:
    """True when every configured backend decides permissions as ModelBackend does (or not at all, as BaseBackend):
    then the queries below reproduce them. A log-in backend that only changes how users authenticate (by phone
    number, with a lock-out) keeps the batched path; one with permission rules of its own does not."""
    from django.contrib.auth import get_backends
    from django.contrib.auth.backends import BaseBackend, ModelBackend

    for backend in get_backends():
        for name in PERMISSION_METHODS:
            method = getattr(type(backend), name, None)
            if method is not None and method is not getattr(ModelBackend, name, None) \
                    and method is not getattr(BaseBackend, name, None):
                return False
    return True


def room_admissions(*, session_id: int, users: list) -> dict[int, Admission]:
    """{user pk: Admission} for signed-in `users`, as `room_admission` decides for each."""
    users = [u for u in users if u is not None and u.is_authenticated]
    if not permissions_are_model_backends():
        return {u.pk: room_admission(session_id=session_id, user=u) for u in users}
    session = LiveSessionPage.objects.live().filter(pk=session_id).first() if valid_id(session_id) else None
    if session is None:
        return {u.pk: Admission(None, refusal=CLOSE_NOT_FOUND) for u in users}
    restrictions = session_view_restrictions(session)
    active = [u.pk for u in users if u.is_active]
    banned = set(Ban.objects.filter(session=session, user_id__in=active).values_list("user_id", flat=True))
    named = set(SessionModerator.objects.filter(page=session, user_id__in=active).values_list("user_id", flat=True))
    permission = Permission.objects.filter(content_type__app_label=MODERATE_PERMISSION[0],
                                           codename=MODERATE_PERMISSION[1]).first()
    holders = set()
    if permission is not None:
        holders = set(get_user_model()._default_manager.filter(pk__in=active).filter(
            Q(user_permissions=permission) | Q(groups__permissions=permission)).values_list("pk", flat=True))
    registered = set()
    if session.registration_required:
        registered = set(Registration.objects.active().filter(session=session, user_id__in=active)
                         .values_list("user_id", flat=True))
    admissions = {}
    for user in users:
        if not user.is_active:
            admissions[user.pk] = Admission(session, refusal=CLOSE_FORBIDDEN)
        elif user.pk in banned:
            admissions[user.pk] = Admission(session, refusal=CLOSE_BANNED)
        else:
            moderator = user.is_superuser or user.pk in holders or user.pk in named
            if moderator or not session.registration_required or user.pk in registered:
                admissions[user.pk] = Admission(session, moderator=moderator, restrictions=restrictions)
            else:
                admissions[user.pk] = Admission(session, refusal=CLOSE_FORBIDDEN)
    return admissions


def room_personal_states(*, session: LiveSessionPage, members: list[tuple], shared: dict) -> dict[int, dict]:
    """{user pk: personal state} for `members` = [(user, moderator)], as `room_personal_state` gives for each."""
    listed = {q["id"] for q in shared["questions"]}
    ids = [user.pk for user, _ in members]
    participants = [user.pk for user, moderator in members if not moderator]
    pending = defaultdict(list)
    if participants:
        for q in Question.objects.filter(session=session, author_id__in=participants,
                                         status=Question.Status.PENDING).select_related("author", "replied_by"):
            pending[q.author_id].append(payloads.question(q, moderator=True))
    mine = defaultdict(set)
    for author_id, pk in Question.objects.filter(session=session, author_id__in=ids).values_list("author_id", "pk"):
        mine[author_id].add(pk)
    votes = defaultdict(set)
    for user_id, question_id in Vote.objects.filter(user_id__in=ids, question__session=session).values_list(
            "user_id", "question_id"):
        votes[user_id].add(question_id)
    choices = defaultdict(list)
    if shared["poll"]:
        for user_id, choice_id in PollAnswerChoice.objects.filter(
                answer__poll_id=shared["poll"]["id"], answer__user_id__in=ids).values_list("answer__user_id",
                                                                                            "choice_id"):
            choices[user_id].append(choice_id)
    states = {}
    for user, moderator in members:
        extra = [] if moderator else pending[user.pk]
        seen = listed | {q["id"] for q in extra}
        states[user.pk] = {
            "extra_questions": extra,
            "my_votes": sorted(votes[user.pk] & seen),
            "my_questions": sorted(mine[user.pk] & seen),
            "my_choices": sorted(choices[user.pk]),
        }
    return states


__all__ = ["CLOSE_UNAUTHENTICATED", "room_admissions", "room_personal_states"]
