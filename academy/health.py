"""/healthz: can this process serve a page? 200 when every check passes, 503 when any fails.

The checks: the database, the cache, the channel layer, the static files every page links to (with DEBUG off, the
manifest that `collectstatic` writes: without it every page answers 500), and one render of the base template.
Anonymous callers see only `ok` or `failed` per check; what failed and why (which may name hosts and ports) goes to
the log (logger `academy.health`).
"""
import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, staticfiles_storage
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("academy.health")

CHECK_TIMEOUT = 3.0
# A file every page links to (base.html).
PROBE_STATIC = "academy/css/site.css"
PROBE_TEMPLATE = "base.html"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value it was given")
    cache.delete(key)


async def _channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("channel layer returned another message")


def _static() -> None:
    """With the manifest storage (DEBUG off): the manifest lists the probe file and its hashed copy exists."""
    if isinstance(staticfiles_storage, ManifestStaticFilesStorage):
        name = staticfiles_storage.stored_name(PROBE_STATIC)  # ValueError without a manifest entry
        if not staticfiles_storage.exists(name):
            raise RuntimeError(f"{name} is in the manifest but not in STATIC_ROOT")
    elif not settings.DEBUG and not settings.SERVE_FILES:
        raise RuntimeError("DEBUG is off and the static files storage keeps no manifest")


def _template(request) -> None:
    html = render_to_string(PROBE_TEMPLATE, request=request)
    if "</html>" not in html:
        raise RuntimeError(f"{PROBE_TEMPLATE} rendered without its closing tag")


async def _run(name: str, check) -> bool:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT)
    except Exception:  # any failure is reported as `failed`, its text goes to the log only
        logger.exception("healthz: the %s check failed", name)
        return False
    return True


async def healthz(request):
    checks = {
        "database": await _run("database", sync_to_async(_database, thread_sensitive=True)),
        "cache": await _run("cache", sync_to_async(_cache, thread_sensitive=True)),
        "channel_layer": await _run("channel_layer", _channel_layer),
        "static": await _run("static", sync_to_async(_static, thread_sensitive=True)),
        "template": await _run("template", sync_to_async(lambda: _template(request), thread_sensitive=True)),
    }
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failed",
         "checks": {name: "ok" if passed else "failed" for name, passed in checks.items()}},
        status=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
