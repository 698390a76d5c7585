"""Organisers enrol cohorts (courses.add_enrolment) and may view learning records."""
from django.db import migrations

PERMISSIONS = [
    ("enrolment", "add_enrolment"),
    ("enrolment", "view_enrolment"),
    ("completion", "view_completion"),
    ("quizattempt", "view_quizattempt"),
    ("lessonprogress", "view_lessonprogress"),
]


def grant(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(global_apps.get_app_config("courses"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    organisers = Group.objects.filter(name="Organisers").first()
    if organisers is None:
        return
    organisers.permissions.add(*Permission.objects.filter(
        content_type__app_label="courses", codename__in=[codename for _model, codename in PERMISSIONS]
    ))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    organisers = Group.objects.filter(name="Organisers").first()
    if organisers is not None:
        organisers.permissions.remove(*Permission.objects.filter(
            content_type__app_label="courses", codename__in=[codename for _model, codename in PERMISSIONS]
        ))


class Migration(migrations.Migration):
    dependencies = [("courses", "0002_lesson_chapters"), ("accounts", "0002_groups")]
    operations = [migrations.RunPython(grant, revoke)]
