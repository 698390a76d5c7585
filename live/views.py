"""The session page's routes (registration, calendar, attendee list, exports, recap). Thin: services decide.

Each view is called by a route method of LiveSessionPage with the page as `session`.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from live import exports
from live.ics import session_ics
from live.models import Registration
from live.selectors.access import (
    registration_count,
    session_can_publish_recap,
    session_can_view_reports,
    session_detail_context,
    user_is_registered,
)
from live.services.recap import recap_draft_create
from live.services.registration import absolute_url, registration_cancel, registration_create


def _session_url(session, suffix: str = "") -> str:
    return session.url + suffix


def _require_reports(request, session):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not session_can_view_reports(session=session, user=request.user):
        raise PermissionDenied
    return None


def _render(request, session, template: str, context: dict, status: int = 200):
    context = {"page": session, "self": session, "session": session, **context}
    return TemplateResponse(request, template, context, status=status)


@require_POST
def register(request, session):
    if not request.user.is_authenticated:
        return redirect_to_login(_session_url(session))
    try:
        registration_create(session=session, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_session_url(session))
    return redirect(_session_url(session, "registered/"))


@require_POST
def cancel(request, session):
    if not request.user.is_authenticated:
        return redirect_to_login(_session_url(session))
    try:
        registration_cancel(session=session, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your registration has been cancelled."))
    return redirect(_session_url(session))


def registered(request, session):
    """The confirmation page after registering (also reachable later from the e-mail)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user_is_registered(session=session, user=request.user):
        return redirect(_session_url(session))
    registration = Registration.objects.active().get(session=session, user=request.user)
    context = session_detail_context(session=session, user=request.user)
    return _render(request, session, "live/registered.html", {"registration": registration, **context})


def calendar(request, session):
    body = session_ics(session, url=absolute_url(session))
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="live-{session.pk}.ics"'
    return response


def attendees(request, session):
    denied = _require_reports(request, session)
    if denied:
        return denied
    registrations = (
        Registration.objects.filter(session=session).select_related("user").order_by("cancelled_at", "created_at")
    )
    minutes = exports.minutes_by_user(session)
    active = [r for r in registrations if r.cancelled_at is None]
    for registration in active:
        registration.minutes_attended = minutes.get(registration.user_id)
    cancelled = [r for r in registrations if r.cancelled_at is not None]
    return _render(request, session, "live/attendees.html", {
        "active": active, "cancelled": cancelled, "registration_count": registration_count(session=session),
        "attended_count": len(minutes),
        "unregistered_attendees": len(set(minutes) - {r.user_id for r in active}),
        "exports": exports.available(session),
        "can_publish_recap": session_can_publish_recap(session=session, user=request.user),
    })


def export(request, session, *, what: str, fmt: str):
    denied = _require_reports(request, session)
    if denied:
        return denied
    table = exports.table(session, what)
    filename = f"live-{session.pk}-{what}"
    if fmt == "xlsx":
        return exports.xlsx_response(table, filename=filename)
    return exports.csv_response(table, filename=filename)


@require_POST
def publish_recap(request, session):
    if not request.user.is_authenticated:
        return redirect_to_login(_session_url(session))
    if not session_can_publish_recap(session=session, user=request.user):
        raise PermissionDenied
    recap, created = recap_draft_create(session=session, user=request.user)
    if created:
        messages.success(request, _("A draft recap has been created. Edit it, then publish it."))
    else:
        messages.info(request, _("This session already has a recap: here it is."))
    return redirect(reverse("wagtailadmin_pages:edit", args=[recap.pk]))
