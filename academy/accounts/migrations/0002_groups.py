"""The Organisers and Moderators groups with their permissions.

Organisers edit and publish every page, manage images and documents, review volunteers, read reports and manage
certificates. Moderators moderate live sessions from the site's moderator console (no admin access): Wagtail's
own "Moderators" group of page editors is taken over and reduced to that.
Apps that add their own models give these groups their permissions in their own migrations.
"""
from django.db import migrations

ORGANISER_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("accounts", "user", "moderate_live"),
    ("accounts", "user", "view_reports"),
    ("accounts", "user", "manage_certificates"),
    ("accounts", "user", "review_volunteers"),
    ("accounts", "user", "view_user"),
    ("wagtailimages", "image", "add_image"),
    ("wagtailimages", "image", "change_image"),
    ("wagtailimages", "image", "delete_image"),
    ("wagtailimages", "image", "choose_image"),
    ("wagtaildocs", "document", "add_document"),
    ("wagtaildocs", "document", "change_document"),
    ("wagtaildocs", "document", "delete_document"),
    ("wagtaildocs", "document", "choose_document"),
]
MODERATOR_PERMISSIONS = [("accounts", "user", "moderate_live")]
ORGANISER_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page", "delete_page"]


def _ensure_permissions(apps):
    """Permissions are normally created after all migrations; create them now so that groups can use them."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)


def _permission(apps, app_label, model, codename):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def create_groups(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    organisers, _ = Group.objects.get_or_create(name="Organisers")
    organisers.permissions.add(*[_permission(apps, *spec) for spec in ORGANISER_PERMISSIONS])
    root = Page.objects.filter(depth=1).first()
    if root is not None:
        for codename in ORGANISER_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=organisers, page=root, permission=_permission(apps, "wagtailcore", "page", codename)
            )
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for app_label, model, codename in ORGANISER_PERMISSIONS:
            if app_label in ("wagtailimages", "wagtaildocs"):
                GroupCollectionPermission.objects.get_or_create(
                    group=organisers, collection=root_collection,
                    permission=_permission(apps, app_label, model, codename),
                )

    # Wagtail's own migrations made a "Moderators" group of page editors; ours moderates live rooms only.
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    moderators.permissions.set([_permission(apps, *spec) for spec in MODERATOR_PERMISSIONS])
    GroupPagePermission.objects.filter(group=moderators).delete()
    GroupCollectionPermission.objects.filter(group=moderators).delete()


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Organisers", "Moderators"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("academy", "0002_create_homepage"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
