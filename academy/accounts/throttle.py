"""One throttle for every way to log in: the site's form, Wagtail's admin log-in and the password-reset links.

django-axes hooks into Django's authentication (its backend runs first in AUTHENTICATION_BACKENDS and its signal
handlers see every failure, whichever view called `authenticate()`); this module is the handler it is configured with
(AXES_HANDLER), because axes' own handlers apply one limit to every counter and would let anyone lock an account.

The policy, all counted in the cache (shared by every process when REDIS_URL is set):
- per account and address: LOGIN_RATE_LIMIT failures within LOGIN_RATE_WINDOW seconds lock that address out of that
  account (an attacker's address is locked, the owner's is not);
- per address: LOGIN_ADDRESS_RATE_LIMIT failures for any accounts lock the address (generous: a community centre or
  a mobile carrier puts many people behind one address);
- per account, from everywhere: after LOGIN_USER_SLOW_AFTER failures the account is slowed, not locked: one attempt
  per LOGIN_USER_SLOW_SECONDS, so a botnet guesses slowly and the owner still gets in by trying again.
The client address honours NUM_PROXIES (academy.ratelimit.client_ip reads X-Forwarded-For behind nginx).
"""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from academy import ratelimit

from .phones import phone_or_none

logger = logging.getLogger(__name__)

LOGIN_THROTTLED = gettext_noop("Too many log-in attempts. Please wait %(minutes)s minutes and try again.")
LOGIN_SLOWED = gettext_noop(
    "This account has had many wrong passwords recently. Please wait %(seconds)s seconds and try again."
)


def login_identity(raw: str | None) -> str:
    """The account a typed name stands for, so that `Moderator`, its phone number and `+86 …` count as one."""
    from .backends import login_user_find

    text = (raw or "").strip()[:150]
    user = login_user_find(text)
    if user is not None:
        return f"user:{user.pk}"
    return phone_or_none(text) or text.lower()


def axes_username(request, credentials) -> str:
    """AXES_USERNAME_CALLABLE: the identity of the typed name (looked up once per request)."""
    if credentials and credentials.get("username") is not None:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "POST", {}).get("username", "") if request is not None else ""
    memo = getattr(request, "_login_identities", None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            request._login_identities = memo
    if raw not in memo:
        memo[raw] = login_identity(raw)
    return memo[raw]


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _keys(request, identity: str) -> dict[str, str]:
    address = ratelimit.client_ip(request)
    account = _digest(identity)
    return {
        "pair": f"login:pair:{account}:{address}",
        "address": f"login:ip:{address}",
        "account": f"login:user:{account}",
        "gate": f"login:gate:{account}",
    }


def login_refusal(request, identity: str) -> str | None:
    """The message that refuses a log-in attempt now, or None when it may go ahead."""
    keys = _keys(request, identity)
    minutes = max(1, settings.LOGIN_RATE_WINDOW // 60)
    if ratelimit.exceeded(keys["pair"], limit=settings.LOGIN_RATE_LIMIT) or ratelimit.exceeded(
        keys["address"], limit=settings.LOGIN_ADDRESS_RATE_LIMIT
    ):
        return _(LOGIN_THROTTLED) % {"minutes": minutes}
    if cache.get(ratelimit.PREFIX + keys["gate"]):
        return _(LOGIN_SLOWED) % {"seconds": settings.LOGIN_USER_SLOW_SECONDS}
    return None


def login_failure_record(request, identity: str) -> None:
    """Count one failed attempt (a wrong password, or a wrong password-reset link) for the account and address."""
    keys = _keys(request, identity)
    window = settings.LOGIN_RATE_WINDOW
    address = ratelimit.client_ip(request)
    if not ratelimit.hit(keys["pair"], limit=settings.LOGIN_RATE_LIMIT - 1, window=window):
        logger.warning("log-in throttle: account %s locked for address %s", _digest(identity)[:12], address)
    if not ratelimit.hit(keys["address"], limit=settings.LOGIN_ADDRESS_RATE_LIMIT - 1, window=window):
        logger.warning("log-in throttle: address %s locked for every account", address)
    within = ratelimit.hit(keys["account"], limit=settings.LOGIN_USER_SLOW_AFTER, window=window)
    if not within:
        logger.warning("log-in throttle: account %s slowed (failures from many addresses)", _digest(identity)[:12])
        cache.set(ratelimit.PREFIX + keys["gate"], 1, timeout=settings.LOGIN_USER_SLOW_SECONDS)


def login_success_record(request, identity: str) -> None:
    """The owner got in from this address: its failures there no longer count."""
    ratelimit.reset(_keys(request, identity)["pair"])


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a page in the site's language with the reason, 429."""
    message = getattr(request, "login_refusal", None) or _(LOGIN_THROTTLED) % {
        "minutes": max(1, settings.LOGIN_RATE_WINDOW // 60)
    }
    return render(request, "accounts/login_throttled.html", {"message": message}, status=429)


try:  # the handler class needs axes' base classes; the functions above do not
    from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
except ImportError:  # pragma: no cover - axes is a pinned requirement
    AbstractAxesHandler = AxesBaseHandler = object


class LoginThrottleHandler(AbstractAxesHandler, AxesBaseHandler):
    """AXES_HANDLER: axes asks it whether an attempt may go ahead and tells it about failures and successes."""

    def is_locked(self, request, credentials=None) -> bool:
        refusal = login_refusal(request, axes_username(request, credentials))
        if refusal:
            request.login_refusal = refusal
        return refusal is not None

    def get_failures(self, request, credentials=None) -> int:
        keys = _keys(request, axes_username(request, credentials))
        return cache.get(ratelimit.PREFIX + keys["pair"]) or 0

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            return
        identity = axes_username(request, credentials)
        refusal = login_refusal(request, identity)
        if refusal:  # refused by the throttle itself: not a guess, and it must not extend the lock
            request.login_refusal = refusal
            request.axes_locked_out = True
            return
        login_failure_record(request, identity)  # this answer says "wrong password"; the next one is refused

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is not None:
            login_success_record(request, f"user:{user.pk}")

    def user_logged_out(self, sender, request, user, **kwargs):
        return None

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False) -> int:
        if username is None:
            return 0
        identity = login_identity(username)
        cache.delete_many(
            [ratelimit.PREFIX + f"login:user:{_digest(identity)}", ratelimit.PREFIX + f"login:gate:{_digest(identity)}"]
        )
        return 1
