"""Authentication for the room's WebSockets: Channels' AuthMiddlewareStack, with the look-ups of concurrent connects
batched.

Channels' AuthMiddleware loads each connection's session and then its user: two queries and two thread hops per
connect, serialised on the one thread that `database_sync_to_async` uses. In a join burst of thousands of phones that
caps connects at a few hundred per second. `RoomAuthMiddleware` keeps Channels' behaviour and hands each session
key to the room's group commit (live/batching.py), which loads the sessions of all connects of a batch in one query
and all of their users in another, in the same thread hop as the batch's joins, votes and spans.

The fast path covers the common case exactly as `django.contrib.auth.get_user` decides it: the database session
engine, a session that has not expired, a backend whose `get_user` is ModelBackend's (it asks the configured
backend's own `user_can_authenticate`: a log-in backend may refuse users ModelBackend would take), and a session
hash that matches with the current SECRET_KEY. Anything else (another session engine, a backend with its own
`get_user`, a hash that only a fallback key verifies, a hash that does not verify and must flush the session) goes
through Channels' own `get_user`, one connection at a time, as before.

It is a copy of what Django's `get_user` and `ModelBackend.get_user` decide, so it is gated: with another Django
release than DJANGO_TESTED, or if either function's source differs from the digests below, every connection goes
through Channels' `get_user` (slower, same answers), and tests/live/test_framework_copies.py fails so that the copy
is looked at again.
"""
from __future__ import annotations

import hashlib
import inspect
import logging
from dataclasses import dataclass

import django
from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings


logger = logging.getLogger(__name__)

DJANGO_TESTED = (5, 2)
DJANGO_SOURCES = {
    "django.contrib.auth.get_user": "08a852f701f765bc91f251764cc682d2d3f59d5d0fdfa2e1fc6fb9bba45ba960",
    "django.contrib.auth.backends.ModelBackend.get_user": "ab2f0fe76793811045cc08f3bed420b14226abf77356fe328f9c544d173f11b7",
}


def _django_sources() -> dict:
    from django.contrib import auth
    from django.contrib.auth.backends import ModelBackend

    functions = {"django.contrib.auth.get_user": auth.get_user,
                 "django.contrib.auth.backends.ModelBackend.get_user": ModelBackend.get_user}
    return {name: hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
            for name, function in functions.items()}


def django_copy_matches() -> bool:
    return tuple(django.VERSION[:2]) == DJANGO_TESTED and _django_sources() == DJANGO_SOURCES


_engaged: list = []


def fast_path_engaged() -> bool:
    """Checked once per process (Django's auth modules need the app registry, so not at import)."""
    if not _engaged:
        _engaged.append(django_copy_matches())
        if not _engaged[0]:
            logger.warning("live: Django %s is not the release the room's user look-up was checked against; using "
                           "Channels' get_user for every connect", django.get_version())
    return _engaged[0]

# Django's database sessions, and academy/sessions.py's (the same rows and encoding, written with fewer statements).
DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "academy.sessions")
ANONYMOUS = "anonymous"  # a session key with no signed-in user behind it


def load_users(session_keys: list[str]) -> dict:
    """{session key: user} for the keys the fast path can decide; ANONYMOUS for keys with no signed-in user.

    Keys missing from the result need Channels' own `get_user`.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import constant_time_compare

    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES or not fast_path_engaged():
        return {}
    rows = Session.objects.filter(session_key__in=session_keys, expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data")
    store = SessionStore()
    sessions = {key: store.decode(data) for key, data in rows}
    result: dict = {key: ANONYMOUS for key in session_keys if key not in sessions}
    User = get_user_model()
    wanted, backends, loaded = {}, {}, {}
    for key, data in sessions.items():
        backend_path = data.get(BACKEND_SESSION_KEY)
        if SESSION_KEY not in data or backend_path is None:
            result[key] = ANONYMOUS
            continue
        if backend_path not in settings.AUTHENTICATION_BACKENDS:
            result[key] = ANONYMOUS
            continue
        backend = loaded.get(backend_path) or loaded.setdefault(backend_path, load_backend(backend_path))
        if type(backend).get_user is not ModelBackend.get_user:
            continue  # a backend of its own: Channels' path
        backends[key] = backend
        try:
            wanted[key] = User._meta.pk.to_python(data[SESSION_KEY])
        except Exception:  # noqa: BLE001 - a malformed id is what get_user would refuse too
            result[key] = ANONYMOUS
    users = {user.pk: user for user in User._default_manager.filter(pk__in=set(wanted.values()))}
    for key, user_id in wanted.items():
        user = users.get(user_id)
        # ModelBackend.get_user asks `self.user_can_authenticate`: the configured backend's, not ModelBackend's.
        if user is None or not backends[key].user_can_authenticate(user):
            result[key] = ANONYMOUS
            continue
        session_hash = sessions[key].get(HASH_SESSION_KEY)
        if session_hash and constant_time_compare(session_hash, user.get_session_auth_hash()):
            result[key] = user
        # else: fallback keys or a flush are Channels' business
    return result


@dataclass
class UserLookup:
    """One connect's session key, as an item of the group commit (live/batching.py)."""

    session_key: str
    result: tuple | None = None  # (a user, ANONYMOUS, or None: not decidable by the fast path,)
    error: object = None


# Where a deferring RoomAuthMiddleware leaves the connection's session key for the room's consumer.
SESSION_KEY_SCOPE = "live.session_key"


async def user_resolve(scope, key: str | None, *, batched: bool = True):
    """The user of `scope` (AnonymousUser when none), from the session `key`: looked up in the group commit, and
    through Channels' own `get_user` when that cannot decide (or at once, without `batched`)."""
    from django.contrib.auth.models import AnonymousUser

    from live.batching import get_committer

    user = ANONYMOUS if batched else None
    if key and batched:
        try:
            user = await get_committer().user(key)
        except Exception:  # noqa: BLE001 - the batch failed: Channels' own look-up decides this one
            logger.warning("live: batched user look-up failed", exc_info=True)
            user = None
    if user is None:  # not decidable by the fast path: Channels' own look-up
        user = await get_user(scope)
    user = AnonymousUser() if isinstance(user, str) else user
    scope["user"]._wrapped = user
    return user


class RoomAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware with the look-ups in the group commit. With `deferred` (the room's routes), a
    connection with a session cookie is passed on unresolved, its key in scope[SESSION_KEY_SCOPE]: the room's
    consumer looks its user up in the same batch as its admission (live/admission.py), one round trip for both."""

    def __init__(self, inner, *, deferred: bool = False):
        super().__init__(inner)
        self.deferred = deferred

    async def resolve_scope(self, scope):
        key = scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        if key and self.deferred:
            scope[SESSION_KEY_SCOPE] = key
            return
        await user_resolve(scope, key)


def RoomAuthMiddlewareStack(inner, *, deferred: bool = False):
    """Drop-in for Channels' AuthMiddlewareStack (academy/asgi.py defers the look-up to the room's joins)."""
    return CookieMiddleware(SessionMiddleware(RoomAuthMiddleware(inner, deferred=deferred)))
