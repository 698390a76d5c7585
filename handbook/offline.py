"""The manual as an installable web app that reads offline (routes of the HandbookPage).

- `<manual>/sw/`: the service worker (a template, served as JavaScript from under the manual's address so its
  scope is the manual); it answers from the offline copy when the network fails and refreshes entries of that copy
  when the network answers. It never stores a response that is not already part of the copy.
- `<manual>/manifest/`: the web app manifest (icons from handbook/static/handbook/icons/, made by
  make_icons.py beside them).
- `<manual>/offline/`: what the offline copy holds for this reader: the cache name (named by edition, with a
  version that changes on every publish), the addresses (the index, every published chapter, their pictures, the
  stylesheets, scripts and icons the pages use) and an estimate of the bytes. handbook/static/handbook/offline.js
  downloads them into the cache when the reader presses 离线阅读, replaces the copy when the list's cache name
  changes (a new edition or a publish), and deletes a copy that another reader on the same device downloaded.
"""
from __future__ import annotations

import json
import logging

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from handbook.caching import manual_fingerprint

logger = logging.getLogger(__name__)
ICON_SIZES = (192, 512)
STATIC_FILES = ["academy/css/site.css", "handbook/handbook.css", "handbook/reading.js", "handbook/offline.js",
                "handbook/icons/icon-192.png", "handbook/icons/icon-512.png", "handbook/icons/icon-maskable-512.png"]
IMAGE_FILTER = "width-800"  # the rendition handbook/blocks/image.html shows
PAGE_OVERHEAD = 14_000  # bytes of a rendered page around its body (header, footer, navigation)


def service_worker(request, handbook):
    body = render_to_string("handbook/sw.js", {
        "scope": handbook.url, "list_url": f"{handbook.url}offline/",
        "offline_text": _("You are offline and this page is not in the offline copy."),
    })
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = handbook.url
    return response


def web_manifest(request, handbook):
    data = {
        "name": handbook.title, "short_name": _("Work manual"), "lang": "zh-CN",
        "start_url": handbook.url, "scope": handbook.url, "id": handbook.url, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0b6e4f",
        "description": _("Read the work manual on your phone, also without a network."),
        "icons": [{"src": static(f"handbook/icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
                  for size in ICON_SIZES]
        + [{"src": static("handbook/icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
            "purpose": "maskable"}],
    }
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")


def _static_size(path: str) -> int:
    try:
        return staticfiles_storage.size(path)
    except Exception:
        found = finders.find(path)
        if found:
            import os

            return os.path.getsize(found)
    return 0


def reader_tag(user) -> str:
    """Who downloaded the copy, without saying who: a copy made by another reader on the device is deleted."""
    if user is None or not user.is_authenticated:
        return "anonymous"
    return salted_hmac("handbook-offline-reader", str(user.pk)).hexdigest()[:16]


def offline_list(request, handbook):
    edition = handbook.editions.order_by("-started_at", "-pk").first()
    chapters = list(handbook.chapters())
    urls = [handbook.url, f"{handbook.url}manifest/"]
    size = 20_000
    for chapter in chapters:
        urls.append(chapter.url)
        size += PAGE_OVERHEAD + len(json.dumps(list(chapter.body.raw_data), ensure_ascii=False).encode())
        for block in chapter.body:
            if block.block_type == "image" and block.value.get("image"):
                try:
                    rendition = block.value["image"].get_rendition(IMAGE_FILTER)
                except Exception:  # a missing original: the page shows no picture either
                    logger.warning("handbook offline list: no rendition for image", exc_info=True)
                    continue
                urls.append(rendition.url)
                try:
                    size += rendition.file.size
                except OSError:
                    pass
    for path in STATIC_FILES:
        urls.append(static(path))
        size += _static_size(path)
    version = salted_hmac("handbook-offline-version", manual_fingerprint(handbook.path)).hexdigest()[:10]
    edition_key = edition.slug if edition is not None else "draft"
    response = JsonResponse({
        "cache": f"handbook-offline-{edition_key}-{version}",
        "edition": (edition.label if edition is not None else "") or handbook.edition,
        "reader": reader_tag(request.user),
        "chapters": len(chapters),
        "bytes": size,
        "urls": list(dict.fromkeys(urls)),
    }, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
