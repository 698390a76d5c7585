"""Admin wiring of the courses app: the "Learning reports" menu item, the report and cohort URLs, the dashboard's
recent completions panel and the lesson form's script."""
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

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


class RecentCompletionsPanel(Component):
    """Dashboard: the latest course completions, for organisers who may read the learning reports."""

    name = "recent_completions"
    template_name = "courses/admin/panels/recent_completions.html"
    order = 120
    LIMIT = 6

    def get_context_data(self, parent_context):
        from courses.models import Completion

        context = super().get_context_data(parent_context)
        context["completions"] = list(
            Completion.objects.select_related("enrolment__user", "enrolment__course").order_by("-completed_at")[: self.LIMIT]
        )
        return context


@hooks.register("construct_homepage_panels")
def add_recent_completions_panel(request, panels):
    if request.user.has_perm(admin_views.REPORTS_PERMISSION):
        panels.append(RecentCompletionsPanel())


@hooks.register("insert_editor_js")
def lesson_form_js():
    """The lesson form shows only the fields of the chosen kind (static file: the admin's own CSP allows it)."""
    from django.templatetags.static import static
    from django.utils.html import format_html

    return format_html('<script src="{}" defer></script>', static("courses/admin/lesson_form.js"))
