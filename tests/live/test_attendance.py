"""Attendance: spans per connection, merged across reconnects and tabs, counted only while the session is live,
closed by the sweep when a process died."""
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from live.batching import get_committer
from live.models import AttendanceSpan, LiveWindow
from live.selectors.room import attendance_for_export, minutes_attended
from tests.factories.live import make_live_session
from tests.factories.live_room import command, receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)


def at(minutes: float):
    return T0 + timedelta(minutes=minutes)


def span(session, user, joined, left, *, seen=None, connection=None):
    return AttendanceSpan.objects.create(
        session=session, user=user, connection=connection or f"c{AttendanceSpan.objects.count()}-{user.pk}",
        process="p", joined_at=at(joined), left_at=at(left) if left is not None else None,
        seen_at=at(seen if seen is not None else (left if left is not None else joined)))


async def test_each_connection_records_a_span_and_two_tabs_count_once(volunteer):
    session = await database_sync_to_async(make_live_session)()
    first, _, _ = await room_communicator(session, volunteer)
    second, _, _ = await room_communicator(session, volunteer)  # a second tab
    assert (await receive(first))["type"] == "snapshot" and (await receive(second))["type"] == "snapshot"
    open_spans = await database_sync_to_async(
        lambda: AttendanceSpan.objects.filter(session=session, user=volunteer, left_at__isnull=True).count())()
    assert open_spans == 2  # written before the snapshot was sent
    await first.disconnect()
    await second.disconnect()
    await get_committer().flush()
    spans = await database_sync_to_async(lambda: list(AttendanceSpan.objects.filter(session=session)))()
    assert len(spans) == 2 and all(s.left_at is not None and s.left_at >= s.joined_at for s in spans)
    assert len({s.connection for s in spans}) == 2


def test_reconnects_and_tabs_are_merged_and_only_live_time_counts(volunteer, socialworker):
    session = make_live_session(start=at(0), end=at(120))
    span(session, volunteer, -30, 20)    # joined before the start: counts from 0
    span(session, volunteer, 10, 40)     # a second tab overlapping: counted once
    span(session, volunteer, 50, 65)     # reconnected after a gap
    span(session, volunteer, 110, 150)   # stayed after the end: counts to 120
    span(session, socialworker, 5, 6.5)  # a minute and a half: one whole minute
    assert minutes_attended(session=session, user=volunteer) == 40 + 15 + 10
    assert minutes_attended(session=session, user=socialworker) == 1
    rows = {row["user"].username: row for row in attendance_for_export(session)}
    assert rows["volunteer"]["minutes"] == 65 and rows["volunteer"]["connections"] == 4
    assert rows["volunteer"]["first_joined"] == at(-30) and rows["volunteer"]["last_left"] == at(150)


def test_host_windows_replace_the_schedule(volunteer):
    session = make_live_session(start=at(0), end=at(120))
    span(session, volunteer, 0, 120)
    LiveWindow.objects.create(session=session, started_at=at(10), ended_at=at(30))
    LiveWindow.objects.create(session=session, started_at=at(60), ended_at=at(70))
    assert minutes_attended(session=session, user=volunteer) == 30


async def test_host_starting_and_ending_the_session_opens_and_closes_a_window(moderator):
    session = await database_sync_to_async(make_live_session)(moderators=[moderator])
    mod, _, _ = await room_communicator(session, moderator)
    await receive(mod)
    assert (await command(mod, "session.status", "s1", status="live"))["status"] == "live"
    assert (await command(mod, "session.status", "s2", status="ended"))["status"] == "ended"
    assert (await command(mod, "session.status", "s3", status="paused"))["code"] == "invalid"
    windows = await database_sync_to_async(lambda: list(LiveWindow.objects.filter(session=session)))()
    assert len(windows) == 1 and windows[0].ended_at is not None and windows[0].ended_at >= windows[0].started_at
    await mod.disconnect()


def test_span_of_a_dead_process_counts_to_its_last_heartbeat_and_the_sweep_closes_it(volunteer):
    session = make_live_session(start=at(0), end=at(600))
    dead = span(session, volunteer, 0, None, seen=25)  # the process stopped beating at minute 25
    assert minutes_attended(session=session, user=volunteer) == 25
    call_command("live_sweep_attendance")
    dead.refresh_from_db()
    assert dead.left_at == at(25)
    assert minutes_attended(session=session, user=volunteer) == 25


def test_open_span_with_a_fresh_heartbeat_counts_until_now(volunteer):
    now = timezone.now()
    session = make_live_session(start=now - timedelta(minutes=30), end=now + timedelta(minutes=30))
    AttendanceSpan.objects.create(session=session, user=volunteer, connection="live", process="p",
                                  joined_at=now - timedelta(minutes=12), seen_at=now - timedelta(seconds=20))
    assert minutes_attended(session=session, user=volunteer) == 12
    call_command("live_sweep_attendance")
    assert AttendanceSpan.objects.get(connection="live").left_at is None
