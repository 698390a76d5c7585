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

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from wagtail.models import Page, PageViewRestriction

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


def _check_sql() -> str:
    """One statement, written once: the registration and its user (every column of both, to build the objects),
    and the facts a link needs: is the user privileged (a permission directly or through a group, or named moderator
    or host of any session), banned from this room, and does the session page have view restrictions? Plain SQL
    (PostgreSQL and SQLite alike), because building the same from the ORM cost more CPU than the query itself
    (about 1 ms of a 6 ms tap for the ORM's compiler alone), and this runs once for each of thousands of taps in the
    minute before a session."""
    user_model = get_user_model()
    qn = connection.ops.quote_name
    user_perms = qn(user_model.user_permissions.through._meta.db_table)
    user_groups = qn(user_model.groups.through._meta.db_table)
    group_perms = qn(Permission.group_set.through._meta.db_table)
    named = " OR ".join(["(ct.app_label = %s AND p.codename = %s)"] * len(PRIVILEGED_PERMISSIONS))
    columns = ", ".join([f"r.{qn(field.column)}" for field in Registration._meta.concrete_fields]
                        + [f"u.{qn(field.column)}" for field in user_model._meta.concrete_fields])
    return f"""
        SELECT {columns},
          EXISTS (SELECT 1 FROM {qn(Permission._meta.db_table)} p
                  JOIN {qn(ContentType._meta.db_table)} ct ON ct.id = p.content_type_id
                  WHERE ({named})
                    AND (p.id IN (SELECT permission_id FROM {user_perms} WHERE user_id = r.user_id)
                         OR p.id IN (SELECT gp.permission_id FROM {group_perms} gp
                                     JOIN {user_groups} ug ON ug.group_id = gp.group_id
                                     WHERE ug.user_id = r.user_id))),
          EXISTS (SELECT 1 FROM {qn(SessionModerator._meta.db_table)} m WHERE m.user_id = r.user_id),
          EXISTS (SELECT 1 FROM {qn(Ban._meta.db_table)} b
                  WHERE b.session_id = r.session_id AND b.user_id = r.user_id),
          EXISTS (SELECT 1 FROM {qn(PageViewRestriction._meta.db_table)} v
                  JOIN {qn(Page._meta.db_table)} pg ON pg.id = v.page_id
                  WHERE substr(s.path, 1, length(pg.path)) = pg.path)
        FROM {qn(Registration._meta.db_table)} r
        JOIN {qn(user_model._meta.db_table)} u ON u.id = r.user_id
        JOIN {qn(Page._meta.db_table)} s ON s.id = r.session_id
        WHERE r.id = %s
    """


_shapes: dict[type, tuple[list[str], list]] = {}


def _shape(model) -> tuple[list[str], list]:
    """A model's concrete fields as a row gives them: their attribute names, and Django's converters (SQLite
    returns dates as text, for one) as the ORM's compiler applies them. Worked out once per model and process."""
    shape = _shapes.get(model)
    if shape is None:
        fields = model._meta.concrete_fields
        columns = [field.get_col(model._meta.db_table) for field in fields]
        converters = [
            (index, column, converter)
            for index, column in enumerate(columns)
            for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        ]
        shape = _shapes[model] = ([field.attname for field in fields], converters)
    return shape


def _from_row(model, values):
    """A model instance from its columns as the database gave them."""
    attnames, converters = _shape(model)
    values = list(values)
    for index, column, converter in converters:
        values[index] = converter(values[index], column, connection)
    return model.from_db(connection.alias, attnames, values)


_CHECK_SQL: str | None = None

# The session pages that links name, kept per process for a few seconds: at 19:30 thousands of taps name the same
# session, and loading a Wagtail page row (two tables, many columns) is most of what a tap costs. Publishing or
# unpublishing a session drops it here at once (live/apps.py connects the signals); other processes see the change
# within SESSION_SECONDS.
SESSION_SECONDS = 5.0
_sessions: dict[int, tuple[float, LiveSessionPage | None]] = {}


def _session(pk: int) -> LiveSessionPage | None:
    now = time.monotonic()
    hit = _sessions.get(pk)
    if hit is not None and hit[0] > now:
        return hit[1]
    if len(_sessions) > 256:
        _sessions.clear()
    session = LiveSessionPage.objects.filter(pk=pk).first()
    _sessions[pk] = (now + SESSION_SECONDS, session)
    return session


def forget_session(sender=None, instance=None, **kwargs) -> None:
    """Drop a session page from the per-process cache (on publish and unpublish)."""
    if instance is not None:
        _sessions.pop(instance.pk, None)


def _check_row(pk: int):
    """(registration with its user, privileged by permission, moderates, banned, restricted), or None."""
    global _CHECK_SQL
    if _CHECK_SQL is None:
        _CHECK_SQL = _check_sql()
    params = [part for pair in PRIVILEGED_PERMISSIONS for part in pair] + [pk]
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    user_model = get_user_model()
    registration_width, user_width = len(_shape(Registration)[0]), len(_shape(user_model)[0])
    registration = _from_row(Registration, row[:registration_width])
    registration.user = _from_row(user_model, row[registration_width:registration_width + user_width])
    return registration, *(bool(value) for value in row[registration_width + user_width:])


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

    One query (`_check_sql`): the registration with its user, and whether the user is privileged (permissions,
    moderator of any session), banned from this room, and whether the page has view restrictions. The session page
    comes from a short per-process cache."""
    pk_text, _, signature = (token or "").partition("-")
    try:
        pk = int(pk_text, 36)
    except ValueError:
        return LinkCheck(problem=INVALID)
    if not 0 < pk < 2**63 or len(signature) != SIGNATURE_LENGTH:
        return LinkCheck(problem=INVALID)
    found = _check_row(pk)
    if found is None:
        return LinkCheck(problem=INVALID)
    registration, privileged_perm, moderates, banned, restricted = found
    if not constant_time_compare(signature, _signature(registration, registration.user)):
        return LinkCheck(problem=INVALID)
    session = _session(registration.session_id)
    if session is None:
        return LinkCheck(problem=INVALID)
    registration.session = session
    user = registration.user
    if not user.is_active:
        return LinkCheck(problem=INVALID)
    facts = {"registration": registration, "session": session, "user": user, "banned": banned,
             "restricted": restricted}
    if registration.cancelled_at is not None:
        return LinkCheck(**facts, problem=CANCELLED)
    if (now or timezone.now()) >= link_expires_at(session):
        return LinkCheck(**facts, problem=EXPIRED)
    if user.is_staff or user.is_superuser or privileged_perm or moderates:
        return LinkCheck(**facts, problem=PRIVILEGED)
    return LinkCheck(**facts)
