"""Django's Redis cache with one connection pool per process: `RedisCache` (CACHES' backend in production).

Django keeps a cache object per thread and async context (`django.core.cache.caches`), and each of its Redis cache
objects builds its own client with its own connection pool. Under ASGI every request runs in a context of its own
(Django's handler opens a ThreadSensitiveContext per request), so every request that touched the cache opened a
new TCP connection to Redis, sent redis-py's hand-shake (CLIENT SETINFO) and read the installed redis package's
metadata from disk to do so; REDIS_POOL_SIZE bounded nothing. Measured on the personal join link (issue 16): about
9 % of a Daphne process's CPU in a tap storm was that connect.

Here the client, and with it the pool, is one per process and configuration, shared by every cache object. Both are
thread-safe in redis-py (a command checks a connection out of the pool and back); a forked child gets new
connections (redis-py's pool checks the process id). The `redis.Redis` object per pool is kept too, as building one
per operation costs its callback tables.
"""
from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis = {}  # pool index -> redis.Redis

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis.get(id(pool))
        if client is None:
            with _lock:
                client = self._redis.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        pool = self._pools.get(index)
        if pool is None:
            with _lock:  # two threads must not build two pools for one server (one would leak its connections)
                pool = self._pools.get(index)
                if pool is None:
                    pool = self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool


class RedisCache(DjangoRedisCache):
    @cached_property
    def _cache(self) -> SharedRedisCacheClient:
        key = repr((self._servers, sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = SharedRedisCacheClient(self._servers, **self._options)
        return client
