"""Close attendance spans left open by a server process that died (they end at the process's last heartbeat).

Run it every few minutes (cron or a systemd timer) in production; minutes attended are already computed as if
swept, so running it late changes nothing but the stored rows. It also reports the minutes of recent sessions to
the courses that require them (live.services.attendance).
"""
from django.core.management.base import BaseCommand

from live.services.attendance import attendance_report_recent
from live.services.room_batch import attendance_sweep


class Command(BaseCommand):
    help = "Close live-room attendance spans whose process stopped sending heartbeats."

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=int, default=180,
                            help="Seconds without a heartbeat after which a span is closed (default 180).")

    def handle(self, *args, stale_after, **options):
        closed = attendance_sweep(stale_after_seconds=stale_after)
        reported = attendance_report_recent()
        self.stdout.write(f"closed {closed} attendance span(s); reported {reported} attendee(s) to courses")
