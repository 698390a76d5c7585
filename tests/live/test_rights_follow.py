"""Rights change, connections follow: log-out, a new password, deactivation and a lost moderator role close the
user's open room connections in every process (live/rights.py)."""
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from django.test import Client

from live.batching import get_committer
from live.models import SessionModerator
from tests.factories.live import make_live_session
from tests.factories.live_room import receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def joined(session, user=None, cookie=None):
    communicator, _, _ = await room_communicator(session, user, cookie=cookie)
    snapshot = await receive(communicator)
    assert snapshot["type"] == "snapshot"
    await get_committer().flush()  # the span that says where the user is
    return communicator, snapshot


async def closed_with(communicator, timeout=5) -> int:
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output["code"]
        json.loads(output["text"])  # counts or events before the close


async def test_logging_out_closes_that_browsers_connections_only(volunteer):
    session = await database_sync_to_async(make_live_session)()
    phone = await database_sync_to_async(signed_in)(volunteer)
    laptop = await database_sync_to_async(signed_in)(volunteer)
    on_phone, _ = await joined(session, cookie=f"sessionid={phone.cookies['sessionid'].value}")
    on_laptop, _ = await joined(session, cookie=f"sessionid={laptop.cookies['sessionid'].value}")
    await database_sync_to_async(phone.logout)()
    assert await closed_with(on_phone) == 4401
    answer = None
    await on_laptop.send_to(text_data=json.dumps({"type": "ping", "id": "p"}))
    while answer is None or answer.get("type") != "ack":
        answer = json.loads(await on_laptop.receive_from(timeout=3))
    await on_laptop.disconnect()


async def test_a_new_password_closes_every_connection_and_stale_sessions_cannot_return(volunteer):
    session = await database_sync_to_async(make_live_session)()
    client = await database_sync_to_async(signed_in)(volunteer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    communicator, _ = await joined(session, cookie=cookie)

    def change_password():
        volunteer.set_password("a-brand-new-password-2026")
        volunteer.save()
    await database_sync_to_async(change_password)()
    assert await closed_with(communicator) == 4412
    again, _, _ = await room_communicator(session, cookie=cookie)
    assert await closed_with(again) == 4401  # the old session's password hash no longer matches


async def test_a_deactivated_account_is_closed(volunteer):
    session = await database_sync_to_async(make_live_session)()
    communicator, _ = await joined(session, volunteer)

    def deactivate():
        volunteer.is_active = False
        volunteer.save()
    await database_sync_to_async(deactivate)()
    assert await closed_with(communicator) == 4412


async def test_a_moderator_leaving_the_moderators_group_loses_the_moderators_stream(moderator, volunteer):
    session = await database_sync_to_async(make_live_session)()
    as_moderator, snapshot = await joined(session, moderator)
    assert snapshot["role"] == "moderator"
    as_participant, _ = await joined(session, volunteer)
    group = await database_sync_to_async(Group.objects.get)(name="Moderators")
    await database_sync_to_async(moderator.groups.remove)(group)
    assert await closed_with(as_moderator) == 4412
    again, snapshot = await joined(session, moderator)
    assert snapshot["role"] == "participant"
    await again.disconnect()
    await as_participant.disconnect()


async def test_a_sessions_moderator_removed_from_it_is_downgraded(socialworker):
    session = await database_sync_to_async(make_live_session)(moderators=[socialworker])
    communicator, snapshot = await joined(session, socialworker)
    assert snapshot["role"] == "moderator"
    await database_sync_to_async(SessionModerator.objects.filter(page=session, user=socialworker).delete)()
    assert await closed_with(communicator) == 4412
    again, snapshot = await joined(session, socialworker)
    assert snapshot["role"] == "participant"
    await again.disconnect()


async def test_a_group_losing_the_moderate_permission_downgrades_its_members(socialworker):
    from django.contrib.auth.models import Permission

    def grant():
        group = Group.objects.create(name="值班主持")
        permission = Permission.objects.get(content_type__app_label="accounts", codename="moderate_live")
        group.permissions.add(permission)
        socialworker.groups.add(group)
        return group, permission
    group, permission = await database_sync_to_async(grant)()
    session = await database_sync_to_async(make_live_session)()
    communicator, snapshot = await joined(session, socialworker)
    assert snapshot["role"] == "moderator"
    await database_sync_to_async(group.permissions.remove)(permission)
    assert await closed_with(communicator) == 4412
    again, snapshot = await joined(session, socialworker)
    assert snapshot["role"] == "participant"
    await again.disconnect()
