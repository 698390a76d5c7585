"""A session's one status, for lists: the same rule as `LiveSessionPage.status_for` (the hosts' choice once made,
the schedule before that), as database conditions, so that /live/, the home page, the session page and the room
never disagree about whether a session is scheduled, live or ended."""
from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from live.models import LiveSessionPage, RoomState

STATUSES = ("scheduled", "live", "ended")


def with_host_status(queryset: QuerySet) -> QuerySet:
    """Each session annotated with `host_status` (its RoomState.status, or None): `session.status` reads it."""
    return queryset.annotate(host_status=Subquery(
        RoomState.objects.filter(session=OuterRef("pk")).values("status")[:1]))


def status_condition(status: str, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    by_schedule = Q(host_status__isnull=True) | Q(host_status="")
    schedule = {
        "scheduled": Q(start__gt=now),
        "live": Q(start__lte=now, end__gt=now),
        "ended": Q(end__lte=now),
    }[status]
    return Q(host_status=status) | (by_schedule & schedule)


def sessions_with_status(queryset: QuerySet, status: str, now: datetime | None = None) -> QuerySet:
    return with_host_status(queryset).filter(status_condition(status, now))


def sessions_coming_up(*, limit: int = 3, now: datetime | None = None) -> list[LiveSessionPage]:
    """Published public sessions that have not ended (live now first by start, then the next ones)."""
    now = now or timezone.now()
    sessions = with_host_status(LiveSessionPage.objects.live().public()).filter(
        status_condition("scheduled", now) | status_condition("live", now))
    return list(sessions.order_by("start")[:limit])
