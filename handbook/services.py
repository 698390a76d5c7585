"""Writes of reading progress."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from handbook.models import ChapterPage, ChapterRead
from handbook.signals import chapter_read

NOT_SIGNED_IN = _("Log in to keep track of what you have read.")
CHAPTER_NOT_LIVE = _("This chapter is not published.")


class ProgressError(Exception):
    pass


def chapter_mark_read(*, user, chapter: ChapterPage, method: str = ChapterRead.Method.BUTTON) -> tuple[ChapterRead, bool]:
    """Record that `user` has read `chapter`. Idempotent: the first call creates the row and, after commit, sends
    `chapter_read`; later calls (and concurrent duplicates, stopped by the unique constraint) change nothing.
    Returns (record, created)."""
    if user is None or not user.is_authenticated:
        raise ProgressError(NOT_SIGNED_IN)
    if not chapter.live:
        raise ProgressError(CHAPTER_NOT_LIVE)
    if method not in ChapterRead.Method.values:
        method = ChapterRead.Method.BUTTON
    existing = ChapterRead.objects.filter(user=user, chapter=chapter).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            record = ChapterRead(user=user, chapter=chapter, method=method)
            record.full_clean(validate_constraints=False)
            record.save()
            transaction.on_commit(
                lambda: chapter_read.send(sender=ChapterPage, user=user, chapter=chapter)
            )
    except IntegrityError:
        # A concurrent request recorded it first: that one sends the signal.
        return ChapterRead.objects.get(user=user, chapter=chapter), False
    return record, True
