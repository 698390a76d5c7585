"""Wagtail admin wiring for the live app: panelists as a snippet with search; an attendee-list button on sessions."""
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.widgets import Button
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from live.models import Panelist


class PanelistViewSet(SnippetViewSet):
    model = Panelist
    icon = "user"
    menu_label = _("Panelists")
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["name", "title", "organisation", "city"]
    list_filter = ["city"]
    ordering = ["name"]


register_snippet(PanelistViewSet)


def _attendees_button(page, user, priority):
    from live.models import LiveSessionPage
    from live.selectors.access import session_can_view_reports

    specific = page.specific_deferred if hasattr(page, "specific_deferred") else page.specific
    if not isinstance(specific, LiveSessionPage) or not page.live:
        return None
    if not session_can_view_reports(session=specific, user=user):
        return None
    return Button(_("Attendees and exports"), f"{specific.url}attendees/", icon_name="group", priority=priority)


@hooks.register("register_page_listing_more_buttons")
def live_session_listing_buttons(page, user, next_url=None):
    button = _attendees_button(page, user, priority=60)
    if button:
        yield button


@hooks.register("register_page_header_buttons")
def live_session_header_buttons(page, user, view_name=None, next_url=None):
    button = _attendees_button(page, user, priority=60)
    if button:
        yield button


class UpcomingSessionsPanel(Component):
    """Dashboard: the sessions live now and coming up, with registrations and questions waiting for moderation."""

    name = "upcoming_sessions"
    template_name = "live/admin/panels/upcoming_sessions.html"
    order = 110
    LIMIT = 5

    def get_context_data(self, parent_context):
        from django.db.models import Count, Q
        from django.utils import timezone

        from live.models import LiveSessionPage, Question

        context = super().get_context_data(parent_context)
        sessions = list(
            LiveSessionPage.objects.live().filter(end__gt=timezone.now()).order_by("start").annotate(
                registered=Count("registrations", filter=Q(registrations__cancelled_at__isnull=True), distinct=True),
                pending=Count("questions", filter=Q(questions__status=Question.Status.PENDING), distinct=True),
            )[: self.LIMIT]
        )
        context["sessions"] = [{"page": session, "is_live": session.status == "live"} for session in sessions]
        return context


@hooks.register("construct_homepage_panels")
def add_upcoming_sessions_panel(request, panels):
    if request.user.has_perm("accounts.view_reports") or request.user.has_perm("accounts.moderate_live"):
        panels.append(UpcomingSessionsPanel())
