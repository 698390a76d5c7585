"""Signals from other apps that courses listens to (the handbook's chapter_read)."""
import logging

logger = logging.getLogger(__name__)


def on_chapter_read(sender, *, user, chapter, **kwargs):
    """A reader finished a handbook chapter: reading lessons that ask for it may now be complete."""
    from courses.services import chapter_read_received

    chapter_read_received(user=user, chapter=chapter)
