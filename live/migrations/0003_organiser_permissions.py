"""Organisers manage panelists (the snippet) and may view registrations and bans."""
from django.db import migrations

ORGANISER_CODENAMES = [
    "add_panelist", "change_panelist", "delete_panelist", "view_panelist", "view_registration", "view_ban",
]


def grant(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(global_apps.get_app_config("live"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    organisers = Group.objects.filter(name="Organisers").first()
    if organisers is None:
        return
    organisers.permissions.add(
        *Permission.objects.filter(content_type__app_label="live", codename__in=ORGANISER_CODENAMES)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0002_room"),
        ("accounts", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
