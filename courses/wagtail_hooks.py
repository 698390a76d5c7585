"""Admin wiring of the courses app: the "Learning reports" menu item and the report and cohort URLs."""
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from courses import admin_views


class ReportsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.REPORTS_PERMISSION)


@hooks.register("register_admin_urls")
def register_course_report_urls():
    urls = [
        path("", admin_views.report_index, name="index"),
        path("<int:course_id>/", admin_views.course_report, name="course"),
        path("<int:course_id>/cohort/", admin_views.cohort_enrol, name="cohort"),
    ]
    return [path("course-reports/", include((urls, "course_reports")))]


@hooks.register("register_reports_menu_item")
def register_course_reports_menu_item():
    return ReportsMenuItem(_("Learning"), reverse("course_reports:index"), icon_name="table", order=100)
