"""python manage.py import_handbook FILE [--handbook SLUG] [--dry-run]

Imports a manual from Word (.docx), HTML (.html/.htm) or Markdown (.md): each Heading 1 becomes a chapter draft
(new revisions of existing chapters, matched by number). Prints what it created, what it dropped, and the added,
changed and unchanged chapters. Nothing is published.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from handbook.importing import ImportFailed, SourceError, handbook_import, import_plan
from handbook.models import HandbookPage


class Command(BaseCommand):
    help = "Import the work manual from a .docx, .html or .md file as chapter drafts."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--handbook", help="slug of the manual to import into (default: the only one)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be imported, write nothing")

    def handle(self, *args, file, handbook=None, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        manuals = HandbookPage.objects.all()
        if handbook:
            manuals = manuals.filter(slug=handbook)
        manual = manuals.order_by("path").first()
        if manual is None:
            raise CommandError(_("No work manual to import into: create the manual page in the admin first."))
        try:
            plan = import_plan(file_name=path.name, data=path.read_bytes(), base_dir=path.parent)
        except (SourceError, ImportFailed) as error:
            raise CommandError(str(error)) from error

        for chapter in plan.chapters:
            counts = "，".join(f"{kind} {count}" for kind, count in sorted(chapter.block_counts().items()))
            self.stdout.write(_("Chapter %(number)s %(title)s: %(characters)s characters; %(counts)s") % {
                "number": chapter.number, "title": chapter.title, "characters": chapter.characters,
                "counts": counts or "-"})
        for line in plan.dropped_lines():
            self.stdout.write(_("Dropped: %(what)s") % {"what": line})
        for message in plan.messages:
            self.stdout.write(_("Converter: %(message)s") % {"message": message})
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            return
        result = handbook_import(plan=plan, handbook=manual)
        for label, pages in ((_("added"), result.added), (_("changed"), result.changed),
                             (_("unchanged"), result.unchanged)):
            if not pages:
                self.stdout.write(_("%(label)s: %(count)s") % {"label": label, "count": 0})
                continue
            numbers = "、".join(str(page.number) for page in pages)
            self.stdout.write(_("%(label)s: %(count)s (chapters %(numbers)s)") % {
                "label": label, "count": len(pages), "numbers": numbers})
        self.stdout.write(self.style.SUCCESS(
            _("Imported into %(manual)s as drafts: publish them in the admin.") % {"manual": manual.title}))
