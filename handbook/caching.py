"""Anonymous page cache for the handbook's pages.

An anonymous reader's view of a handbook page is the same for everyone, so the rendered HTML is kept in Django's
cache (Redis in production, shared by every Daphne process), keyed by host, language and path. Each entry holds a
*fingerprint* of the published manual, checked on every hit with one cheap query: the number of live and of all
pages in the manual's subtree and its ancestors, their latest live revision and publication time, and the number
of view restrictions on them. Publishing (also a scheduled publish), unpublishing, moving, deleting or restricting
any of them changes it, so every process serves the new version at once — no stale copy survives in any process's
local cache — and the page_published / page_unpublished signals also delete the entries outright.

`AnonymousPageCacheMiddleware` answers hits before Wagtail routes the request (routing alone costs ~8 queries);
without it, the pages' `serve()` still answers hits after routing.

Never cached: signed-in readers (their pages show their own progress), previews, requests other than GET/HEAD,
requests with a query string or pending messages, responses that are not 200, pages under a view restriction.
The CSRF token in a cached page (the footer's language form) is replaced by the current request's token when the
page is served, so forms keep working.
"""
from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

CACHE_SECONDS = getattr(settings, "HANDBOOK_CACHE_SECONDS", 600)
CSRF_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')
CSRF_PLACEHOLDER = "\x00csrf\x00"
HEADER = "X-Handbook-Cache"
PREFIX = "handbook:page:"
# Paths that are never Wagtail pages: the middleware does not even look them up.
NOT_PAGES = ("/admin/", "/healthz", "/static/", "/media/", "/documents/", "/accounts/", "/i18n/", "/jsi18n/",
             "/search/", "/ws/", "/live/join/")
logger = logging.getLogger(__name__)


def _cache_get(key):
    """A cache that does not answer degrades to rendering the page: readers never see an error because of it."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("handbook page cache unavailable (get)", exc_info=True)
        return None


def _cache_set(key, value) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        logger.warning("handbook page cache unavailable (set)", exc_info=True)


_FINGERPRINT_SQL = """
SELECT COUNT(CASE WHEN p.live THEN 1 END), COUNT(*), MAX(CASE WHEN p.live THEN p.live_revision_id END),
       MAX(p.last_published_at),
       (SELECT COUNT(*) FROM wagtailcore_pageviewrestriction r INNER JOIN wagtailcore_page q ON q.id = r.page_id
         WHERE q.path LIKE %s OR q.path IN ({ancestors}))
  FROM wagtailcore_page p
 WHERE p.path LIKE %s OR p.path IN ({ancestors})
"""


def manual_fingerprint(handbook_path: str) -> str:
    """Changes whenever anything a handbook page shows is published, unpublished, moved, removed or restricted:
    counts of live and of all pages in the manual's subtree and its ancestors, their latest live revision and
    publication time, and the view restrictions on them. One query (plain SQL: the ORM's compile time would be
    most of a cache hit's cost)."""
    from django.db import connection
    from wagtail.models import Page

    steplen = Page.steplen
    ancestors = [handbook_path[:i] for i in range(steplen, len(handbook_path), steplen)] or [""]
    placeholders = ", ".join(["%s"] * len(ancestors))
    sql = _FINGERPRINT_SQL.format(ancestors=placeholders)
    like = handbook_path + "%"
    with connection.cursor() as cursor:
        cursor.execute(sql, [like, *ancestors, like, *ancestors])
        row = cursor.fetchone()
    return ".".join(str(value) for value in row)


def _cacheable(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not getattr(request, "is_preview", False)
        and not request.GET
        and "messages" not in request.COOKIES
        and not request.user.is_authenticated
    )


def _key(request) -> str:
    return f"{PREFIX}{request.get_host()}:{get_language()}:{request.path}"


def _respond(entry, request, state: str) -> HttpResponse:
    response = HttpResponse(entry["content"].replace(CSRF_PLACEHOLDER, get_token(request)),
                            content_type=entry["content_type"])
    response[HEADER] = state
    return response


def cached_response(request):
    """The cached page for this anonymous request when it is still current, else None."""
    if not _cacheable(request):
        return None
    entry = _cache_get(_key(request))
    if entry is None or entry["fingerprint"] != manual_fingerprint(entry["manual_path"]):
        return None
    return _respond(entry, request, "hit")


def serve_cached(page, request, render):
    """Serve `page` from the cache to an anonymous reader, or `render()` it and keep the result."""
    if not _cacheable(request):
        response = render()
        response[HEADER] = "bypass"
        return response
    hit = cached_response(request)
    if hit is not None:
        return hit
    manual_path = page.path if type(page).__name__ == "HandbookPage" else page.path[: -page.steplen]
    fingerprint = manual_fingerprint(manual_path)  # taken before rendering: a publish meanwhile is not hidden
    response = render()
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    if response.status_code == 200 and page.get_view_restrictions().count() == 0:
        content = CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", response.content.decode())
        key = _key(request)
        _cache_set(key, {"content": content, "content_type": response["Content-Type"], "fingerprint": fingerprint,
                         "manual_path": manual_path, "page_id": page.pk})
        _remember(page.pk, key)
    response[HEADER] = "miss"
    return response


class AnonymousPageCacheMiddleware:
    """Answer anonymous hits before Wagtail's routing. Place it after the session, locale, CSRF, authentication
    and message middleware (it reads request.user and sets the CSRF cookie through them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and not request.GET and not request.path.startswith(NOT_PAGES):
            hit = cached_response(request)
            if hit is not None:
                return hit
        return self.get_response(request)


# --- Invalidation on publish -----------------------------------------------------------------------------------


def _keys_key(page_id: int) -> str:
    return f"{PREFIX}keys:{page_id}"


def _remember(page_id: int, key: str) -> None:
    known = _cache_get(_keys_key(page_id)) or []
    if key not in known:
        _cache_set(_keys_key(page_id), (known + [key])[-20:])


def forget_page(page) -> None:
    """Delete the cached copies of `page` that this cache knows of (the fingerprint retires any others)."""
    try:
        keys = cache.get(_keys_key(page.pk)) or []
        if keys:
            cache.delete_many(keys)
        cache.delete(_keys_key(page.pk))
    except Exception:  # the fingerprint retires the entries anyway
        logger.warning("handbook page cache unavailable (delete)", exc_info=True)


def on_page_changed(sender, instance, **kwargs):
    """page_published / page_unpublished: drop the cached copies of the manual's pages."""
    from handbook.models import ChapterPage, HandbookPage

    if isinstance(instance, ChapterPage):
        manual = HandbookPage.objects.filter(pk=instance.get_parent().pk).first()
    else:
        manual = instance
    if manual is None:
        forget_page(instance)
        return
    forget_page(manual)
    for chapter in ChapterPage.objects.child_of(manual).only("pk"):
        forget_page(chapter)


def connect_signals() -> None:
    from wagtail.signals import page_published, page_unpublished

    from handbook.models import ChapterPage, HandbookPage

    for model in (ChapterPage, HandbookPage):
        page_published.connect(on_page_changed, sender=model, dispatch_uid=f"handbook-cache-pub-{model.__name__}")
        page_unpublished.connect(on_page_changed, sender=model, dispatch_uid=f"handbook-cache-unpub-{model.__name__}")
