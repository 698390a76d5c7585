"""Private sessions (Wagtail's privacy settings: a shared password, groups, log-in): the room's WebSocket admits
exactly whom the session page admits, and so do the room page, the console and the exports."""
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from wagtail.models import PageViewRestriction

from tests.factories.live import make_live_session
from tests.factories.live_room import receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()

PASSWORD = "lianshe-2026"  # noqa: S105 - a page's shared password in a test


def restrict(session, kind, *, groups=()):
    restriction = PageViewRestriction.objects.create(page=session, restriction_type=kind,
                                                     password=PASSWORD if kind == "password" else "")
    restriction.groups.set(groups)
    return restriction


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cookie_of(client: Client) -> str:
    return f"sessionid={client.cookies['sessionid'].value}"


def pass_password(client: Client, restriction, session) -> None:
    response = client.post(reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, session.pk]),
                           {"password": PASSWORD, "return_url": session.url})
    assert response.status_code == 302


async def first_message_or_close(communicator):
    output = await communicator.receive_output(timeout=3)
    if output["type"] == "websocket.close":
        return output["code"]
    import json

    return json.loads(output["text"])["type"]


async def test_password_protected_room_needs_the_pages_password_in_this_browser_session(volunteer):
    session = await database_sync_to_async(make_live_session)()
    restriction = await database_sync_to_async(restrict)(session, "password")
    client = await database_sync_to_async(signed_in)(volunteer)
    communicator, _, _ = await room_communicator(session, cookie=cookie_of(client))
    assert await first_message_or_close(communicator) == 4411
    await database_sync_to_async(pass_password)(client, restriction, session)
    communicator, _, _ = await room_communicator(session, cookie=cookie_of(client))
    assert await first_message_or_close(communicator) == "snapshot"
    await communicator.disconnect()
    # Another browser session of the same user has not given the password.
    other, _, _ = await room_communicator(session, volunteer)
    assert await first_message_or_close(other) == 4411


async def test_group_restricted_room_admits_only_the_groups_members(volunteer, socialworker):
    group = await database_sync_to_async(Group.objects.create)(name="武汉社区志愿者")
    await database_sync_to_async(socialworker.groups.add)(group)
    session = await database_sync_to_async(make_live_session)()
    await database_sync_to_async(restrict)(session, "groups", groups=[group])
    outsider, _, _ = await room_communicator(session, volunteer)
    assert await first_message_or_close(outsider) == 4411
    member, _, _ = await room_communicator(session, socialworker)
    assert await first_message_or_close(member) == "snapshot"
    await member.disconnect()


async def test_restriction_on_an_ancestor_page_applies_to_the_room(volunteer):
    session = await database_sync_to_async(make_live_session)()
    parent = await database_sync_to_async(lambda: session.get_parent())()
    await database_sync_to_async(restrict)(parent, "password")
    communicator, _, _ = await room_communicator(session, volunteer)
    assert await first_message_or_close(communicator) == 4411


async def test_log_in_restriction_admits_signed_in_users(volunteer):
    session = await database_sync_to_async(make_live_session)()
    await database_sync_to_async(restrict)(session, "login")
    communicator, _, _ = await room_communicator(session, volunteer)
    assert await first_message_or_close(communicator) == "snapshot"
    await communicator.disconnect()


def test_room_console_and_exports_of_a_password_protected_session_ask_for_the_password(moderator):
    session = make_live_session(moderators=[moderator])
    restriction = restrict(session, "password")
    client = signed_in(moderator)
    for suffix in ("room/", "console/", "attendees/", "export/questions.csv", "export/attendance.xlsx"):
        response = client.get(session.url + suffix)
        assert response.status_code == 200, suffix
        assert b'name="password"' in response.content, suffix
        assert b"data-room" not in response.content and b"\xef\xbb\xbf" not in response.content[:3], suffix
    pass_password(client, restriction, session)
    assert b'name="password"' not in client.get(session.url + "room/").content
    assert client.get(session.url + "export/questions.csv")["Content-Type"].startswith("text/csv")


def test_group_restricted_room_page_refuses_non_members(volunteer):
    group = Group.objects.create(name="仅限组员")
    session = make_live_session()
    restrict(session, "groups", groups=[group])
    response = signed_in(volunteer).get(session.url + "room/")
    assert response.status_code == 302 and "/login/" in response["Location"]  # what Wagtail does for the page
