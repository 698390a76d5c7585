"""Reads of reading progress. Private by construction: every selector takes the reader and sees only their rows."""
from __future__ import annotations

from dataclasses import dataclass, field

from handbook.models import ChapterPage, ChapterRead, HandbookPage


def read_chapter_ids(*, user) -> set[int]:
    """The ids of the chapters `user` has read (empty for an anonymous user). Courses reuse this."""
    if user is None or not user.is_authenticated:
        return set()
    return set(ChapterRead.objects.filter(user=user).values_list("chapter_id", flat=True))


def chapter_is_read(*, user, chapter: ChapterPage) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return ChapterRead.objects.filter(user=user, chapter=chapter).exists()


@dataclass
class HandbookProgress:
    read: int
    total: int
    read_ids: set[int] = field(default_factory=set)

    @property
    def percent(self) -> int:
        return round(100 * self.read / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.read >= self.total


def handbook_progress(*, user, handbook: HandbookPage, chapters=None) -> HandbookProgress:
    """How many of the handbook's live chapters `user` has read ("已读 N / M") and which."""
    if chapters is None:
        chapters = list(handbook.chapters())
    chapter_ids = {chapter.pk for chapter in chapters}
    read_ids = read_chapter_ids(user=user) & chapter_ids
    return HandbookProgress(read=len(read_ids), total=len(chapter_ids), read_ids=read_ids)


def chapter_read_counts() -> list[dict]:
    """For organisers' reports: per live chapter, how many readers have read it (counts only, never who)."""
    from django.db.models import Count

    chapters = ChapterPage.objects.live().annotate(readers=Count("reads")).order_by("number", "path")
    return [{"chapter": chapter, "readers": chapter.readers} for chapter in chapters]
