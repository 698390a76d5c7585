"""What the home page shows of each section of the site.

This module belongs to the top floor: it may ask every app for its section. Each section is the app's index page
(found by type, so a renamed slug still works) and, where the app provides one, a short list of items.
"""
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

SECTIONS = [
    # (model label, title, description)
    ("handbook.HandbookPage", _("Work manual"), _("The 三社联动 work manual, chapter by chapter.")),
    ("courses.CourseIndexPage", _("Courses"), _("Short practical courses with quizzes and certificates.")),
    ("live.LiveIndexPage", _("Live classes"), _("Live classes and expert panels with Q&A.")),
]


def _first_live_page_of(label: str):
    from django.apps import apps

    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return model.objects.live().public().first()


def home_sections(request) -> list[dict]:
    sections = []
    for label, title, description in SECTIONS:
        page = _first_live_page_of(label)
        sections.append({"title": title, "description": description, "url": page.url if page else None})
    return sections


def upcoming_live_sessions(limit: int = 3) -> list:
    """The next live sessions (and any live now), soonest first, for the home page: by the sessions' one status."""
    from live.selectors.status import sessions_coming_up

    return sessions_coming_up(limit=limit)


def section_url(label: str) -> str | None:
    page = _first_live_page_of(label)
    return page.url if page else None


__all__ = ["home_sections", "section_url", "upcoming_live_sessions", "Page"]
