"""E-mail each registered user a reminder before their session starts. Run it from cron every 10–15 minutes.

    */10 * * * *  cd /srv/academy && .venv/bin/python manage.py send_live_reminders --hours 24

A registration is reminded once (Registration.reminded_at): running the command again, or twice at once, sends
nothing new.
"""
from datetime import timedelta

from django.core.management.base import BaseCommand

from live.services.registration import registrations_due_reminder, reminders_send


class Command(BaseCommand):
    help = "Send a reminder e-mail to everyone registered for a session that starts within the next N hours (once)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24.0,
                            help="Remind registrations of sessions starting within this many hours (default 24).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be sent; send nothing.")

    def handle(self, *args, hours, dry_run, **options):
        within = timedelta(hours=hours)
        if dry_run:
            due = list(registrations_due_reminder(within=within))
            for registration in due:
                self.stdout.write(f"{registration.session.title}: {registration.user.username} <{registration.user.email}>")
            self.stdout.write(f"{len(due)} reminder(s) due.")
            return
        sent = reminders_send(within=within)
        self.stdout.write(self.style.SUCCESS(f"{sent} reminder(s) sent."))
