"""Django's ASGI handler with the whole request in one hop to the sync thread: `OneHopASGIHandler`.

Django's own ASGIHandler builds an async middleware chain. Every `MiddlewareMixin` middleware in it (ten of ours)
then runs its `process_request` and its `process_response` each through `sync_to_async`, the sync view one more,
and a sync-only middleware (handbook/caching.py) turns the inner chain back with `async_to_sync`: about two dozen
thread hops per request. Measured on the personal join link (bench/live_join_links.py, issue 16), those hops were
about 4 ms of a tap's CPU, more than the view's own work.

Nothing in our chain needs the event loop: the views are sync (the one async view, academy/health.py, still runs,
adapted by Django as under WSGI). So this handler builds the chain sync, as WSGI does, and runs the request through
it in one `sync_to_async` call, in the same thread-sensitive mode Django uses, so the database connections and
everything thread-bound behave exactly as before. Reading the body, the disconnect watch, streaming and the
signals stay Django's own (`ASGIHandler.handle`).
"""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)  # the chain as under WSGI: no adapter between two sync parts

    async def get_response_async(self, request):
        # BaseHandler.get_response: the URLconf, the chain, the request's closers, the log line for 4xx and 5xx.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> OneHopASGIHandler:
    """As django.core.asgi.get_asgi_application, with the one-hop handler."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
