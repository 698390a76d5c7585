"""Wagtail admin views of the courses app: learning reports (charts and exports) and cohort enrolment.

Reports need accounts.view_reports; enrolling a cohort needs courses.add_enrolment (given to Organisers by
migration 0003). Charts are inline SVG drawn by our templates: no chart library, nothing from a CDN.
"""
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from academy.exports import csv_response, xlsx_response
from courses import reports, services
from courses.cohort import read_identifiers
from courses.models import CoursePage

REPORTS_PERMISSION = "accounts.view_reports"
COHORT_PERMISSION = "courses.add_enrolment"


def _require(request, permission):
    if not (request.user.is_active and request.user.has_perm(permission)):
        raise PermissionDenied


def _download(table, fmt: str, filename: str):
    """The table as the one exporter writes it (academy/exports.py)."""
    return (xlsx_response if fmt == "xlsx" else csv_response)(table, filename=filename)


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def report_index(request):
    _require(request, REPORTS_PERMISSION)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(reports.summary_table(), fmt, f"courses-{_stamp()}")
    summaries = reports.course_summaries()
    chart = reports.svg_bars(
        [reports.Bar(row["course"].title, row["completed"], row["enrolled"]) for row in summaries],
        title=_("Enrolments and completions per course"),
    )
    return TemplateResponse(request, "courses/admin/report_index.html", {
        "page_title": _("Learning reports"), "header_icon": "table", "summaries": summaries, "chart": chart,
        "can_enrol": request.user.has_perm(COHORT_PERMISSION),
    })


def course_report(request, course_id):
    _require(request, REPORTS_PERMISSION)
    course = get_object_or_404(CoursePage, pk=course_id)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(reports.export_table(course), fmt, f"course-{course.slug}-{_stamp()}")
    report = reports.course_report(course)
    return TemplateResponse(request, "courses/admin/course_report.html", {
        "page_title": course.title, "header_icon": "table", "report": report,
        "distribution_chart": reports.svg_bars(report["distribution"], label_width=120),
        "funnel_chart": reports.svg_bars(report["funnel"]),
        "quiz_charts": [{**quiz, "chart": reports.svg_bars(quiz["bars"], label_width=100)} for quiz in report["quizzes"]],
        "can_enrol": request.user.has_perm(COHORT_PERMISSION),
    })


class CohortForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("List of learners (CSV or XLSX)"),
        help_text=gettext_lazy("One learner per row: a username or a phone number in the first column. A header row is skipped."),
    )


def cohort_enrol(request, course_id):
    _require(request, COHORT_PERMISSION)
    course = get_object_or_404(CoursePage, pk=course_id)
    report = None
    form = CohortForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            identifiers = read_identifiers(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            try:
                report = services.cohort_enrol(course=course, identifiers=identifiers, enrolled_by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
    return TemplateResponse(request, "courses/admin/cohort.html", {
        "page_title": _("Enrol a cohort"), "header_icon": "group", "course": course, "form": form, "report": report,
    })
