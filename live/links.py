"""Personal join links: one signed link per registration, so that a registrant taps it at 19:30 and is in the room
without a password check (as Zoom's registrant links do). docs/live.md, "Personal join links".

    /live/join/<registration pk, base 36>-<signature>/

The signature is an HMAC (SECRET_KEY, salt "live.links") of the registration, its session and its user, and of facts
that change when the link must die, as Django's password-reset tokens bind the password hash:
- the user's password hash (changing the password voids every link) and `is_active`, and the user's e-mail;
- the registration's own row: cancelling keeps the row but `link_check` refuses a cancelled one, and registering
  again makes a new row (a new pk), so an old link never comes back to life.
A link works until the session's end plus LINK_GRACE (read from the session at each use, so moving the session
moves the link's end with it). Nothing is stored: the link is derived again when it is needed.

A link never signs in a privileged account (`link_may_sign_in`): staff, superusers, anyone who may use the admin,
moderate live rooms or read reports, and anyone named as a session moderator or host. A forwarded link must not hand
over an organiser's account; for them the link leads to the log-in page with the room as next=.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, Substr
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from wagtail.models import PageViewRestriction

from live.models import Ban, LiveSessionPage, Registration, SessionModerator

SALT = "live.links"
LINK_GRACE = timedelta(hours=2)
SIGNATURE_LENGTH = 32  # hex characters of an HMAC-SHA256: 128 bits
LINK_PATTERN = r"(?P<token>[0-9a-z]{1,13}-[0-9a-f]{32})"
PATH_PREFIX = "/live/join/"

# Why a link did not sign in (the view turns each into a page; tests assert on them).
INVALID = "invalid"  # malformed, tampered, unknown registration, changed password or e-mail, deactivated user
CANCELLED = "cancelled"
EXPIRED = "expired"
PRIVILEGED = "privileged"


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _signature(registration: Registration, user) -> str:
    value = "|".join(str(part) for part in (
        registration.pk, registration.session_id, registration.user_id, user.password, user.is_active,
        (user.email or "").lower(),
    ))
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:SIGNATURE_LENGTH]


def link_token(registration: Registration) -> str:
    return f"{_b36(registration.pk)}-{_signature(registration, registration.user)}"


def link_path(registration: Registration) -> str:
    return f"{PATH_PREFIX}{link_token(registration)}/"


def link_url(registration: Registration) -> str:
    """The absolute link for messages (SITE_URL + path)."""
    return settings.SITE_URL + link_path(registration)


def link_expires_at(session: LiveSessionPage):
    return session.end + LINK_GRACE


PRIVILEGED_PERMISSIONS = (("wagtailadmin", "access_admin"), ("accounts", "moderate_live"),
                          ("accounts", "view_reports"))


def _privileged_permissions(user_ref) -> Exists:
    """Holds one of PRIVILEGED_PERMISSIONS, directly or through a group (what `has_perm` reads, in one subquery)."""
    named = Q()
    for app_label, codename in PRIVILEGED_PERMISSIONS:
        named |= Q(content_type__app_label=app_label, codename=codename)
    return Exists(Permission.objects.filter(named).filter(Q(user=user_ref) | Q(group__user=user_ref)))


def link_may_sign_in(user, session: LiveSessionPage | None = None) -> bool:
    """Only plain participants: never an account that can moderate, administer or read reports, nor anyone named
    as a moderator or host of any session. (link_check reads the same facts in its one query.)"""
    if not user.is_active or user.is_staff or user.is_superuser:
        return False
    if any(user.has_perm(f"{app_label}.{codename}") for app_label, codename in PRIVILEGED_PERMISSIONS):
        return False
    return not SessionModerator.objects.filter(user=user).exists()


@dataclass(frozen=True)
class LinkCheck:
    registration: Registration | None = None
    session: LiveSessionPage | None = None
    user: object = None
    problem: str | None = None  # None: the link may sign `user` in
    banned: bool = False  # removed from this session's room by a moderator
    restricted: bool = False  # the session page (or an ancestor) has Wagtail view restrictions

    @property
    def ok(self) -> bool:
        return self.problem is None


def link_check(token: str, *, now=None) -> LinkCheck:
    """Read a token: who it names and whether it may sign them in now (see the module's docstring).

    One query: the registration with its session and user, and whether the user is privileged (permissions,
    moderator of any session), banned from this room, and whether the page has view restrictions."""
    pk_text, _, signature = (token or "").partition("-")
    try:
        pk = int(pk_text, 36)
    except ValueError:
        return LinkCheck(problem=INVALID)
    if not 0 < pk < 2**63 or len(signature) != SIGNATURE_LENGTH:
        return LinkCheck(problem=INVALID)
    user_ref = OuterRef("user_id")
    registration = (
        Registration.objects.select_related("session", "user").filter(pk=pk)
        .annotate(
            privileged_perm=_privileged_permissions(user_ref),
            moderates=Exists(SessionModerator.objects.filter(user=user_ref)),
            banned=Exists(Ban.objects.filter(session=OuterRef("session_id"), user=user_ref)),
            restricted=Exists(PageViewRestriction.objects.filter(
                page__path=Substr(OuterRef("session__path"), 1, Length("page__path")))),
        )
        .first()
    )
    if registration is None or not constant_time_compare(signature, _signature(registration, registration.user)):
        return LinkCheck(problem=INVALID)
    user, session = registration.user, registration.session
    if not user.is_active:
        return LinkCheck(problem=INVALID)
    facts = {"registration": registration, "session": session, "user": user, "banned": registration.banned,
             "restricted": registration.restricted}
    if registration.cancelled_at is not None:
        return LinkCheck(**facts, problem=CANCELLED)
    if (now or timezone.now()) >= link_expires_at(session):
        return LinkCheck(**facts, problem=EXPIRED)
    if user.is_staff or user.is_superuser or registration.privileged_perm or registration.moderates:
        return LinkCheck(**facts, problem=PRIVILEGED)
    return LinkCheck(**facts)
