"""Anonymous page cache for the handbook's pages.

An anonymous reader's view of a handbook page is the same for everyone, so the rendered HTML is kept in Django's
cache (Redis in production, shared by every Daphne process). The key holds a *fingerprint* of the published
handbook: the page's own live revision and, for the whole manual, the number of live chapters and their latest
live revision. Publishing, unpublishing, moving or deleting a chapter changes the fingerprint, so every process
serves the new version at once (no stale copy survives in any process's local cache), and the page_published /
page_unpublished signals also delete the entries the publishing process knows of.

Never cached: signed-in readers (their pages show their own progress), previews, non-GET requests, requests
carrying pending messages, responses that are not 200. The CSRF token in a cached page (the footer's language
form) is replaced by the current request's token when the page is served, so forms keep working.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

CACHE_SECONDS = getattr(settings, "HANDBOOK_CACHE_SECONDS", 600)
CSRF_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')
CSRF_PLACEHOLDER = "\x00csrf\x00"
HEADER = "X-Handbook-Cache"


def handbook_fingerprint(handbook_path: str) -> str:
    """Changes whenever anything a handbook page shows of the manual is published, unpublished or removed:
    one query over the manual's subtree (revision ids only grow, so a publish anywhere raises the maximum)."""
    from wagtail.models import Page

    stats = Page.objects.filter(path__startswith=handbook_path).aggregate(
        n_live=Count("pk", filter=Q(live=True)), max_revision=Max("live_revision_id", filter=Q(live=True)),
        n_all=Count("pk"),
    )
    return f"{stats['n_live']}.{stats['n_all']}.{stats['max_revision']}"


def _cacheable(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not getattr(request, "is_preview", False)
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
        and not request.GET
    )


def _key(page, request, fingerprint: str) -> str:
    return f"handbook:page:{page.pk}:{page.live_revision_id}:{fingerprint}:{get_language()}:{request.path}"


def _index_key(page) -> str:
    return f"handbook:keys:{page.pk}"


def serve_cached(page, request, render):
    """Serve `page` from the cache to an anonymous reader, or `render()` it and keep the result."""
    if not _cacheable(request):
        response = render()
        response[HEADER] = "bypass"
        return response
    handbook_path = page.path if type(page).__name__ == "HandbookPage" else page.path[: -page.steplen]
    key = _key(page, request, handbook_fingerprint(handbook_path))
    cached = cache.get(key)
    if cached is not None:
        content, content_type = cached
        response = HttpResponse(content.replace(CSRF_PLACEHOLDER, get_token(request)), content_type=content_type)
        response[HEADER] = "hit"
        return response
    response = render()
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    if response.status_code == 200:
        content = CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", response.content.decode())
        cache.set(key, (content, response["Content-Type"]), CACHE_SECONDS)
        known = cache.get(_index_key(page)) or []
        cache.set(_index_key(page), (known + [key])[-20:], CACHE_SECONDS)
    response[HEADER] = "miss"
    return response


def forget_page(page) -> None:
    """Delete the cached copies of `page` that this cache knows of (the fingerprint retires the rest)."""
    keys = cache.get(_index_key(page)) or []
    if keys:
        cache.delete_many(keys)
    cache.delete(_index_key(page))


def on_page_changed(sender, instance, **kwargs):
    """page_published / page_unpublished / post_delete: drop the cached copies of the page and of its manual."""
    from handbook.models import ChapterPage, HandbookPage

    if isinstance(instance, ChapterPage):
        forget_page(instance)
        parent = HandbookPage.objects.filter(pk=instance.get_parent().pk).first() if instance.depth > 1 else None
        if parent is not None:
            forget_page(parent)
    elif isinstance(instance, HandbookPage):
        forget_page(instance)
        for chapter in ChapterPage.objects.child_of(instance):
            forget_page(chapter)


def connect_signals() -> None:
    from wagtail.signals import page_published, page_unpublished

    from handbook.models import ChapterPage, HandbookPage

    for model in (ChapterPage, HandbookPage):
        page_published.connect(on_page_changed, sender=model, dispatch_uid=f"handbook-cache-pub-{model.__name__}")
        page_unpublished.connect(on_page_changed, sender=model, dispatch_uid=f"handbook-cache-unpub-{model.__name__}")
