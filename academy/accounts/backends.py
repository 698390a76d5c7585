"""Log in with a username or a phone number, in whatever form it is typed (`138 1234 5678`, `+86 138-1234-5678`).

The username is tried first (exactly as Django's ModelBackend does); only when no account has that username is the
text read as a phone number (E.164, mainland China by default) and matched to the stored phone. django-axes's backend
stands before this one in AUTHENTICATION_BACKENDS, so every way to log in (the site, Wagtail's admin) is throttled.
"""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import User
from .phones import phone_or_none


def login_user_find(identifier: str | None) -> User | None:
    """The account a log-in form's "username" names: by username, else by phone number; None when nobody."""
    text = (identifier or "").strip()
    if not text or len(text) > 150:
        return None
    user = User._default_manager.filter(username=text).first()
    if user is None:
        phone = phone_or_none(text)
        if phone:
            user = User._default_manager.filter(phone=phone).first()
    return user


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = login_user_find(username)
        if user is None:
            # Run the hasher once, so that a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
