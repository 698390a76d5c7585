"""Build the demo site: idempotent, made with the builders the tests use too (<app>/builders.py, <app>/demo.py)."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from academy.demo import DEMO_USERS, demo_steps, ensure_demo_users

# The default of settings.DEMO_PASSWORD: printed as it is, since anyone can read it in the README anyway.
DEFAULT_DEMO_PASSWORD = "changeme"


class Command(BaseCommand):
    help = "Create the demo accounts and demo content (idempotent). Refused with DEBUG off unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, force=False, verbosity=1, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: demo accounts with a known password would be created. Use --force.")
        password = settings.DEMO_PASSWORD

        def log(message):
            if verbosity >= 2:
                self.stdout.write(f"  {message}")

        with transaction.atomic():
            users = ensure_demo_users(password)
            for name, step in demo_steps():
                log(f"[{name}]")
                step(users=users, log=log)

        if verbosity:
            shown = f"password: {password}" if password == DEFAULT_DEMO_PASSWORD else "password: the value of DEMO_PASSWORD"
            self.stdout.write(self.style.SUCCESS(f"Demo content is ready. Demo accounts ({shown}):"))
            for username, (real_name, role, groups, _extra) in DEMO_USERS.items():
                self.stdout.write(f"  {username:<20} {real_name:<6} {role:<14} {', '.join(groups)}")
