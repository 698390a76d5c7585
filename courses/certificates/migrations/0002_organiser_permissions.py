"""Organisers may edit the certificate issuer's settings (Settings → Certificate issuer in the admin).
Managing certificates themselves needs accounts.manage_certificates, which Organisers already have."""
from django.db import migrations


def grant(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(global_apps.get_app_config("certificates"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="certificates", codename="change_certificatesettings")
    group, _ = Group.objects.get_or_create(name="Organisers")
    group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_initial"), ("accounts", "0002_groups")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
