"""The handbook: the 三社联动 work manual (HandbookPage at /handbook/) and its chapters (ChapterPage), and the
record of which signed-in reader has read which chapter (ChapterRead)."""
from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from academy.search import CJKSearchMixin, cjk_search_fields
from handbook.blocks import ChapterBodyBlock, heading_anchor
from handbook.caching import serve_cached

# Routes of the manual served without the anonymous page cache (files, and lists that differ per reader).
UNCACHED_ROUTES = {"pdf_view", "edition_pdf_view", "service_worker_view", "web_manifest_view", "offline_list_view"}
HEADING_TYPES = {"heading": 2, "subheading": 3}  # body blocks that get an anchor and a line in the contents
# Chinese readers read about 400 characters a minute (CJK characters and other non-space characters alike).
CHARACTERS_PER_MINUTE = 400

AUDIENCE_CHOICES = [
    ("community_workers", _("Community workers")),
    ("social_workers", _("Social workers")),
    ("volunteers", _("Volunteers")),
    ("social_organisations", _("Social organisations")),
]
AUDIENCE_UNKNOWN = _("Unknown audience: %(value)s.")


def stream_text(raw_data) -> str:
    """All the words of a StreamField's raw data as plain text (rich text stripped), in order."""
    parts: list[str] = []

    def walk(value):
        if isinstance(value, str):
            parts.append(strip_tags(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in {"kind", "document", "image", "embed", "file_url", "id", "type"}:
                    walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for block in raw_data or []:
        if isinstance(block, dict) and block.get("type") in {"document", "image", "video"}:
            walk({k: v for k, v in (block.get("value") or {}).items() if k in {"title", "description", "caption", "alt"}})
        elif isinstance(block, dict):
            walk(block.get("value"))
    return "\n".join(p.strip() for p in parts if p and p.strip())


def reading_minutes_for(text: str) -> int:
    characters = sum(1 for ch in text if not ch.isspace())
    return max(1, math.ceil(characters / CHARACTERS_PER_MINUTE))


class HandbookPage(RoutablePageMixin, CJKSearchMixin, Page):
    """The manual: its table of contents at /handbook/ and the whole manual to print at /handbook/print/."""

    edition = models.CharField(_("edition"), max_length=60, blank=True, help_text=_("For example 第一版."))
    published_date = models.DateField(_("date of this edition"), null=True, blank=True)
    introduction = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link", "ol", "ul"])
    intended_readers = models.TextField(_("intended readers"), blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("edition"), FieldPanel("published_date")], heading=_("Edition")),
        FieldPanel("introduction"),
        FieldPanel("intended_readers"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("introduction"),
        index.SearchField("intended_readers"),
    ] + cjk_search_fields()

    parent_page_types = ["academy.HomePage"]
    subpage_types = ["handbook.ChapterPage"]
    max_count = 1
    template = "handbook/handbook_page.html"

    class Meta:
        verbose_name = _("work manual")
        verbose_name_plural = _("work manuals")

    def get_search_text(self) -> str:
        return " ".join([strip_tags(self.introduction or ""), self.intended_readers or ""])

    def chapters(self):
        """The live, public chapters in reading order."""
        return ChapterPage.objects.child_of(self).live().public().order_by("number", "path")

    def _index_context(self, request, *args, **kwargs):
        from handbook.selectors import handbook_progress

        context = super().get_context(request, *args, **kwargs)
        chapters = list(self.chapters())
        context["chapters"] = chapters
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            progress = handbook_progress(user=user, handbook=self, chapters=chapters)
            context["progress"] = progress
            for chapter in chapters:
                chapter.is_read = chapter.pk in progress.read_ids
        return context

    def serve(self, request, *args, **kwargs):
        view = args[0] if args else kwargs.get("view")
        if getattr(view, "__name__", "") in UNCACHED_ROUTES:  # files and personal data: not the page cache's
            return super().serve(request, *args, **kwargs)
        return serve_cached(self, request, lambda: super(HandbookPage, self).serve(request, *args, **kwargs))

    def get_context(self, request, *args, **kwargs):
        context = self._index_context(request, *args, **kwargs)
        context["editions"] = list(self.editions.order_by("started_at", "pk"))
        return context

    @path("print/", name="print")
    def print_view(self, request):
        """Every chapter on one page, for organisers who print and distribute the manual offline."""
        return self.render(request, template="handbook/handbook_print.html")

    @path("pdf/", name="pdf")
    def pdf_view(self, request):
        from handbook.views import manual_pdf

        return manual_pdf(request, self)

    @path("editions/", name="editions")
    def editions_view(self, request):
        from handbook.views import edition_list

        return edition_list(request, self)

    @path("editions/<str:edition>/", name="edition")
    def edition_view(self, request, edition):
        from handbook.views import edition_contents

        return edition_contents(request, self, edition)

    @path("editions/<str:edition>/pdf/", name="edition_pdf")
    def edition_pdf_view(self, request, edition):
        from handbook.views import manual_pdf

        return manual_pdf(request, self, edition)

    @path("editions/<str:edition>/<str:chapter>/", name="edition_chapter")
    def edition_chapter_view(self, request, edition, chapter):
        from handbook.views import edition_chapter

        return edition_chapter(request, self, edition, chapter)

    @path("sw/", name="service_worker")
    def service_worker_view(self, request):
        from handbook.offline import service_worker

        return service_worker(request, self)

    @path("manifest/", name="web_manifest")
    def web_manifest_view(self, request):
        from handbook.offline import web_manifest

        return web_manifest(request, self)

    @path("offline/", name="offline_list")
    def offline_list_view(self, request):
        from handbook.offline import offline_list

        return offline_list(request, self)


class ChapterPageForm(WagtailAdminPageForm):
    audience = forms.MultipleChoiceField(
        choices=AUDIENCE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False, label=_("Audience"),
    )


class ChapterPage(RoutablePageMixin, CJKSearchMixin, Page):
    """A chapter of the manual at /handbook/<slug>/."""

    number = models.PositiveSmallIntegerField(_("chapter number"), help_text=_("Chapters are listed in this order."))
    summary = models.TextField(_("summary"), max_length=500,
                               help_text=_("Two or three sentences shown in the table of contents."))
    audience = models.JSONField(_("audience"), default=list, blank=True)
    body = StreamField(ChapterBodyBlock(), verbose_name=_("body"), blank=True)
    reading_minutes = models.PositiveSmallIntegerField(_("reading time (minutes)"), default=1, editable=False)

    content_panels = Page.content_panels + [
        MultiFieldPanel([FieldPanel("number"), FieldPanel("summary"), FieldPanel("audience")], heading=_("Chapter")),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("number"),
    ] + cjk_search_fields()
    base_form_class = ChapterPageForm

    parent_page_types = ["handbook.HandbookPage"]
    subpage_types: list[str] = []
    template = "handbook/chapter_page.html"

    class Meta:
        verbose_name = _("chapter")
        verbose_name_plural = _("chapters")

    def clean(self):
        super().clean()
        known = {value for value, _label in AUDIENCE_CHOICES}
        unknown = [value for value in (self.audience or []) if value not in known]
        if unknown:
            raise ValidationError({"audience": AUDIENCE_UNKNOWN % {"value": ", ".join(map(str, unknown))}})

    def save(self, *args, **kwargs):
        self.reading_minutes = reading_minutes_for(self.body_text())
        return super().save(*args, **kwargs)

    def serve(self, request, *args, **kwargs):
        return serve_cached(self, request, lambda: super(ChapterPage, self).serve(request, *args, **kwargs))

    @path("read/", name="mark_read")
    def mark_read(self, request):
        from handbook.views import chapter_mark_read_view

        return chapter_mark_read_view(request, self)

    # --- Text, contents, navigation ---------------------------------------------------------------------------
    def body_text(self) -> str:
        return stream_text(self.body.raw_data)

    def get_search_text(self) -> str:
        return "\n".join([self.summary or "", self.body_text()])

    def audience_labels(self) -> list[str]:
        labels = dict(AUDIENCE_CHOICES)
        return [str(labels[value]) for value in self.audience or [] if value in labels]

    def body_blocks(self) -> list:
        """The body's blocks, headings given unique anchors (`block.anchor`)."""
        seen: set[str] = set()
        blocks = []
        for position, block in enumerate(self.body):
            block.anchor = ""
            if block.block_type in HEADING_TYPES:
                anchor = heading_anchor(block.value, position)
                if anchor in seen:
                    anchor = f"{anchor}-{position}"
                seen.add(anchor)
                block.anchor = anchor
            blocks.append(block)
        return blocks

    def contents(self, blocks=None) -> list[dict]:
        """In-page contents: the section (level 2) and subsection (level 3) headings with their anchors."""
        return [{"anchor": block.anchor, "text": block.value, "level": HEADING_TYPES[block.block_type]}
                for block in (self.body_blocks() if blocks is None else blocks) if block.block_type in HEADING_TYPES]

    def siblings_in_order(self):
        return ChapterPage.objects.sibling_of(self).live().public().order_by("number", "path")

    def previous_chapter(self):
        return self.siblings_in_order().filter(
            models.Q(number__lt=self.number) | models.Q(number=self.number, path__lt=self.path)
        ).exclude(pk=self.pk).last()

    def next_chapter(self):
        return self.siblings_in_order().filter(
            models.Q(number__gt=self.number) | models.Q(number=self.number, path__gt=self.path)
        ).exclude(pk=self.pk).first()

    def get_context(self, request, *args, **kwargs):
        from handbook.selectors import chapter_changes, chapter_is_read

        context = super().get_context(request, *args, **kwargs)
        context["blocks"] = self.body_blocks()
        context["contents"] = self.contents(context["blocks"])
        context["previous_chapter"] = self.previous_chapter()
        context["next_chapter"] = self.next_chapter()
        context["handbook"] = self.get_parent().specific
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context["is_read"] = chapter_is_read(user=user, chapter=self)
        changes = chapter_changes(chapter=self, user=user, handbook=context["handbook"]) if self.live else None
        context["edition_changes"] = changes if changes is not None and changes.any else None
        return context


class ChapterRead(models.Model):
    """A signed-in reader has read a chapter: reached its end or pressed "mark as read". One row per reader and
    chapter (a database constraint), kept when the chapter is edited; never shown to anyone but the reader."""

    class Method(models.TextChoices):
        REACHED_END = "end", _("Reached the end")
        BUTTON = "button", _("Marked as read")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chapters_read",
                             verbose_name=_("reader"))
    chapter = models.ForeignKey(ChapterPage, on_delete=models.CASCADE, related_name="reads",
                                verbose_name=_("chapter"))
    method = models.CharField(_("how"), max_length=10, choices=Method.choices, default=Method.BUTTON)
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)

    class Meta:
        verbose_name = _("chapter read")
        verbose_name_plural = _("chapters read")
        constraints = [models.UniqueConstraint(fields=["user", "chapter"], name="handbook_chapterread_once")]

    def __str__(self):
        return f"{self.user} · {self.chapter}"


