"""What the home page shows a signed-in user: where they are in everything (top floor: it asks every app).

Continue learning (the next unfinished lesson of each course in progress), the next live class they registered
for, their reading of the work manual, and their certificates. Reads only.
"""
from dataclasses import dataclass

from django.utils import timezone

CERTIFICATES_SHOWN = 3


@dataclass
class NextLive:
    session: object
    is_live: bool

    @property
    def room_url(self) -> str:
        return self.session.url + "room/"


def session_is_live(session) -> bool:
    """The one place the home page reads a session's status (the live app's own property)."""
    return session.status == "live"


def next_registered_session(*, user) -> NextLive | None:
    """The soonest session the user registered for that has not ended (a session live now comes first)."""
    from live.models import Registration

    registration = (
        Registration.objects.active()
        .filter(user=user, session__live=True, session__end__gt=timezone.now())
        .select_related("session")
        .order_by("session__start")
        .first()
    )
    if registration is None:
        return None
    session = registration.session
    return NextLive(session=session, is_live=session_is_live(session))


def continue_learning(*, user) -> list[dict]:
    """Each course in progress with the lesson to continue with (courses.completion decides which)."""
    from courses.selectors import learner_courses

    rows = []
    for progress in learner_courses(user=user):
        if progress.is_complete or progress.next_lesson is None:
            continue
        rows.append({"course": progress.course, "progress": progress, "next": progress.next_lesson})
    return rows


def handbook_reading(*, user) -> dict | None:
    from handbook.models import HandbookPage
    from handbook.selectors import handbook_progress

    handbook = HandbookPage.objects.live().public().first()
    if handbook is None:
        return None
    return {"page": handbook, "progress": handbook_progress(user=user, handbook=handbook)}


def recent_certificates(*, user) -> dict:
    from courses.certificates.selectors import certificate_list_for_holder

    certificates = certificate_list_for_holder(user=user)
    return {"shown": list(certificates[:CERTIFICATES_SHOWN]), "count": certificates.count()}


def learner_home(*, user) -> dict:
    return {
        "continue_learning": continue_learning(user=user),
        "next_live": next_registered_session(user=user),
        "handbook": handbook_reading(user=user),
        "certificates": recent_certificates(user=user),
    }
