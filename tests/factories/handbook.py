"""Handbook builders (handbook/builders.py) and demo step (handbook/demo.py), under the names tests import.

`make_handbook()` without a parent builds the home page first when a flushed (transactional) database lacks it.
"""
from handbook.builders import make_chapter
from handbook.builders import make_handbook as _make_handbook
from handbook.demo import DEMO_VOLUNTEER_READ, load_demo
from handbook.models import HandbookPage

from .pages import ensure_home

__all__ = ["DEMO_VOLUNTEER_READ", "load_demo", "make_chapter", "make_handbook"]


def make_handbook(parent=None, **overrides) -> HandbookPage:
    if parent is None:
        ensure_home()
    return _make_handbook(parent, **overrides)
