"""The Reviewers group (may review volunteer applications) and the Organisers' volunteer permissions.

Reviewers hold accounts.review_volunteers, the permission Organisers already have; /volunteers/review/ checks it.
Organisers also get volunteers.manage_volunteers (rosters, dashboards, teams, purges) and may edit the category
snippets.
"""
from django.db import migrations

REVIEWER_PERMISSIONS = [("accounts", "review_volunteers")]
ORGANISER_PERMISSIONS = [
    ("accounts", "review_volunteers"),
    ("volunteers", "manage_volunteers"),
    ("volunteers", "add_volunteercategory"),
    ("volunteers", "change_volunteercategory"),
    ("volunteers", "delete_volunteercategory"),
    ("volunteers", "view_volunteercategory"),
]


def _permissions(apps, specs):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app_label, codename=codename) for app_label, codename in specs]


def create_groups(apps, schema_editor=None):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for label in ("accounts", "volunteers"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    reviewers, _ = Group.objects.get_or_create(name="Reviewers")
    reviewers.permissions.add(*_permissions(apps, REVIEWER_PERMISSIONS))
    organisers = Group.objects.filter(name="Organisers").first()
    if organisers is not None:
        organisers.permissions.add(*_permissions(apps, ORGANISER_PERMISSIONS))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="Reviewers").delete()


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_campaigns_and_applications"), ("accounts", "0002_groups")]
    operations = [migrations.RunPython(create_groups, remove_groups)]
