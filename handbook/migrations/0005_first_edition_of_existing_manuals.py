"""Record the current edition of manuals that were published before editions were kept: one HandbookEdition per
live manual, with a copy of every live chapter's live revision (what handbook.services.edition_record does on the
next publish)."""
from django.db import migrations
from django.utils.text import slugify


def record_first_editions(apps, schema_editor):
    HandbookPage = apps.get_model("handbook", "HandbookPage")
    ChapterPage = apps.get_model("handbook", "ChapterPage")
    HandbookEdition = apps.get_model("handbook", "HandbookEdition")
    EditionChapter = apps.get_model("handbook", "EditionChapter")
    for manual in HandbookPage.objects.filter(live=True):
        if HandbookEdition.objects.filter(handbook=manual).exists():
            continue
        edition = HandbookEdition.objects.create(
            handbook=manual, label=manual.edition, slug=slugify(manual.edition, allow_unicode=True)[:70] or "edition-1",
            published_date=manual.published_date,
        )
        chapters = ChapterPage.objects.filter(path__startswith=manual.path, depth=manual.depth + 1, live=True)
        for chapter in chapters.exclude(live_revision=None).select_related("live_revision"):
            if EditionChapter.objects.filter(edition=edition, slug=chapter.slug).exists():
                continue
            EditionChapter.objects.create(
                edition=edition, chapter=chapter, revision=chapter.live_revision, content=chapter.live_revision.content,
                number=chapter.number, title=chapter.title, slug=chapter.slug,
            )


class Migration(migrations.Migration):
    dependencies = [("handbook", "0004_handbook_editions"), ("wagtailcore", "0001_initial")]

    operations = [migrations.RunPython(record_first_editions, migrations.RunPython.noop)]
