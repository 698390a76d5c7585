"""Admin wiring of volunteer intake: a menu item leading organisers to the review queue (campaigns are pages,
categories are snippets)."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from volunteers import selectors


class ReviewMenuItem(MenuItem):
    def is_shown(self, request):
        return selectors.can_review(request.user)


@hooks.register("register_admin_menu_item")
def register_volunteer_review_menu_item():
    return ReviewMenuItem(_("Volunteer applications"), reverse("volunteers:review"), icon_name="group", order=450)
