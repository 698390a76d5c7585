"""Every model of the live app: pages and panelists, registrations and bans, and the room's (live/models/room.py)."""
from . import room as _room
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
from .room import *  # noqa: F401,F403  (questions, votes, polls, announcements, live windows, attendance)

__all__ = [
    "AgendaTopic", "AnswerBlock", "Ban", "LiveIndexPage", "LiveRecapPage", "LiveSessionPage", "Panelist",
    "Registration", "SessionModerator", "SessionPanelist", "TopicBlock",
    *_room.__all__,
]
