"""Wagtail admin wiring for the live app: panelists as a snippet with search."""
from django.utils.translation import gettext_lazy as _
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
