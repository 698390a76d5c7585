"""Writes of reading progress."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from handbook.models import ChapterPage, ChapterRead, HandbookPage
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


# --- Editions ----------------------------------------------------------------------------------------------------


def _edition_slug(handbook: HandbookPage, label: str) -> str:
    from django.utils.text import slugify

    from handbook.models import HandbookEdition

    base = slugify(label, allow_unicode=True)[:70] or f"edition-{handbook.editions.count() + 1}"
    slug, n = base, 1
    while HandbookEdition.objects.filter(handbook=handbook, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def edition_record(*, handbook: HandbookPage):
    """Bring the current edition's copy of the manual up to date (called whenever the manual or a chapter is
    published or unpublished). Publishing the manual with a new edition label starts a new edition; the previous
    one keeps its copies as they were and stays readable at its own address."""
    from handbook.models import EditionChapter, HandbookEdition

    handbook = HandbookPage.objects.get(pk=handbook.pk)  # the live values (a draft's edition label does not count)
    current = handbook.editions.order_by("-started_at", "-pk").first()
    if current is None or current.label != handbook.edition:
        current = HandbookEdition.objects.create(handbook=handbook, label=handbook.edition,
                                                 slug=_edition_slug(handbook, handbook.edition),
                                                 published_date=handbook.published_date)
    elif current.published_date != handbook.published_date:
        current.published_date = handbook.published_date
        current.save(update_fields=["published_date"])
    live = list(ChapterPage.objects.child_of(handbook).live().select_related("live_revision"))
    copies = {copy.chapter_id: copy for copy in current.chapters.all()}
    current.chapters.exclude(chapter__in=[chapter.pk for chapter in live]).delete()
    for chapter in live:
        revision = chapter.live_revision
        if revision is None:
            continue
        copy = copies.get(chapter.pk)
        if copy is not None and copy.revision_id == revision.pk and copy.slug == chapter.slug:
            continue
        EditionChapter.objects.update_or_create(
            edition=current, chapter=chapter,
            defaults={"revision": revision, "content": revision.content, "number": chapter.number,
                      "title": chapter.title, "slug": chapter.slug},
        )
    return current


def edition_pdf_build(*, edition):
    """Render the PDF of `edition` (its chapters as copied when they were published) and store it on the edition.
    Returns the edition."""
    from django.core.files.base import ContentFile
    from django.utils.formats import date_format

    from handbook.caching import manual_fingerprint
    from handbook.pdf import render_manual_pdf

    handbook = edition.handbook
    fingerprint = manual_fingerprint(handbook.path)
    chapters = [copy.as_page() for copy in edition.chapters.order_by("number", "pk")]
    data = render_manual_pdf(
        title=handbook.title, edition=edition.label,
        date_text=date_format(edition.published_date, "Y年n月j日") if edition.published_date else "",
        introduction_html=handbook.introduction or "", chapters=chapters,
    )
    old = edition.pdf.name if edition.pdf else ""
    edition.pdf.save(f"{handbook.slug}-{edition.slug}-{fingerprint.replace('.', '')[-12:]}.pdf", ContentFile(data),
                     save=False)
    edition.pdf_fingerprint = fingerprint
    edition.save(update_fields=["pdf", "pdf_fingerprint"])
    if old and old != edition.pdf.name:
        edition.pdf.storage.delete(old)
    return edition


class EditionError(ValueError):
    pass


EDITION_LABEL_REQUIRED = _("Give the new edition a name, for example 第二版.")
EDITION_LABEL_TAKEN = _("This manual already has an edition with this name.")


def edition_publish(*, handbook: HandbookPage, label: str, published_date=None, user=None):
    """Publish a new edition: the manual with its new edition name and date, then every chapter's latest draft.
    The previous edition stays readable as it was. Returns (edition, chapters published)."""
    from academy.text import text_clean
    from handbook.models import HandbookEdition

    label = text_clean(label or "", required=False)[:60]
    if not label:
        raise EditionError(EDITION_LABEL_REQUIRED)
    if HandbookEdition.objects.filter(handbook=handbook, label=label).exists():
        raise EditionError(EDITION_LABEL_TAKEN)
    with transaction.atomic():
        manual = handbook.get_latest_revision_as_object()
        manual.edition = label
        manual.published_date = published_date
        manual.save_revision(user=user, log_action=True).publish(user=user)
        published = []
        for chapter in ChapterPage.objects.child_of(handbook).order_by("number", "path"):
            if chapter.has_unpublished_changes and chapter.latest_revision_id:
                chapter.latest_revision.publish(user=user)
                published.append(chapter)
        edition = edition_record(handbook=handbook)
    return edition, published
