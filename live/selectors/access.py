"""Who may do what with a live session: join its room, moderate it, see its attendees and exports.

The rules are stated ONCE, as functions over facts (`may_join`, `may_moderate`, `may_view_reports`). Facts are read
in one of two ways, and the rules cannot tell which:
- `UserFacts(session, user)`: one user, each fact read when a rule first asks for it (the pages and services);
- `RoomFacts` + `JoinFacts`: the room's facts that are alike for everyone (the published session, its view
  restrictions, bans, named moderators, who holds the moderators' permission), read once and cached per room in each
  process (live/admission.py), and per user only what is theirs (registered?), for a whole batch of joins at once.
tests/live/test_joins.py checks every kind of user both ways.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import Q

from live.models import Ban, LiveSessionPage, Registration, SessionModerator

MODERATE_PERMISSION = "accounts.moderate_live"
VIEW_REPORTS_PERMISSION = "accounts.view_reports"


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# --- the rules ----------------------------------------------------------------------------------------------------
def may_moderate(facts) -> bool:
    """The session's named moderators and hosts, holders of accounts.moderate_live, and superusers."""
    return facts.signed_in and (facts.superuser or facts.moderate_permission or facts.named_moderator)


def may_join(facts) -> bool:
    """Signed in, not banned, and registered when the session requires registration (moderators always may)."""
    if not facts.signed_in or facts.banned:
        return False
    return may_moderate(facts) or not facts.registration_required or facts.registered


def may_view_reports(facts) -> bool:
    """Attendee list and exports: holders of accounts.view_reports, the session's named moderators, superusers."""
    return facts.signed_in and (facts.superuser or facts.view_reports_permission or facts.named_moderator)


# --- facts, one user at a time ------------------------------------------------------------------------------------
class UserFacts:
    """One user's facts about one session, each read (once) when a rule asks for it."""

    def __init__(self, session: LiveSessionPage, user):
        self.session, self.user = session, user
        self.signed_in = _signed_in(user)
        self.superuser = self.signed_in and user.is_superuser
        self.registration_required = session.registration_required

    @cached_property
    def banned(self) -> bool:
        return self.signed_in and Ban.objects.filter(session=self.session, user=self.user).exists()

    @cached_property
    def named_moderator(self) -> bool:
        return self.signed_in and SessionModerator.objects.filter(page=self.session, user=self.user).exists()

    @cached_property
    def moderate_permission(self) -> bool:
        return self.signed_in and self.user.has_perm(MODERATE_PERMISSION)

    @cached_property
    def view_reports_permission(self) -> bool:
        return self.signed_in and self.user.has_perm(VIEW_REPORTS_PERMISSION)

    @cached_property
    def registered(self) -> bool:
        return self.signed_in and Registration.objects.active().filter(session=self.session, user=self.user).exists()


# --- facts, a room and a batch of users at a time -----------------------------------------------------------------
@dataclass(frozen=True)
class RoomFacts:
    """What admission needs to know of a room that is the same for everyone (live/admission.py caches it)."""

    session: LiveSessionPage | None  # None: no published session of that id
    # The page's view restrictions (its own and its ancestors'), with their groups loaded: checked against each
    # connection's own Django session (a password restriction is passed per browser session, as Wagtail does).
    restrictions: tuple = ()
    banned: frozenset = frozenset()
    named_moderators: frozenset = frozenset()
    # Users granted accounts.moderate_live (themselves or through a group), or None when a configured backend
    # decides permissions its own way: then each user's `has_perm` is asked.
    moderate_holders: frozenset | None = frozenset()


@dataclass(frozen=True)
class JoinFacts:
    """One user's facts about one room, as a batch of joins reads them."""

    signed_in: bool
    superuser: bool = False
    banned: bool = False
    named_moderator: bool = False
    moderate_permission: bool = False
    registration_required: bool = False
    registered: bool = False
    view_reports_permission: bool = False  # not read for joins (no join rule asks it)


PERMISSION_METHODS = ("has_perm", "get_all_permissions", "get_user_permissions", "get_group_permissions",
                      "_get_permissions", "_get_user_permissions", "_get_group_permissions")


def permissions_are_model_backends() -> bool:
    """True when every configured backend decides permissions as ModelBackend does (or not at all, as BaseBackend):
    then `moderate_holders` reproduces them. A log-in backend that only changes how users authenticate (by phone
    number, with a lock-out) keeps the cached set; one with permission rules of its own does not."""
    from django.contrib.auth import get_backends
    from django.contrib.auth.backends import BaseBackend, ModelBackend

    for backend in get_backends():
        for name in PERMISSION_METHODS:
            method = getattr(type(backend), name, None)
            if method is not None and method is not getattr(ModelBackend, name, None) \
                    and method is not getattr(BaseBackend, name, None):
                return False
    return True


