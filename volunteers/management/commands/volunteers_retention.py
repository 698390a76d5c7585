"""Delete the applications of campaigns whose retention period (ends_on + retention_days) is over. Run daily."""
from django.core.management.base import BaseCommand

from volunteers.services import retention_sweep


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        deleted = retention_sweep()
        for title, count in deleted.items():
            self.stdout.write(f"{title}: {count} applications deleted")
        if not deleted:
            self.stdout.write("nothing past its retention period")
