"""The home page: the one page type of the project's top floor."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The site root at /: introduces the platform and leads to the handbook, courses and live sessions."""

    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("tagline"), FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["handbook.HandbookPage", "courses.CourseIndexPage", "live.LiveIndexPage", "volunteers.VolunteersIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from academy.sections import home_sections, upcoming_live_sessions

        context = super().get_context(request, *args, **kwargs)
        context["sections"] = home_sections(request)
        context["upcoming_sessions"] = upcoming_live_sessions()
        if request.user.is_authenticated:
            from academy.learner_home import learner_home

            context["mine"] = learner_home(user=request.user)
        return context
