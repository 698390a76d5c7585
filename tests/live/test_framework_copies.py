"""The live room carries two copies of framework internals, each gated on the release it was checked against:
Channels' AsyncConsumer.__call__/dispatch (live/consumers.py) and Django's get_user (live/auth.py). These tests fail
when the installed framework moves away from what the copies assume, and check that the user look-up decides
exactly as Django's own get_user does, with the configured backend's rules."""
import channels
import django
import pytest
from django.contrib.auth import get_user
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import Client

from live import auth, consumers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class RefusingBackend(ModelBackend):
    """A log-in backend with a rule of its own (as a lock-out or phone log-in backend may have)."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.username.startswith("locked-")


BACKEND = f"{__name__}.RefusingBackend"


def test_the_consumer_loop_copy_is_engaged_with_the_channels_release_it_follows():
    assert channels.__version__ == consumers.CHANNELS_TESTED, "Channels moved: compare live/consumers.py's copy"
    assert consumers.channels_copy_matches(), "AsyncConsumer.__call__/dispatch changed: compare the copy"
    assert consumers.CHANNELS_COPY_ENGAGED


def test_the_user_look_up_copy_is_engaged_with_the_django_release_it_follows():
    assert tuple(django.VERSION[:2]) == auth.DJANGO_TESTED, "Django moved: compare live/auth.py's copy"
    assert auth.django_copy_matches(), "get_user or ModelBackend.get_user changed: compare the copy"


def _session_for(user, backend) -> str:
    client = Client()
    client.force_login(user, backend=backend)
    return client.cookies["sessionid"].value


def _djangos_answer(key):
    request = HttpRequest()
    request.session = SessionStore(session_key=key)
    return get_user(request)


def test_the_batched_look_up_answers_as_djangos_get_user_with_the_configured_backend(settings):
    settings.AUTHENTICATION_BACKENDS = [BACKEND, "django.contrib.auth.backends.ModelBackend"]
    ordinary = UserFactory(username="ordinary")
    locked = UserFactory(username="locked-out")
    inactive = UserFactory(username="inactive")
    keys = {
        "ordinary": _session_for(ordinary, BACKEND),
        "locked": _session_for(locked, BACKEND),
        "locked-via-model-backend": _session_for(locked, "django.contrib.auth.backends.ModelBackend"),
        "inactive": _session_for(inactive, BACKEND),
    }
    inactive.is_active = False
    inactive.save()
    answers = auth.load_users(list(keys.values()))
    for name, key in keys.items():
        django_user = _djangos_answer(key)
        ours = answers.get(key)
        assert ours is not None, f"{name}: the fast path should decide this one"
        ours_pk = None if ours == auth.ANONYMOUS else ours.pk
        assert ours_pk == (django_user.pk if django_user.is_authenticated else None), name
    assert answers[keys["locked"]] == auth.ANONYMOUS
    assert answers[keys["locked-via-model-backend"]].pk == locked.pk
