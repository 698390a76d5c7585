"""Fixed-window rate limits kept in the cache (shared across processes when REDIS_URL is set).

`hit()` counts one event and says whether the caller is still within its limit; `exceeded()` only looks.
Keys are namespaced by the caller ("login:user:<name>", "verify:ip:<addr>").
"""
from django.conf import settings
from django.core.cache import cache

PREFIX = "ratelimit:"


def _key(key: str) -> str:
    return PREFIX + key


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one event under `key`; True while the count in the current window is within `limit`."""
    cache_key = _key(key)
    if cache.add(cache_key, 1, timeout=window):
        return 1 <= limit
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=window)
        count = 1
    return count <= limit


def exceeded(key: str, *, limit: int) -> bool:
    """True when `key` has already used up its `limit` in the current window."""
    return (cache.get(_key(key)) or 0) >= limit


def reset(key: str) -> None:
    cache.delete(_key(key))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the last untrusted hop of X-Forwarded-For behind NUM_PROXIES proxies."""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
