"""Live-session builders (live/builders.py) and demo step (live/demo.py) under the names tests import.

make_live_index(parent=None)            the /live/ index under the home page (created once)
make_live_session(parent=None, **kw)    a published session page; defaults: open (no registration needed), started five
                                        minutes ago, ends in two hours, post-moderation, no stream, two agenda topics.
    extra keywords: panelists=[Panelist…], moderators=[user or (user, "host"|"moderator")…],
                    agenda=[{"title":…, "detail":…} or "title"…]
make_panelist(**kw)                     a Panelist snippet
load_demo(*, users, log)                the demo's live sessions (live.demo.sessions_load_demo)
Without a parent, the index is built under the home page, which is built first when a flushed (transactional)
database lacks it.
"""
from live.builders import DEFAULT_AGENDA, make_panelist  # noqa: F401  (re-exported)
from live.builders import make_live_index as _make_live_index
from live.builders import make_live_session as _make_live_session
from live.demo import (  # noqa: F401  (re-exported)
    demo_recap_body,
    ensure_panelists,
    make_demo_past_panel,
    make_demo_upcoming_class,
)
from live.demo import sessions_load_demo as load_demo  # noqa: F401
from live.models import LiveIndexPage, LiveSessionPage

from .pages import ensure_home


def make_live_index(parent=None) -> LiveIndexPage:
    if parent is None:
        ensure_home()
    return _make_live_index(parent)


def make_live_session(parent=None, **overrides) -> LiveSessionPage:
    return _make_live_session(parent or make_live_index(), **overrides)