def room_facts(*, session_id: int) -> RoomFacts:
    """The room's shared facts: five queries, whatever the number of users (cached per room: live/admission.py)."""
    session = LiveSessionPage.objects.live().filter(pk=session_id).first()
    if session is None:
        return RoomFacts(None)
    holders = None
    if permissions_are_model_backends():
        app_label, codename = MODERATE_PERMISSION.split(".")
        holders = frozenset(get_user_model()._default_manager.filter(
            Q(user_permissions__content_type__app_label=app_label, user_permissions__codename=codename)
            | Q(groups__permissions__content_type__app_label=app_label, groups__permissions__codename=codename))
            .values_list("pk", flat=True))
    return RoomFacts(
        session=session,
        restrictions=tuple(session.get_view_restrictions().prefetch_related("groups")),
        banned=frozenset(Ban.objects.filter(session=session).values_list("user_id", flat=True)),
        named_moderators=frozenset(SessionModerator.objects.filter(page=session).values_list("user_id", flat=True)),
        moderate_holders=holders,
    )


def registered_among(*, session: LiveSessionPage, user_ids) -> set[int]:
    """Which of `user_ids` hold an active registration for `session` (one query)."""
    return set(Registration.objects.active().filter(session=session, user_id__in=list(user_ids))
               .values_list("user_id", flat=True))


def join_facts(room: RoomFacts, user, *, registered: bool = False) -> JoinFacts:
    """One user's JoinFacts from the room's facts (and whether they are registered, read per batch)."""
    if not _signed_in(user):
        return JoinFacts(signed_in=False)
    holders = room.moderate_holders
    return JoinFacts(
        signed_in=True,
        superuser=user.is_superuser,
        banned=user.pk in room.banned,
        named_moderator=user.pk in room.named_moderators,
        moderate_permission=(user.pk in holders) if holders is not None else user.has_perm(MODERATE_PERMISSION),
        registration_required=room.session.registration_required,
        registered=registered,
    )


# --- the questions pages and services ask -------------------------------------------------------------------------
def user_is_banned(*, session: LiveSessionPage, user) -> bool:
    return UserFacts(session, user).banned


def user_is_registered(*, session: LiveSessionPage, user) -> bool:
    return UserFacts(session, user).registered


def session_is_moderator(*, session: LiveSessionPage, user) -> bool:
    """Named on the session as one of its moderators or hosts."""
    return UserFacts(session, user).named_moderator


def session_can_moderate(*, session: LiveSessionPage, user) -> bool:
    return may_moderate(UserFacts(session, user))


def session_can_join(*, session: LiveSessionPage, user) -> bool:
    return may_join(UserFacts(session, user))


def session_can_view_reports(*, session: LiveSessionPage, user) -> bool:
    return may_view_reports(UserFacts(session, user))


def session_can_publish_recap(*, session: LiveSessionPage, user) -> bool:
    """Drafting the recap creates a Wagtail page: organisers who may add pages under the session."""
    if not session_can_view_reports(session=session, user=user):
        return False
    tester = session.permissions_for_user(user)
    # Not can_add_subpage(): once the one recap exists that says no, yet asking again must open the existing draft.
    return user.is_superuser or "add" in tester.permissions


def registration_count(*, session: LiveSessionPage) -> int:
    return Registration.objects.active().filter(session=session).count()


def seats_left(*, session: LiveSessionPage) -> int | None:
    """Seats still free, or None when the session has no capacity limit."""
    if not session.capacity:
        return None
    return max(session.capacity - registration_count(session=session), 0)


def registration_state(*, session: LiveSessionPage, user) -> str:
    """What the register button shows: registered, open, full, closed, ended (or anonymous)."""
    if _signed_in(user) and user_is_registered(session=session, user=user):
        return "registered"
    if session.status == "ended":
        return "ended"
    if not session.registration_open:
        return "closed"
    if seats_left(session=session) == 0:
        return "full"
    return "open" if _signed_in(user) else "anonymous"


def session_detail_context(*, session: LiveSessionPage, user) -> dict:
    """Everything the session page shows about this visitor's place in it."""
    status = session.status
    facts = UserFacts(session, user)
    return {
        "registration_state": registration_state(session=session, user=user),
        "registration_count": registration_count(session=session),
        "seats_left": seats_left(session=session),
        "can_join": may_join(facts),
        "can_moderate": may_moderate(facts),
        "can_view_reports": may_view_reports(facts),
        "is_banned": facts.banned,
        "is_live": status == "live",
        "status": status,
        "recap": session.published_recap(),
    }
