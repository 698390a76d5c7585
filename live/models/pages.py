"""Live session pages: the /live/ index, one page per live class or expert panel, its recap, and panelists.

Fields, panels, page-tree rules and cheap properties only; registration, access and exports live in
live/services, live/selectors and live/views. The room itself (Q&A, polls, attendance) is in live/models/room.py.
"""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, TabbedInterface, ObjectList
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from academy.search import CJKSearchMixin, cjk_search_fields

RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]


class Panelist(index.Indexed, models.Model):
    """A speaker on an expert panel or the teacher of a live class (a Wagtail snippet)."""

    name = models.CharField(_("full name"), max_length=60)
    title = models.CharField(_("job title"), max_length=80, blank=True, help_text=_("For example: associate professor."))
    organisation = models.CharField(_("organisation"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("photo"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    bio = models.TextField(_("biography"), blank=True)

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("title"), FieldPanel("organisation"), FieldPanel("city")]),
        FieldPanel("photo"),
        FieldPanel("bio"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.SearchField("organisation"),
        index.SearchField("bio"),
        index.AutocompleteField("name"),
        index.FilterField("city"),
    ]

    class Meta:
        verbose_name = _("panelist")
        verbose_name_plural = _("panelists")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} · {self.organisation}" if self.organisation else self.name


class LiveIndexPage(Page):
    """/live/: upcoming and past live classes and expert panels."""

    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)

    PAST_PER_PAGE = 12
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["academy.HomePage"]
    subpage_types = ["live.LiveSessionPage"]
    max_count = 1

    class Meta:
        verbose_name = _("live sessions index")

    def sessions(self):
        return (
            LiveSessionPage.objects.child_of(self).live().public()
            .prefetch_related("session_panelists__panelist__photo")
        )

    def get_context(self, request, *args, **kwargs):
        from live.selectors.status import sessions_with_status

        context = super().get_context(request, *args, **kwargs)
        now = timezone.now()
        sessions = self.sessions()
        context["live_now"] = list(sessions_with_status(sessions, "live", now).order_by("start"))
        context["upcoming"] = list(sessions_with_status(sessions, "scheduled", now).order_by("start"))
        past = Paginator(sessions_with_status(sessions, "ended", now).order_by("-start"), self.PAST_PER_PAGE)
        context["past"] = past.get_page(request.GET.get("page"))
        return context


