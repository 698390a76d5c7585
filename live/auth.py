"""Authentication for the room's WebSockets: Channels' AuthMiddlewareStack, with the look-ups of concurrent connects
batched.

Channels' AuthMiddleware loads each connection's session and then its user: two queries and two thread hops per
connect, serialised on the one thread that `database_sync_to_async` uses. In a join burst of thousands of phones that
caps connects at a few hundred per second. `RoomAuthMiddleware` keeps Channels' behaviour and collects the session
keys of connects that arrive while a look-up is running, then loads all of their sessions in one query and all of
their users in another (the first connect of a quiet moment goes at once: no added wait).

The fast path covers the common case exactly as `django.contrib.auth.get_user` decides it: the database session
engine, a session that has not expired, a backend whose `get_user` is ModelBackend's, an active user and a session
hash that matches with the current SECRET_KEY. Anything else (another session engine or backend, a hash that only a
fallback key verifies, a hash that does not verify and must flush the session) goes through Channels' own
`get_user`, one connection at a time, as before.
"""
from __future__ import annotations

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings

from live import joins

DB_SESSION_ENGINE = "django.contrib.sessions.backends.db"
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

    if settings.SESSION_ENGINE != DB_SESSION_ENGINE:
        return {}
    rows = Session.objects.filter(session_key__in=session_keys, expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data")
    store = SessionStore()
    sessions = {key: store.decode(data) for key, data in rows}
    result: dict = {key: ANONYMOUS for key in session_keys if key not in sessions}
    User = get_user_model()
    wanted = {}
    for key, data in sessions.items():
        backend_path = data.get(BACKEND_SESSION_KEY)
        if SESSION_KEY not in data or backend_path is None:
            result[key] = ANONYMOUS
            continue
        if backend_path not in settings.AUTHENTICATION_BACKENDS:
            result[key] = ANONYMOUS
            continue
        backend = load_backend(backend_path)
        if type(backend).get_user is not ModelBackend.get_user:
            continue  # a backend of its own: Channels' path
        try:
            wanted[key] = User._meta.pk.to_python(data[SESSION_KEY])
        except Exception:  # noqa: BLE001 - a malformed id is what get_user would refuse too
            result[key] = ANONYMOUS
    users = {user.pk: user for user in User._default_manager.filter(pk__in=set(wanted.values()))}
    can_authenticate = ModelBackend().user_can_authenticate
    for key, user_id in wanted.items():
        user = users.get(user_id)
        if user is None or not can_authenticate(user):
            result[key] = ANONYMOUS
            continue
        session_hash = sessions[key].get(HASH_SESSION_KEY)
        if session_hash and constant_time_compare(session_hash, user.get_session_auth_hash()):
            result[key] = user
        # else: fallback keys or a flush are Channels' business
    return result


def _load_users(_key, session_keys: list[str]) -> dict:
    # Off the one thread Channels serialises database work on (live.joins runs loads with thread_sensitive=False):
    # the look-ups of a join burst run beside the admissions and snapshots.
    return load_users(list(dict.fromkeys(session_keys)))


def _pick_user(users: dict, session_key: str):
    return users.get(session_key)


def get_batcher():
    """This process's batcher of the user look-ups of concurrent connects."""
    return joins.get_batcher("users", _load_users, _pick_user)


class RoomAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        from django.contrib.auth.models import AnonymousUser

        key = scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        user = await get_batcher().ask(None, key) if key else ANONYMOUS
        if user is None:  # not decidable by the fast path: Channels' own look-up
            user = await get_user(scope)
        scope["user"]._wrapped = AnonymousUser() if isinstance(user, str) else user


def RoomAuthMiddlewareStack(inner):
    """Drop-in for Channels' AuthMiddlewareStack."""
    return CookieMiddleware(SessionMiddleware(RoomAuthMiddleware(inner)))
