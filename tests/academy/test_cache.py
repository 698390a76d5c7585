"""The Redis cache keeps one connection pool per process (academy/cache.py), whichever thread or async context asks.

Django builds a cache object per thread and context, and under ASGI each request has a context of its own; with
Django's own backend each of those objects opened its own pool, so every request connected to Redis anew."""
import threading

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from academy.cache import RedisCache


def connections_received(port: int) -> int:
    import redis

    client = redis.Redis(port=port)
    try:
        return client.info("stats")["total_connections_received"]
    finally:
        client.close()


def connections_made_by(backend, port: int, threads: int = 20) -> int:
    """Connections Redis received while `threads` threads each used a new cache object of `backend`."""
    before = connections_received(port)
    def one(index):
        # A new cache object, as django.core.cache.caches builds for a new thread or context.
        cache = backend(f"redis://127.0.0.1:{port}/0", {"KEY_PREFIX": "t", "OPTIONS": {"max_connections": 50}})
        cache.set(f"k{index}", index)
        assert cache.get(f"k{index}") == index

    for index in range(threads):  # one after another, as requests in contexts of their own
        worker = threading.Thread(target=one, args=(index,))
        worker.start()
        worker.join()
    return connections_received(port) - before - 1  # less the second count's own connection


def test_cache_objects_of_twenty_threads_share_one_connection(redis_server):
    assert connections_made_by(RedisCache, redis_server.port) == 1


def test_djangos_own_backend_connects_once_per_cache_object(redis_server):
    """The behaviour academy/cache.py replaces: the test above would fail with Django's backend."""
    assert connections_made_by(DjangoRedisCache, redis_server.port) == 20


def test_the_shared_pool_keeps_djangos_cache_semantics(redis_server):
    cache = RedisCache(f"redis://127.0.0.1:{redis_server.port}/0", {"KEY_PREFIX": "s"})
    assert cache.add("a", 1) and not cache.add("a", 2)
    assert cache.incr("a") == 2
    cache.set_many({"b": [1, "二"], "c": None})
    assert cache.get_many(["a", "b", "c"]) == {"a": 2, "b": [1, "二"], "c": None}
    cache.delete("a")
    assert cache.get("a", "gone") == "gone"


@pytest.mark.skipif(not settings.REDIS_URL, reason="the settings pick a Redis cache only with REDIS_URL")
def test_production_settings_use_the_shared_pool():
    assert settings.CACHES["default"]["BACKEND"] == "academy.cache.RedisCache"
