"""live.auth: the room's WebSocket authentication decides as Channels' AuthMiddleware does, in the group commit's
batches (here as a middleware that resolves the user itself; the room's routes leave it to the join's batch, which
tests/live/test_consumer_*.py and test_joins.py cover)."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.test import Client

from live.auth import RoomAuthMiddlewareStack
from live.batching import get_committer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def session_key_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def user_seen(cookie: str | None):
    seen = []

    async def inner(scope, receive, send):
        user = scope["user"]
        seen.append((user.is_authenticated, user.pk if user.is_authenticated else None))

    headers = [(b"cookie", cookie.encode())] if cookie else []
    await RoomAuthMiddlewareStack(inner, deferred=False)(
        {"type": "websocket", "path": "/ws/live/1/", "headers": headers}, None, None)
    return seen[0]


async def test_a_signed_in_session_gives_its_user():
    user = await database_sync_to_async(UserFactory)(username="room-auth-1")
    key = await database_sync_to_async(session_key_for)(user)
    assert await user_seen(f"sessionid={key}") == (True, user.pk)


async def test_missing_unknown_and_expired_sessions_are_anonymous():
    user = await database_sync_to_async(UserFactory)(username="room-auth-2")
    key = await database_sync_to_async(session_key_for)(user)
    assert await user_seen(None) == (False, None)
    assert await user_seen("sessionid=nosuchsessionkeyatallxxxxxxxxxxxx") == (False, None)
    from django.utils import timezone

    await database_sync_to_async(Session.objects.filter(session_key=key).update)(
        expire_date=timezone.now() - timezone.timedelta(seconds=1))
    assert await user_seen(f"sessionid={key}") == (False, None)


async def test_an_inactive_user_is_anonymous():
    user = await database_sync_to_async(UserFactory)(username="room-auth-3")
    key = await database_sync_to_async(session_key_for)(user)
    user.is_active = False
    await database_sync_to_async(user.save)()
    assert await user_seen(f"sessionid={key}") == (False, None)


async def test_a_session_from_before_a_password_change_is_refused_and_flushed():
    user = await database_sync_to_async(UserFactory)(username="room-auth-4")
    key = await database_sync_to_async(session_key_for)(user)
    user.set_password("another-password-456")
    await database_sync_to_async(user.save)()
    assert await user_seen(f"sessionid={key}") == (False, None)
    assert not await database_sync_to_async(Session.objects.filter(session_key=key).exists)()


async def test_concurrent_connects_share_their_look_ups():
    users = [await database_sync_to_async(UserFactory)(username=f"room-auth-many-{i}") for i in range(30)]
    keys = [await database_sync_to_async(session_key_for)(user) for user in users]
    committer = get_committer()
    before = committer.batches
    seen = await asyncio.gather(*(user_seen(f"sessionid={key}") for key in keys))
    assert seen == [(True, user.pk) for user in users]
    assert committer.batches - before <= 3  # 30 connects, a handful of look-ups (two queries each)


async def test_another_session_engine_goes_through_channels_own_lookup(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    user = await database_sync_to_async(UserFactory)(username="room-auth-5")
    key = await database_sync_to_async(session_key_for)(user)
    assert await user_seen(f"sessionid={key}") == (True, user.pk)
