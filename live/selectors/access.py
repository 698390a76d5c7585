"""Who may do what with a live session: join its room, moderate it, see its attendees and exports.

Every check the room's consumer and the session's views make goes through here, so the rules live in one place.
"""
from __future__ import annotations


from live.models import Ban, LiveSessionPage, Registration, SessionModerator


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def user_is_banned(*, session: LiveSessionPage, user) -> bool:
    if not _signed_in(user):
        return False
    return Ban.objects.filter(session=session, user=user).exists()


def user_is_registered(*, session: LiveSessionPage, user) -> bool:
    if not _signed_in(user):
        return False
    return Registration.objects.active().filter(session=session, user=user).exists()


def session_is_moderator(*, session: LiveSessionPage, user) -> bool:
    """Named on the session as one of its moderators or hosts."""
    if not _signed_in(user):
        return False
    return SessionModerator.objects.filter(page=session, user=user).exists()


def session_can_moderate(*, session: LiveSessionPage, user) -> bool:
    """The session's moderators and hosts, users with accounts.moderate_live, and superusers."""
    if not _signed_in(user):
        return False
    if user.is_superuser or user.has_perm("accounts.moderate_live"):
        return True
    return session_is_moderator(session=session, user=user)


def session_can_join(*, session: LiveSessionPage, user) -> bool:
    """Signed in, not banned, and registered when the session requires registration (moderators always may)."""
    if not _signed_in(user):
        return False
    if user_is_banned(session=session, user=user):
        return False
    if session_can_moderate(session=session, user=user):
        return True
    if session.registration_required:
        return user_is_registered(session=session, user=user)
    return True


def session_can_view_reports(*, session: LiveSessionPage, user) -> bool:
    """Attendee list and exports: users with accounts.view_reports, the session's moderators, superusers."""
    if not _signed_in(user):
        return False
    if user.is_superuser or user.has_perm("accounts.view_reports"):
        return True
    return session_is_moderator(session=session, user=user)


def session_can_publish_recap(*, session: LiveSessionPage, user) -> bool:
    """Drafting the recap creates a Wagtail page: organisers who may add pages under the session."""
    if not _signed_in(user):
        return False
    if not session_can_view_reports(session=session, user=user):
        return False
    tester = session.permissions_for_user(user)
    # Not can_add_subpage(): once the one recap exists that says no, yet asking again must open the existing draft.
    return user.is_superuser or "add" in tester.permissions


def registration_count(*, session: LiveSessionPage) -> int:
    return Registration.objects.active().filter(session=session).count()


def seats_left(*, session: LiveSessionPage) -> int | None:
    """Seats still free, or None when the session has no capacity limit."""
    if not session.capacity:
        return None
    return max(session.capacity - registration_count(session=session), 0)


def registration_state(*, session: LiveSessionPage, user) -> str:
    """What the register button shows: registered, open, full, closed, ended (or anonymous)."""
    if _signed_in(user) and user_is_registered(session=session, user=user):
        return "registered"
    if session.status == "ended":
        return "ended"
    if not session.registration_open:
        return "closed"
    if seats_left(session=session) == 0:
        return "full"
    return "open" if _signed_in(user) else "anonymous"


def session_detail_context(*, session: LiveSessionPage, user) -> dict:
    """Everything the session page shows about this visitor's place in it."""
    status = session.status
    return {
        "registration_state": registration_state(session=session, user=user),
        "registration_count": registration_count(session=session),
        "seats_left": seats_left(session=session),
        "can_join": session_can_join(session=session, user=user),
        "can_moderate": session_can_moderate(session=session, user=user),
        "can_view_reports": session_can_view_reports(session=session, user=user),
        "is_banned": user_is_banned(session=session, user=user),
        "is_live": status == "live",
        "status": status,
        "recap": session.published_recap(),
    }