class HandbookEdition(models.Model):
    """An edition of the manual: started when the manual is published with a new edition label; holds the live
    revision of every chapter while it is the current edition, then stays as it was (readable at
    /handbook/editions/<slug>/) when the next one starts. Its PDF is the whole manual of that edition."""

    handbook = models.ForeignKey(HandbookPage, on_delete=models.CASCADE, related_name="editions",
                                 verbose_name=_("work manual"))
    label = models.CharField(_("edition"), max_length=60, blank=True)
    slug = models.SlugField(_("address"), max_length=80, allow_unicode=True)
    published_date = models.DateField(_("date of this edition"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    pdf = models.FileField(_("PDF"), upload_to="handbook/pdf/", blank=True)
    pdf_fingerprint = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("edition")
        verbose_name_plural = _("editions")
        ordering = ["started_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["handbook", "slug"], name="handbook_edition_slug_once")]

    def __str__(self):
        return self.label or self.slug

    def url(self) -> str:
        return f"{self.handbook.url}editions/{self.slug}/"


class EditionChapter(models.Model):
    """A chapter as it was published in an edition (a copy of its live revision's content)."""

    edition = models.ForeignKey(HandbookEdition, on_delete=models.CASCADE, related_name="chapters")
    chapter = models.ForeignKey(ChapterPage, on_delete=models.SET_NULL, null=True, related_name="edition_copies")
    revision = models.ForeignKey("wagtailcore.Revision", on_delete=models.SET_NULL, null=True, related_name="+")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, allow_unicode=True)
    content = models.JSONField()

    class Meta:
        ordering = ["number", "pk"]
        constraints = [models.UniqueConstraint(fields=["edition", "slug"], name="handbook_editionchapter_slug_once")]

    def as_page(self) -> ChapterPage:
        """The chapter as it was in this edition (an unsaved page built from the copied content)."""
        page = ChapterPage.from_serializable_data(self.content, check_fks=False, strict_fks=False)
        page.number, page.title, page.slug = self.number, self.title, self.slug
        return page
