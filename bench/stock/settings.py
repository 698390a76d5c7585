"""The project's settings with the stock channels_redis core layer (`group_send` to every member's channel)."""
import os

from academy.settings import *  # noqa: F401,F403
from academy.settings import REDIS_POOL_SIZE, REDIS_URL

if not REDIS_URL:
    raise RuntimeError("The stock baseline uses channels_redis's core layer: set REDIS_URL.")

# The core layer as the Channels tutorial configures it, with one change: redis-py's pool gets the project's
# REDIS_POOL_SIZE. With redis-py's default of 100 connections the core layer answers a join burst of a few hundred
# clients with HTTP 500 ("Too many connections"), and a broadcast comparison would measure a half-empty room.
# And a socket time-out above the layer's 5 s BZPOPMIN: redis-py 8 reads with a 5 s default time-out, so an idle
# consumer's receive fails with "Timeout reading from …" and the consumer dies (close 1011).
# BENCH_STOCK_DEFAULT_POOL=1 keeps both defaults, to show that.
_host = REDIS_URL if os.environ.get("BENCH_STOCK_DEFAULT_POOL") == "1" else {
    "address": REDIS_URL, "max_connections": REDIS_POOL_SIZE, "socket_timeout": 30}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [_host]}}}
ASGI_APPLICATION = "bench.stock.asgi.application"
