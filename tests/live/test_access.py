"""Who may join, moderate and read reports of a session (the selectors the room and the pages share)."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from live.models import Ban, Registration
from live.selectors.access import (
    session_can_join,
    session_can_moderate,
    session_can_view_reports,
    user_is_banned,
)
from live.services.access import ERROR_ALREADY_BANNED, ban_create
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def test_open_session_admits_any_signed_in_user_but_no_anonymous_visitor(volunteer, outsider, home):
    session = make_live_session(registration_required=False)
    assert session_can_join(session=session, user=volunteer)
    assert session_can_join(session=session, user=outsider)
    assert not session_can_join(session=session, user=AnonymousUser())


def test_registration_only_session_admits_registered_users_only(volunteer, socialworker, home):
    session = make_live_session(registration_required=True)
    Registration.objects.create(session=session, user=volunteer)
    assert session_can_join(session=session, user=volunteer)
    assert not session_can_join(session=session, user=socialworker)


def test_cancelled_registration_no_longer_admits(volunteer, home):
    from django.utils import timezone

    session = make_live_session(registration_required=True)
    Registration.objects.create(session=session, user=volunteer, cancelled_at=timezone.now())
    assert not session_can_join(session=session, user=volunteer)


def test_moderators_join_registration_only_sessions_without_registering(moderator, home):
    session = make_live_session(registration_required=True)
    assert session_can_join(session=session, user=moderator)


def test_banned_user_cannot_join_even_when_registered(volunteer, moderator, home):
    session = make_live_session(registration_required=True)
    Registration.objects.create(session=session, user=volunteer)
    ban_create(session=session, user=volunteer, by=moderator, reason="广告")
    assert user_is_banned(session=session, user=volunteer)
    assert not session_can_join(session=session, user=volunteer)
    other = make_live_session()
    assert not user_is_banned(session=other, user=volunteer)
    assert session_can_join(session=other, user=volunteer)


def test_a_user_is_banned_once_per_session(volunteer, moderator, home):
    session = make_live_session()
    ban_create(session=session, user=volunteer, by=moderator)
    with pytest.raises(ValidationError) as error:
        ban_create(session=session, user=volunteer, by=moderator)
    assert error.value.messages == [str(ERROR_ALREADY_BANNED)]
    assert Ban.objects.count() == 1


def test_moderation_rights(volunteer, moderator, organiser, outsider, home):
    host = UserFactory(username="host")
    session = make_live_session(moderators=[(host, "host")])
    superuser = UserFactory(username="root", is_superuser=True)
    assert session_can_moderate(session=session, user=host)  # named on the session
    assert session_can_moderate(session=session, user=moderator)  # accounts.moderate_live via Moderators
    assert session_can_moderate(session=session, user=organiser)  # Organisers have it too
    assert session_can_moderate(session=session, user=superuser)
    assert not session_can_moderate(session=session, user=volunteer)
    assert not session_can_moderate(session=session, user=outsider)
    assert not session_can_moderate(session=session, user=AnonymousUser())
    assert not session_can_moderate(session=make_live_session(), user=host)  # only their own session


def test_report_rights(volunteer, moderator, organiser, home):
    host = UserFactory(username="host")
    session = make_live_session(moderators=[host])
    assert session_can_view_reports(session=session, user=organiser)
    assert session_can_view_reports(session=session, user=host)
    assert not session_can_view_reports(session=session, user=moderator)  # moderates rooms, reads no reports
    assert not session_can_view_reports(session=session, user=volunteer)


def test_inactive_users_are_refused(volunteer, home):
    session = make_live_session()
    volunteer.is_active = False
    assert not session_can_join(session=session, user=volunteer)
