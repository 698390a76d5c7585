"""academy/sessions.py: a sign-in without a session writes its row once; a session that exists (or a key that names
none) is never kept across a sign-in."""
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, login
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from academy.accounts.backends import SESSION_BACKEND
from academy.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _request(cookie: str | None = None):
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[settings.SESSION_COOKIE_NAME] = cookie
    middleware = SessionMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    return request, middleware


def _sign_in(request, middleware, user):
    login(request, user, backend=SESSION_BACKEND)
    middleware.process_response(request, HttpResponse())
    return request.session.session_key


def test_signing_in_without_a_session_writes_the_session_row_once(volunteer):
    request, middleware = _request()
    with CaptureQueriesContext(connection) as queries:
        key = _sign_in(request, middleware, volunteer)
    session_statements = [q["sql"] for q in queries if "django_session" in q["sql"]]
    assert len(session_statements) == 1 and session_statements[0].startswith("INSERT")
    assert Session.objects.get(pk=key).get_decoded()[SESSION_KEY] == str(volunteer.pk)


def test_signing_in_over_an_existing_session_gives_a_new_key_and_drops_the_old_row(volunteer):
    old = SessionStore()
    old["cart"] = "kept"
    old.create()
    request, middleware = _request(old.session_key)
    key = _sign_in(request, middleware, volunteer)
    assert key != old.session_key
    assert not Session.objects.filter(pk=old.session_key).exists()
    assert Session.objects.get(pk=key).get_decoded()["cart"] == "kept"


def test_a_planted_key_that_names_no_session_is_not_used_for_the_sign_in(volunteer):
    planted = "a" * 32
    request, middleware = _request(planted)
    key = _sign_in(request, middleware, volunteer)
    assert key and key != planted
    assert not Session.objects.filter(pk=planted).exists()
