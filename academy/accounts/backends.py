"""Log in with a username or a phone number, in whatever form it is typed (`138 1234 5678`, `+86 138-1234-5678`).

The username is tried first (exactly as Django's ModelBackend does); only when no account has that username is the
text read as a phone number (E.164, mainland China by default) and matched to the stored phone. django-axes's backend
stands before this one in AUTHENTICATION_BACKENDS, so every way to log in (the site, Wagtail's admin) is throttled.
"""
from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend

from .models import User
from .phones import phone_or_none


def login_user_candidates(identifier: str | None) -> list[User]:
    """The accounts a log-in form's "username" may name: the one with that username, then the one with that phone
    number (two only when an older account's username looks like another member's phone number)."""
    text = (identifier or "").strip()
    if not text or len(text) > 150:
        return []
    users = list(User._default_manager.filter(username=text)[:1])
    phone = phone_or_none(text)
    if phone:
        users += [user for user in User._default_manager.filter(phone=phone)[:1] if user not in users]
    return users


def login_user_find(identifier: str | None) -> User | None:
    """The account a log-in form's "username" names first (by username, else by phone number); None when nobody."""
    candidates = login_user_candidates(identifier)
    return candidates[0] if candidates else None


# The backend a session records when code signs a user in without a password check (after sign-up, a benchmark's
# prepared sessions): the one that looks users up, so every process can restore the session.
SESSION_BACKEND = "academy.accounts.backends.UsernameOrPhoneBackend"


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        candidates = login_user_candidates(username)
        if not candidates:
            # Run the hasher once, so that a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        for user in candidates:  # a username that looks like a phone number cannot shut the phone's owner out
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
        return None


class ThrottleBackend(AxesStandaloneBackend):
    """django-axes's guard (first in AUTHENTICATION_BACKENDS): refuses a throttled attempt before any password check.

    Every log-in view (ours, Django's, Wagtail's) passes the request. A call without one (the test client's
    `login()`, a management command) has no client address to throttle: it goes on to the next backend instead of
    raising, as axes would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
