"""Writes of an import: chapters as drafts, updated by number as new revisions; pictures as Wagtail images."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from handbook.importing.sources import to_html
from handbook.importing.structure import ImportImage, ImportPlan, PlannedChapter, plan_from_html
from handbook.models import ChapterPage, HandbookPage

NO_CHAPTERS = _("No chapter found: each chapter must start with a Heading 1 (for example 第一章 ……).")
DUPLICATE_NUMBER = _("Chapter %(number)s appears more than once in the file.")


class ImportFailed(ValueError):
    pass


@dataclass
class ImportResult:
    added: list[ChapterPage] = field(default_factory=list)
    changed: list[ChapterPage] = field(default_factory=list)
    unchanged: list[ChapterPage] = field(default_factory=list)


def import_plan(*, file_name: str, data: bytes, base_dir: Path | None = None) -> ImportPlan:
    """Read a manual file and decide what it becomes; writes nothing. Raises SourceError or ImportFailed."""
    source = to_html(file_name=file_name, data=data)
    plan = plan_from_html(source.html, kind=source.kind, base_dir=base_dir, messages=source.messages)
    if not plan.chapters:
        raise ImportFailed(NO_CHAPTERS)
    seen: set[int] = set()
    for chapter in plan.chapters:
        if chapter.number in seen:
            raise ImportFailed(DUPLICATE_NUMBER % {"number": chapter.number})
        seen.add(chapter.number)
    return plan


def _image_for(picture: ImportImage, collection=None):
    from wagtail.images import get_image_model
    from wagtail.models import Collection

    Image = get_image_model()
    existing = Image.objects.filter(file_hash=picture.key).order_by("pk").first()
    if existing is not None:
        return existing
    image = Image(title=picture.title, collection=collection or Collection.get_first_root_node(),
                  file=ImageFile(io.BytesIO(picture.data), name=f"handbook-{picture.key[:12]}.{picture.extension}"))
    image._set_image_file_metadata()
    image.save()
    return image


def _body_for(chapter: PlannedChapter) -> list[tuple[str, object]]:
    body = []
    for block_type, value in chapter.blocks:
        if block_type == "image":
            value = {**value, "image": _image_for(value["image"])}
        body.append((block_type, value))
    return body


def _without_ids(data):
    if isinstance(data, dict):
        return {key: _without_ids(value) for key, value in data.items() if key != "id"}
    if isinstance(data, list):
        return [_without_ids(item) for item in data]
    return data


def _body_data(page: ChapterPage):
    field_ = ChapterPage._meta.get_field("body")
    prepared = field_.get_prep_value(page.body)
    return _without_ids(json.loads(prepared) if isinstance(prepared, str) else prepared)


def _unique_slug(handbook: HandbookPage, number: int) -> str:
    base = slugify(f"chapter-{number}")
    slug, n = base, 1
    siblings = set(handbook.get_children().values_list("slug", flat=True))
    while slug in siblings:
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def handbook_import(*, plan: ImportPlan, handbook: HandbookPage, user=None) -> ImportResult:
    """Create or update the chapters of `plan` under `handbook`, by chapter number, as drafts: a new chapter is a
    page that is not live; an existing one gets a new revision (its live version stays as it is until an organiser
    publishes). A chapter whose title, summary and body are those of its latest revision is left alone."""
    result = ImportResult()
    existing = {page.number: page for page in ChapterPage.objects.child_of(handbook).order_by("-path")}
    for planned in plan.chapters:
        body = _body_for(planned)
        page = existing.get(planned.number)
        if page is None:
            page = ChapterPage(title=planned.title, slug=_unique_slug(handbook, planned.number),
                               number=planned.number, summary=planned.summary, body=body, live=False)
            handbook.add_child(instance=page)
            page.save_revision(user=user, log_action=True)
            result.added.append(page)
            continue
        latest = page.get_latest_revision_as_object()
        before = (latest.title, latest.summary, _body_data(latest))
        latest.title, latest.summary, latest.body = planned.title, planned.summary, body
        if (latest.title, latest.summary, _body_data(latest)) == before:
            result.unchanged.append(page)
            continue
        latest.reading_minutes = page.reading_minutes
        latest.save_revision(user=user, log_action=True)
        result.changed.append(latest)
    return result
