"""Wagtail admin wiring for the live app: panelists as a snippet with search; an attendee-list button on sessions."""
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
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
