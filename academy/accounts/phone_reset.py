"""Password reset by a code sent by SMS: the code's life in the cache.

One active code per account: `code_issue()` replaces any earlier one. The cache keeps only an HMAC of the code (keyed
by SECRET_KEY and bound to the account and to this issue), never the code, for PHONE_RESET_CODE_SECONDS. Each issued
code allows PHONE_RESET_CODE_TRIES wrong guesses; then it is void. `code_check()` voids the code when it matches, so a
code sets a password once.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from django.conf import settings
from django.core.cache import cache

from academy import ratelimit

PHONE_RESET_CODE_SECONDS = 600
PHONE_RESET_CODE_TRIES = 5
CODE_LENGTH = 6
_CODE = re.compile(r"[0-9]{%d}" % CODE_LENGTH)


def _key(user_pk) -> str:
    return f"accounts:phone-reset:{user_pk}"


def _digest(user_pk, nonce: str, code: str) -> str:
    message = f"{user_pk}:{nonce}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def code_clean(raw) -> str | None:
    """The six ASCII digits of a typed code (spaces and full-width digits allowed), or None when it is no code."""
    text = unicodedata.normalize("NFKC", str(raw or ""))[:64]
    text = "".join(text.split())
    return text if _CODE.fullmatch(text) else None


def code_issue(user) -> str:
    """A new code for `user`, replacing any earlier one; only its HMAC is kept. Returns the code to send."""
    code = f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"
    nonce = secrets.token_hex(8)
    cache.set(_key(user.pk), {"nonce": nonce, "digest": _digest(user.pk, nonce, code)},
              timeout=PHONE_RESET_CODE_SECONDS)
    return code


def code_void(user) -> None:
    cache.delete(_key(user.pk))


def code_check(user, code: str) -> bool:
    """True when `code` is `user`'s active code (which is then void); a wrong guess counts against the code."""
    if user is None:
        return False
    entry = cache.get(_key(user.pk))
    if not isinstance(entry, dict):
        return False
    tries_key = f"phone-reset:tries:{entry['nonce']}"
    if ratelimit.exceeded(tries_key, limit=PHONE_RESET_CODE_TRIES):
        code_void(user)
        return False
    if hmac.compare_digest(entry["digest"], _digest(user.pk, entry["nonce"], code)):
        code_void(user)
        ratelimit.reset(tries_key)
        return True
    if not ratelimit.hit(tries_key, limit=PHONE_RESET_CODE_TRIES - 1, window=PHONE_RESET_CODE_SECONDS):
        code_void(user)
    return False
