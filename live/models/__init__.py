"""Every model of the live app: pages and panelists, registrations and bans, and the room's (live/models/room.py)."""
import importlib.util

from .pages import (
    AgendaTopic,
    AnswerBlock,
    LiveIndexPage,
    LiveRecapPage,
    LiveSessionPage,
    Panelist,
    SessionModerator,
    SessionPanelist,
    TopicBlock,
)
from .registration import Ban, Registration

__all__ = [
    "AgendaTopic", "AnswerBlock", "Ban", "LiveIndexPage", "LiveRecapPage", "LiveSessionPage", "Panelist",
    "Registration", "SessionModerator", "SessionPanelist", "TopicBlock",
]

# The room's models (questions, votes, polls, attendance) are written alongside; re-exported once they exist.
if importlib.util.find_spec(f"{__name__}.room") is not None:
    from .room import *  # noqa: F401,F403
    from . import room as _room

    __all__ += list(getattr(_room, "__all__", []))
