"""Reads of reading progress. Private by construction: every selector takes the reader and sees only their rows."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

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


# --- Editions: what changed ("本版更新") ----------------------------------------------------------------------------


@dataclass
class EditionChanges:
    """How a chapter differs from the copy in an earlier edition, section by section (sections start at the
    chapter's headings; what comes before the first heading is the chapter's opening)."""

    since: object  # HandbookEdition
    new_chapter: bool = False
    title_changed: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.new_chapter or self.title_changed or bool(self.added or self.changed or self.removed)


def _raw_body(value) -> list:
    import json

    if isinstance(value, str):
        value = json.loads(value or "[]")
    return value or []


def _sections(raw) -> dict[str, list]:
    def without_ids(data):
        if isinstance(data, dict):
            return {k: without_ids(v) for k, v in data.items() if k != "id"}
        if isinstance(data, list):
            return [without_ids(item) for item in data]
        return data

    sections: dict[str, list] = {"": []}
    key = ""
    for block in _raw_body(raw):
        if block.get("type") == "heading":
            key = str(block.get("value") or "")
            sections.setdefault(key, [])
            continue
        sections[key].append(without_ids({"type": block.get("type"), "value": block.get("value")}))
    return sections


def edition_at(*, handbook: HandbookPage, moment):
    """The edition that was current at `moment` (None before the first)."""
    return handbook.editions.filter(started_at__lte=moment).order_by("-started_at", "-pk").first()


def chapter_changes(*, chapter: ChapterPage, user=None, handbook: HandbookPage | None = None) -> EditionChanges | None:
    """What changed in `chapter` since the edition the reader last read it in (else the edition in which they last
    read any chapter of the manual; for others the previous edition). None when there is nothing to compare."""
    from handbook.models import ChapterPage as Chapter

    handbook = handbook or chapter.get_parent().specific
    editions = list(handbook.editions.order_by("started_at", "pk"))
    if len(editions) < 2:
        return None
    current = editions[-1]
    baseline = None
    if user is not None and user.is_authenticated:
        read = (ChapterRead.objects.filter(user=user, chapter=chapter).first()
                or ChapterRead.objects.filter(user=user, chapter__in=Chapter.objects.child_of(handbook))
                .order_by("-read_at").first())
        if read is not None:
            baseline = edition_at(handbook=handbook, moment=read.read_at)
    if baseline is None:
        baseline = editions[-2]
    if baseline.pk == current.pk:
        return None
    changes = EditionChanges(since=baseline)
    copy = baseline.chapters.filter(chapter=chapter).first()
    if copy is None:
        changes.new_chapter = True
        return changes
    changes.title_changed = copy.title != chapter.title
    field_ = Chapter._meta.get_field("body")
    before, after = _sections(copy.content.get("body")), _sections(field_.get_prep_value(chapter.body))
    opening = str(_("Opening of the chapter"))
    for key, blocks in after.items():
        if key not in before:
            if key or blocks:
                changes.added.append(key or opening)
        elif before[key] != blocks:
            changes.changed.append(key or opening)
    changes.removed = [key or opening for key, blocks in before.items() if key not in after and (key or blocks)]
    return changes
