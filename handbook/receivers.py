"""What publishing does besides Wagtail's own work: the current edition's copy of the manual is brought up to date
(services.edition_record) at once, and the manual's PDF is rebuilt after the transaction commits."""
from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def _manual_of(instance):
    from handbook.models import ChapterPage, HandbookPage

    if isinstance(instance, ChapterPage):
        return HandbookPage.objects.filter(pk=instance.get_parent().pk).first()
    return instance


def rebuild_pdf(edition_pk: int) -> None:
    from handbook.models import HandbookEdition
    from handbook.services import edition_pdf_build

    from handbook.caching import manual_fingerprint

    edition = HandbookEdition.objects.filter(pk=edition_pk).select_related("handbook").first()
    if edition is None:
        return
    if edition.pdf and edition.pdf_fingerprint == manual_fingerprint(edition.handbook.path):
        return  # already built for this state: many publishes in one transaction (a bulk publish) build once
    try:
        edition_pdf_build(edition=edition)
    except Exception:  # publishing must never fail because of the PDF; the view rebuilds it on demand
        logger.exception("handbook PDF could not be built for edition %s", edition_pk)


def on_manual_changed(sender, instance, **kwargs):
    from handbook.services import edition_record

    manual = _manual_of(instance)
    if manual is None or not manual.live:
        return
    edition = edition_record(handbook=manual)
    transaction.on_commit(lambda: rebuild_pdf(edition.pk))


def connect() -> None:
    from wagtail.signals import page_published, page_unpublished

    from handbook.models import ChapterPage, HandbookPage

    for model in (ChapterPage, HandbookPage):
        page_published.connect(on_manual_changed, sender=model, dispatch_uid=f"handbook-edition-pub-{model.__name__}")
        page_unpublished.connect(on_manual_changed, sender=model,
                                 dispatch_uid=f"handbook-edition-unpub-{model.__name__}")
