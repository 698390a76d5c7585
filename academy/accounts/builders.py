"""Account builders for code that sets up a site (load_demo, other apps' builders, tests)."""
from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group


def ensure_groups() -> None:
    """Organisers and Moderators exist with their permissions (a transactional test may have flushed them)."""
    if Group.objects.filter(name__in=["Organisers", "Moderators"]).count() == 2:
        return
    import_module("academy.accounts.migrations.0002_groups").create_groups(apps, None)