class LiveSessionPage(RoutablePageMixin, CJKSearchMixin, Page):
    """One live class or expert panel at /live/<slug>/, with registration, the room and the exports as routes."""

    class Kind(models.TextChoices):
        LIVE_CLASS = "live_class", _("Live class")
        EXPERT_PANEL = "expert_panel", _("Expert panel")

    class StreamKind(models.TextChoices):
        HLS = "hls", _("HLS stream (played by our own player)")
        EMBED = "embed", _("Embed URL of a streaming service")
        NONE = "none", _("No video (Q&A only)")

    class ModerationMode(models.TextChoices):
        PRE = "pre", _("Pre-moderation: questions wait for approval")
        POST = "post", _("Post-moderation: questions appear at once")

    description = RichTextField(_("description"), blank=True, features=RICH_TEXT_FEATURES)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.LIVE_CLASS)
    start = models.DateTimeField(_("start"), help_text=_("Beijing time (Asia/Shanghai)."))
    end = models.DateTimeField(_("end"), help_text=_("Beijing time (Asia/Shanghai)."))
    host_organisation = models.CharField(_("host organisation"), max_length=120, blank=True)
    stream_kind = models.CharField(_("stream source"), max_length=10, choices=StreamKind.choices, default=StreamKind.NONE)
    stream_url = models.URLField(_("stream URL"), max_length=500, blank=True,
                                 help_text=_("The .m3u8 address of an HLS stream, or the embed address given by the streaming service."))
    capacity = models.PositiveIntegerField(_("capacity"), default=0, help_text=_("Most registrations accepted; 0 means unlimited."))
    registration_required = models.BooleanField(
        _("registration required"), default=False,
        help_text=_("On: only registered users may enter the room. Off: any signed-in user may enter."),
    )
    registration_open = models.BooleanField(_("registration open"), default=True)
    moderation_mode = models.CharField(_("question moderation"), max_length=4, choices=ModerationMode.choices,
                                       default=ModerationMode.PRE)
    # Which course a session counts toward, and for how many minutes, is said by the course's live lesson
    # (courses.LessonPage: kind "live", live_session, minutes_required): one way, not two.

    content_panels = Page.content_panels + [
        FieldPanel("kind"),
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")], heading=_("Time")),
        FieldPanel("host_organisation"),
        FieldPanel("description"),
        InlinePanel("session_panelists", label=_("Panelists"), heading=_("Panelists")),
        InlinePanel("agenda_topics", label=_("Agenda topic"), heading=_("Agenda")),
    ]
    room_panels = [
        MultiFieldPanel([FieldPanel("stream_kind"), FieldPanel("stream_url")], heading=_("Stream")),
        FieldPanel("moderation_mode"),
        InlinePanel("session_moderators", label=_("Moderator"), heading=_("Moderators and hosts")),
    ]
    registration_panels = [
        FieldPanel("registration_required"),
        FieldPanel("registration_open"),
        FieldPanel("capacity"),
    ]
    edit_handler = TabbedInterface([
        ObjectList(content_panels, heading=_("Content")),
        ObjectList(room_panels, heading=_("Live room")),
        ObjectList(registration_panels, heading=_("Registration")),
        ObjectList(Page.promote_panels, heading=_("Promote")),
        ObjectList(Page.settings_panels, heading=_("Settings")),
    ])
    search_fields = Page.search_fields + [
        index.SearchField("description"),
        index.SearchField("host_organisation"),
        index.FilterField("start"),
    ] + cjk_search_fields()
    parent_page_types = ["live.LiveIndexPage"]

    def get_search_text(self) -> str:
        topics = " ".join(f"{topic.title} {topic.detail}" for topic in self.agenda_topics.all())
        return "\n".join([strip_tags(self.description or ""), self.host_organisation or "", topics])
    subpage_types = ["live.LiveRecapPage"]

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        errors = {}
        if self.start and self.end and self.end <= self.start:
            errors["end"] = _("The end must be after the start.")
        if self.stream_kind != self.StreamKind.NONE and not self.stream_url:
            errors["stream_url"] = _("Give the stream URL, or choose “No video”.")
        if errors:
            raise ValidationError(errors)

    # --- cheap properties of this row -------------------------------------------------------------------------
    def is_live(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.start <= now < self.end

    @property
    def is_upcoming(self) -> bool:
        return timezone.now() < self.start

    @property
    def is_past(self) -> bool:
        return self.end <= timezone.now()

    # The one status of a session (issue: one truth for a session's status), read alike by the session page, the
    # /live/ list, the home page and the room: the host's choice once a host started or ended the session
    # (RoomState.status), the schedule before that. "scheduled", "live" or "ended".
    def status_for(self, host_status: str | None, now: datetime | None = None) -> str:
        if host_status:
            return host_status
        now = now or timezone.now()
        if now < self.start:
            return "scheduled"
        return "live" if now < self.end else "ended"

    def host_status_now(self) -> str | None:
        """The hosts' choice as stored now (one query; lists annotate it as `host_status` instead)."""
        from live.models.room import RoomState

        return RoomState.objects.filter(session=self).values_list("status", flat=True).first() or None

    @property
    def status(self) -> str:
        """"scheduled", "live" or "ended" (see `status_for`); uses the `host_status` annotation when present."""
        if "host_status" in self.__dict__:
            return self.status_for(self.__dict__["host_status"])
        if "_status_cache" not in self.__dict__:
            self.__dict__["_status_cache"] = self.status_for(self.host_status_now())
        return self.__dict__["_status_cache"]

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def websocket_path(self) -> str:
        return f"/ws/live/{self.pk}/"

    @cached_property
    def panelists(self) -> list[Panelist]:
        if "session_panelists" in getattr(self, "_prefetched_objects_cache", {}):  # the index prefetches them
            return [link.panelist for link in self.session_panelists.all()]
        return [link.panelist for link in self.session_panelists.select_related("panelist__photo")]

    @cached_property
    def agenda(self) -> list["AgendaTopic"]:
        return list(self.agenda_topics.all())

    def published_recap(self):
        return LiveRecapPage.objects.child_of(self).live().public().first()

    def get_context(self, request, *args, **kwargs):
        from live.selectors.access import session_detail_context

        context = super().get_context(request, *args, **kwargs)
        context.update(session_detail_context(session=self, user=request.user))
        return context

    # --- routes: thin, each hands over to live.views (or live.room_views, written by the room's author) ---------
    @path("")
    def detail(self, request):
        return self.render(request)

    @path("register/", name="register")
    def register(self, request):
        from live import views

        return views.register(request, self)

    @path("cancel/", name="cancel")
    def cancel(self, request):
        from live import views

        return views.cancel(request, self)

    @path("registered/", name="registered")
    def registered(self, request):
        from live import views

        return views.registered(request, self)

    # Wagtail's page URLs have no dots: live/urls.py hands /…/calendar.ics and /…/export/x.csv to Wagtail's serve,
    # which passes the last component here with the trailing slash every route gets.
    @path("calendar.ics/", name="calendar")
    def calendar(self, request):
        from live import views

        return views.calendar(request, self)

    @path("attendees/", name="attendees")
    def attendees(self, request):
        from live import views

        return views.attendees(request, self)

    @re_path(r"^export/(?P<what>questions|attendance|registrations)\.(?P<fmt>csv|xlsx)/$", name="export")
    def export(self, request, what, fmt):
        from live import views

        return views.export(request, self, what=what, fmt=fmt)

    @path("publish-recap/", name="publish_recap")
    def publish_recap(self, request):
        from live import views

        return views.publish_recap(request, self)

    @path("room/", name="room")
    def room(self, request):
        from live import room_views

        return room_views.room(request, self)

    @path("room/ask/", name="room_ask")
    def room_ask(self, request):
        from live import room_views

        return room_views.ask(request, self)

    @path("console/", name="console")
    def console(self, request):
        from live import room_views

        return room_views.console(request, self)


class SessionPanelist(Orderable):
    page = ParentalKey(LiveSessionPage, on_delete=models.CASCADE, related_name="session_panelists")
    panelist = models.ForeignKey(Panelist, verbose_name=_("panelist"), on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("panelist")]

    class Meta(Orderable.Meta):
        verbose_name = _("panelist of a session")
        constraints = [models.UniqueConstraint(fields=["page", "panelist"], name="live_sessionpanelist_unique")]


class SessionModerator(Orderable):
    """A user who hosts or moderates one session: may moderate its room and read its attendee list and exports."""

    class Role(models.TextChoices):
        HOST = "host", _("Host")
        MODERATOR = "moderator", _("Moderator")

    page = ParentalKey(LiveSessionPage, on_delete=models.CASCADE, related_name="session_moderators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="live_moderations")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MODERATOR)

    panels = [FieldPanel("user"), FieldPanel("role")]

    class Meta(Orderable.Meta):
        verbose_name = _("moderator of a session")
        constraints = [models.UniqueConstraint(fields=["page", "user"], name="live_sessionmoderator_unique")]


class AgendaTopic(Orderable):
    """One topic question of a session's agenda (Q1…Q5). Its id is stable across edits: the room refers to it."""

    page = ParentalKey(LiveSessionPage, on_delete=models.CASCADE, related_name="agenda_topics")
    title = models.CharField(_("topic"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)

    panels = [FieldPanel("title"), FieldPanel("detail")]

    class Meta(Orderable.Meta):
        verbose_name = _("agenda topic")
        verbose_name_plural = _("agenda topics")

    def __str__(self) -> str:
        return self.title

    @property
    def number(self) -> int:
        """1-based position in the agenda (Q1, Q2…)."""
        return (self.sort_order or 0) + 1


# --- the recap -----------------------------------------------------------------------------------------------------
class TopicBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Topic"))
    summary = blocks.RichTextBlock(label=_("Summary"), required=False, features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "list-ol"
        label = _("Agenda topic")
        template = "live/blocks/topic.html"
        preview_value = {"title": "多方协同是怎样快速形成的", "summary": "<p>嘉宾们认为,联动是社区治理的核心。</p>"}


class AnswerBlock(blocks.StructBlock):
    question = blocks.TextBlock(label=_("Question"))
    asked_by = blocks.CharBlock(label=_("Asked by"), required=False, help_text=_("Leave empty for an anonymous question."))
    reply = blocks.TextBlock(label=_("Reply"), required=False)
    replied_by = blocks.CharBlock(label=_("Replied by"), required=False)

    class Meta:
        icon = "help"
        label = _("Question and answer")
        template = "live/blocks/answer.html"
        preview_value = {"question": "志愿者如何被组织起来?", "asked_by": "马丽",
                         "reply": "先上岗、边做边学是普遍情况。", "replied_by": "周晓芸"}


class LiveRecapPage(CJKSearchMixin, Page):
    """What was said: drafted from the session's agenda and answered questions, edited and published by an organiser.

    A child of its session page (/live/<session>/recap/): the session finds its recap among its children, the
    recap inherits the session's URL, and the /live/ index keeps listing sessions only.
    """

    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)
    body = StreamField(
        [
            ("topic", TopicBlock()),
            ("answer", AnswerBlock()),
            ("text", blocks.RichTextBlock(label=_("Text"), icon="pilcrow", features=RICH_TEXT_FEATURES)),
        ],
        verbose_name=_("body"), blank=True,
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")] + cjk_search_fields()
    parent_page_types = ["live.LiveSessionPage"]

    def get_search_text(self) -> str:
        return "\n".join([strip_tags(self.intro or ""), strip_tags(self.body.render_as_block() if self.body else "")])
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("live session recap")

    @property
    def session(self) -> LiveSessionPage:
        return self.get_parent().specific
