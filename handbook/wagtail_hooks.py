"""Admin wiring of the handbook: the "Work manual reading" report (Reports menu, accounts.view_reports) and the
import of a manual file (main menu, for those who may add chapters)."""
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from handbook import admin_views


class ReadingReportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.REPORTS_PERMISSION)


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_import(request.user)


@hooks.register("register_admin_urls")
def register_handbook_report_urls():
    return [
        path("handbook-reading/", admin_views.reading_report, name="handbook_reading_report"),
        path("handbook-import/", admin_views.import_manual, name="handbook_import"),
        path("handbook-edition/<int:pk>/", admin_views.publish_edition, name="handbook_publish_edition"),
    ]


@hooks.register("register_admin_menu_item")
def register_handbook_import_menu_item():
    return ImportMenuItem(_("Import the work manual"), reverse("handbook_import"), icon_name="upload", order=250)


@hooks.register("register_reports_menu_item")
def register_handbook_report_menu_item():
    return ReadingReportMenuItem(_("Work manual reading"), reverse("handbook_reading_report"),
                                 icon_name="doc-full-inverse", order=110)
