"""One truth for a session's status: the session page, the /live/ list, the home page and the room say the same
(the hosts' choice once a host started or ended the session, the schedule before that)."""
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from academy.sections import upcoming_live_sessions
from live.models import RoomState
from tests.factories.live import make_live_index, make_live_session
from tests.factories.live_room import receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


def what_pages_say(session, user):
    client = Client()
    client.force_login(user)
    page = client.get(session.url)
    index = client.get(make_live_index().url)
    lists = {name for name in ("live_now", "upcoming") if session.pk in [s.pk for s in index.context[name]]}
    if session.pk in [s.pk for s in index.context["past"]]:
        lists.add("past")
    home = session.pk in [s.pk for s in upcoming_live_sessions(limit=50)]
    return page.context["page"].status, f'data-status="{page.context["page"].status}"' in page.content.decode(), \
        lists, home


async def room_says(session, user):
    communicator, _, _ = await room_communicator(session, user)
    snapshot = await receive(communicator)
    await communicator.disconnect()
    return snapshot["session"]["status"]


async def test_a_session_the_host_ended_early_is_ended_everywhere(volunteer):
    session = await database_sync_to_async(make_live_session)()  # live by its schedule
    await database_sync_to_async(RoomState.objects.create)(session=session, status="ended")
    status, shown, lists, home = await database_sync_to_async(what_pages_say)(session, volunteer)
    assert (status, shown, lists, home) == ("ended", True, {"past"}, False)
    assert await room_says(session, volunteer) == "ended"


async def test_a_session_the_host_started_early_is_live_everywhere(volunteer):
    now = timezone.now()
    session = await database_sync_to_async(make_live_session)(start=now + timedelta(minutes=30),
                                                              end=now + timedelta(hours=2))
    await database_sync_to_async(RoomState.objects.create)(session=session, status="live")
    status, shown, lists, home = await database_sync_to_async(what_pages_say)(session, volunteer)
    assert (status, shown, lists, home) == ("live", True, {"live_now"}, True)
    assert await room_says(session, volunteer) == "live"


async def test_a_session_still_live_after_its_scheduled_end_is_live_everywhere(volunteer):
    now = timezone.now()
    session = await database_sync_to_async(make_live_session)(start=now - timedelta(hours=2),
                                                              end=now - timedelta(minutes=5))
    await database_sync_to_async(RoomState.objects.create)(session=session, status="live")
    status, shown, lists, home = await database_sync_to_async(what_pages_say)(session, volunteer)
    assert (status, shown, lists, home) == ("live", True, {"live_now"}, True)
    assert await room_says(session, volunteer) == "live"


async def test_without_a_hosts_choice_the_schedule_decides_everywhere(volunteer):
    now = timezone.now()
    session = await database_sync_to_async(make_live_session)(start=now + timedelta(days=1),
                                                              end=now + timedelta(days=1, hours=1))
    status, shown, lists, home = await database_sync_to_async(what_pages_say)(session, volunteer)
    assert (status, shown, lists, home) == ("scheduled", True, {"upcoming"}, True)
    assert await room_says(session, volunteer) == "scheduled"
