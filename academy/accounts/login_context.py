"""Why a visitor is asked to log in: what the page they were going to (the `next` URL) is.

Base floor: it knows no app, so the page behind `next` is found in Wagtail's page tree by its URL path and named by
its model label ("courses.LessonPage"), the way academy.sections finds sections. Reads only.
"""
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme
from wagtail.models import Page, Site

MAX_SEGMENTS = 8

LESSON, QUIZ, LIVE_ROOM, LIVE_SESSION, COURSE, OTHER = "lesson", "quiz", "live_room", "live_session", "course", "other"


@dataclass
class LoginReason:
    kind: str
    title: str = ""


def _page_for_path(request, path: str) -> tuple[Page | None, list[str]]:
    site = Site.find_for_request(request)
    if site is None:
        return None, []
    segments = [segment for segment in path.split("/") if segment][:MAX_SEGMENTS]
    root = site.root_page.url_path
    candidates = {root + "/".join(segments[:cut]) + "/": cut for cut in range(len(segments), 0, -1)}
    pages = {page.url_path: page for page in Page.objects.live().public().filter(url_path__in=candidates)}
    for url_path, cut in sorted(candidates.items(), key=lambda item: -item[1]):
        if url_path in pages:
            return pages[url_path], segments[cut:]
    return None, []


def login_reason(request, next_url: str) -> LoginReason | None:
    """What `next_url` leads to, or None when there is no (safe) next URL."""
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    page, rest = _page_for_path(request, urlsplit(next_url).path)
    if page is None:
        return LoginReason(OTHER)
    label = page.specific_class._meta.label if page.specific_class else ""
    if label == "courses.LessonPage":
        specific = page.specific
        return LoginReason(QUIZ if getattr(specific, "kind", "") == "quiz" else LESSON, page.title)
    if label == "live.LiveSessionPage":
        return LoginReason(LIVE_ROOM if rest[:1] == ["room"] else LIVE_SESSION, page.title)
    if label == "courses.CoursePage":
        return LoginReason(COURSE, page.title)
    return LoginReason(OTHER, page.title)
