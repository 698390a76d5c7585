"""Wagtail admin view: how many readers have read each chapter (aggregate counts; no reader is named)."""
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from handbook.selectors import chapter_read_counts

REPORTS_PERMISSION = "accounts.view_reports"


def reading_report(request):
    if not (request.user.is_active and request.user.has_perm(REPORTS_PERMISSION)):
        raise PermissionDenied
    rows = chapter_read_counts()
    top = max([row["readers"] for row in rows] or [0]) or 1
    for row in rows:
        row["percent"] = round(100 * row["readers"] / top)
    return TemplateResponse(request, "handbook/admin/reading_report.html", {
        "page_title": _("Work manual reading"), "header_icon": "doc-full-inverse", "rows": rows,
    })
