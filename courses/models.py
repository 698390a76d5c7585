"""Models of the courses app: the catalogue, courses and lessons (Wagtail pages), and the learning records.

Page tree: HomePage → CourseIndexPage (/courses/) → CoursePage (/courses/<course>/) → LessonPage
(/courses/<course>/<lesson>/). Lessons are direct children of their course, ordered as in the page tree, and are
grouped into modules by their `module` label: a module is a heading, not a page, so lesson URLs never change when
an editor regroups them.

Learning records are facts: Enrolment, LessonProgress (opened, confirmed, watched percentage), QuizAttempt,
LiveAttendanceFact (minutes reported by the live app) and chapters read in the handbook. Whether a lesson or a course
is complete is decided by courses.completion alone; Completion is the one row that says a course is done.
"""
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.contrib.routable_page.models import path as route
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from academy.search import CJKSearchMixin, cjk_search_fields
from courses.blocks import QuestionBlock

RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul", "blockquote", "hr", "image", "embed"]
LIVE_SESSION_PAGE_TYPE = "live.LiveSessionPage"


class LiveSessionChooserPanel(PageChooserPanel):
    """A page chooser limited to live session pages when the live app provides them, any page otherwise."""

    def get_form_options(self):
        from django.apps import apps

        try:
            apps.get_model(LIVE_SESSION_PAGE_TYPE)
        except LookupError:
            self.page_type = None
        return super().get_form_options()


# --- Pages ------------------------------------------------------------------------------------------------------


class CourseIndexPage(RoutablePageMixin, Page):
    """The course catalogue at /courses/; also serves "My learning" at /courses/my/ (see courses.views)."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["academy.HomePage"]
    subpage_types = ["courses.CoursePage"]
    max_count = 1

    class Meta:
        verbose_name = _("course catalogue")

    def get_context(self, request, *args, **kwargs):
        from courses import views

        context = super().get_context(request, *args, **kwargs)
        context.update(views.catalogue_context(request, self))
        return context

    @route("")
    def serve_catalogue(self, request):
        return self.render(request)

    @route("my/", name="my_learning")
    def serve_my_learning(self, request):
        from courses import views

        return views.my_learning(request, self)


class CoursePage(RoutablePageMixin, CJKSearchMixin, Page):
    class CompletionRule(models.TextChoices):
        ALL_REQUIRED = "all_required", _("Every required lesson is complete")
        THRESHOLD = "threshold", _("A share of the required lessons is complete and every required quiz is passed")

    summary = models.TextField(pgettext_lazy("course", "summary"), max_length=1000)
    audience = models.TextField(pgettext_lazy("course", "audience"), max_length=500, blank=True)
    hours_credited = models.DecimalField(
        _("hours credited"), max_digits=5, decimal_places=1, default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0"))], help_text=_("Training hours printed on the certificate."),
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("cover image"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    learning_outcomes = models.TextField(
        _("learning outcomes"), blank=True, help_text=_("One outcome per line.")
    )
    certificate_enabled = models.BooleanField(
        _("certificate"), default=True, help_text=_("Learners who complete the course receive a certificate.")
    )
    completion_rule = models.CharField(
        _("completion rule"), max_length=20, choices=CompletionRule.choices, default=CompletionRule.ALL_REQUIRED
    )
    completion_threshold = models.PositiveSmallIntegerField(
        _("share of required lessons (%)"), default=100, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Used by the threshold rule only."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("audience"),
        FieldPanel("cover_image"),
        FieldPanel("learning_outcomes"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("hours_credited"), FieldPanel("certificate_enabled")]),
                FieldRowPanel([FieldPanel("completion_rule"), FieldPanel("completion_threshold")]),
            ],
            heading=_("Completion and certificate"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"), index.SearchField("audience"),
    ] + cjk_search_fields()
    parent_page_types = ["courses.CourseIndexPage"]

    def get_search_text(self) -> str:
        return "\n".join([self.summary or "", self.audience or "", self.learning_outcomes or ""])
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("course")

    @property
    def outcomes_list(self) -> list[str]:
        return [line.strip() for line in self.learning_outcomes.splitlines() if line.strip()]

    def lessons(self):
        """The course's live lessons in page-tree order."""
        return LessonPage.objects.child_of(self).live().order_by("path")

    def get_context(self, request, *args, **kwargs):
        from courses import views

        context = super().get_context(request, *args, **kwargs)
        context.update(views.course_context(request, self))
        return context

    @route("")
    def serve_detail(self, request):
        return self.render(request)

    @route("enrol/", name="enrol")
    def serve_enrol(self, request):
        from courses import views

        return views.course_enrol(request, self)


class LessonPageForm(WagtailAdminPageForm):
    """Prerequisites are chosen among the other lessons of the same course; the text editor has a Chinese
    placeholder (Draftail's own comes from a JavaScript catalogue we cannot extend)."""

    BODY_PLACEHOLDER = _("Write the lesson text here; type “/” to insert a heading, list or image.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        body = self.fields.get("body")
        if body is not None and hasattr(body.widget, "options"):
            body.widget.options = {**body.widget.options, "placeholder": self.BODY_PLACEHOLDER}
        field = self.fields.get("prerequisites")
        if field is None:
            return
        course = self.parent_page if self.instance.pk is None else self.instance.get_parent()
        queryset = LessonPage.objects.child_of(course).order_by("path") if course is not None else LessonPage.objects.none()
        if self.instance.pk:
            queryset = queryset.exclude(pk=self.instance.pk)
        field.queryset = queryset


class LessonPage(RoutablePageMixin, CJKSearchMixin, Page):
    class Kind(models.TextChoices):
        READING = "reading", _("Reading")
        VIDEO = "video", _("Video")
        QUIZ = "quiz", _("Quiz")
        LIVE = "live", _("Live session attendance")

    class AnswerReveal(models.TextChoices):
        WHEN_SETTLED = "when_settled", _("Once the quiz is passed or no attempts are left")
        ALWAYS = "always", _("After every attempt")
        NEVER = "never", pgettext_lazy("answer key", "Never")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.READING)
    module = models.CharField(
        _("module"), max_length=120, blank=True,
        help_text=_("Lessons that follow each other with the same module title are shown as one module."),
    )
    estimated_minutes = models.PositiveSmallIntegerField(_("estimated minutes"), default=10)
    required = models.BooleanField(
        _("required"), default=True, help_text=_("Required lessons count toward completing the course.")
    )
    body = RichTextField(_("body"), blank=True, features=RICH_TEXT_FEATURES)
    prerequisites = ParentalManyToManyField(
        "self", verbose_name=_("prerequisites"), blank=True, symmetrical=False, related_name="unlocks",
        help_text=_("Lessons of the same course that must be complete before this one opens."),
    )
    # Video
    video = models.ForeignKey(
        "wagtaildocs.Document", verbose_name=_("video file"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("An uploaded MP4 or WebM file: the player reports how much was watched."),
    )
    embed_url = models.URLField(
        _("embed URL"), blank=True,
        help_text=_("A video on another site. It cannot report what was watched: the learner confirms instead."),
    )
    required_percent = models.PositiveSmallIntegerField(
        _("required percentage watched"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # Quiz
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    max_attempts = models.PositiveSmallIntegerField(_("attempt limit"), default=3, help_text=_("0 means no limit."))
    shuffle = models.BooleanField(_("shuffle questions and choices"), default=False)
    answer_reveal = models.CharField(
        _("answer key shown"), max_length=12, choices=AnswerReveal.choices, default=AnswerReveal.WHEN_SETTLED,
        help_text=_("After each attempt the learner always sees which questions they got wrong, and the explanations."),
    )
    questions = StreamField([("question", QuestionBlock())], verbose_name=_("questions"), blank=True)
    # Live session attendance
    live_session = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("live session"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes_required = models.PositiveSmallIntegerField(_("minutes required"), default=30)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("kind"), FieldPanel("module")]),
        FieldRowPanel([FieldPanel("estimated_minutes"), FieldPanel("required")]),
        FieldPanel("body"),
        FieldPanel("prerequisites", widget=forms.CheckboxSelectMultiple),
        # Each kind's section carries "lesson-kind-<kind>": courses/static/courses/admin/lesson_form.js shows only the
        # chosen kind's section (all stay visible without the script).
        MultiFieldPanel(
            [InlinePanel("chapter_links", label=_("Handbook chapter"))],
            heading=_("Reading: handbook chapters to read"), classname="lesson-kind lesson-kind-reading",
        ),
        MultiFieldPanel(
            [FieldPanel("video"), FieldPanel("embed_url"), FieldPanel("required_percent")],
            heading=_("Video"), classname="lesson-kind lesson-kind-video",
        ),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("max_attempts"), FieldPanel("shuffle")]),
             FieldPanel("answer_reveal"), FieldPanel("questions")],
            heading=_("Quiz"), classname="lesson-kind lesson-kind-quiz",
        ),
        MultiFieldPanel(
            [LiveSessionChooserPanel("live_session", LIVE_SESSION_PAGE_TYPE), FieldPanel("minutes_required")],
            heading=_("Live session attendance"), classname="lesson-kind lesson-kind-live",
        ),
    ]
    # The quiz questions (and their answer key) are never indexed: only the lesson's body is searchable.
    search_fields = Page.search_fields + [index.SearchField("body")] + cjk_search_fields()

    def get_search_text(self) -> str:
        return strip_tags(self.body or "")
    base_form_class = LessonPageForm
    parent_page_types = ["courses.CoursePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("lesson")

    def clean(self):
        super().clean()
        if self.kind == self.Kind.VIDEO and not (self.video_id or self.embed_url):
            raise ValidationError({"video": _("A video lesson needs an uploaded video file or an embed URL.")})
        if self.kind == self.Kind.QUIZ and not len(self.questions):
            raise ValidationError({"questions": _("A quiz needs at least one question.")})

    @property
    def course(self) -> "CoursePage":
        return CoursePage.objects.ancestor_of(self).specific().last() if self.pk else None

    @property
    def video_is_tracked(self) -> bool:
        return self.kind == self.Kind.VIDEO and self.video_id is not None

    def get_context(self, request, *args, **kwargs):
        from courses import views

        context = super().get_context(request, *args, **kwargs)
        context.update(views.lesson_context(request, self))
        return context

    @route("")
    def serve_detail(self, request):
        from courses import views

        return views.lesson_detail(request, self)

    @route("complete/", name="complete")
    def serve_complete(self, request):
        from courses import views

        return views.lesson_confirm(request, self)

    @route("progress/", name="progress")
    def serve_progress(self, request):
        from courses import views

        return views.video_progress(request, self)

    @route("quiz/start/", name="quiz_start")
    def serve_quiz_start(self, request):
        from courses import views

        return views.quiz_start(request, self)

    @route("quiz/submit/", name="quiz_submit")
    def serve_quiz_submit(self, request):
        from courses import views

        return views.quiz_submit(request, self)

    @route("attempts/<int:number>/", name="attempt")
    def serve_attempt(self, request, number):
        from courses import views

        return views.quiz_attempt_result(request, self, number)


class LessonChapter(Orderable):
    """A handbook chapter that a reading lesson asks the learner to read (read in the handbook, counted here)."""

    lesson = ParentalKey(LessonPage, on_delete=models.CASCADE, related_name="chapter_links")
    chapter = models.ForeignKey(
        "handbook.ChapterPage", verbose_name=_("chapter"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [PageChooserPanel("chapter", "handbook.ChapterPage")]

    class Meta(Orderable.Meta):
        verbose_name = _("handbook chapter")
        constraints = [models.UniqueConstraint(fields=["lesson", "chapter"], name="courses_lessonchapter_unique")]


# --- Learning records -------------------------------------------------------------------------------------------


class Enrolment(models.Model):
    class Source(models.TextChoices):
        SELF = "self", _("Self-enrolled")
        COHORT = "cohort", _("Cohort import")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("learner"), on_delete=models.CASCADE, related_name="enrolments"
    )
    course = models.ForeignKey(CoursePage, verbose_name=_("course"), on_delete=models.CASCADE, related_name="enrolments")
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.SELF)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("enrolled by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="courses_enrolment_user_course_unique")]
        indexes = [models.Index(fields=["course", "enrolled_at"])]

    def __str__(self):
        return f"{self.user} · {self.course}"


class Completion(models.Model):
    """A course completed by an enrolment: the OneToOne key makes it exist at most once."""

    enrolment = models.OneToOneField(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="completion"
    )
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)

    class Meta:
        verbose_name = _("course completion")
        verbose_name_plural = _("course completions")

    def __str__(self):
        return f"{self.enrolment} ✓"


class LessonProgress(models.Model):
    """What a learner did in one lesson. `completed_at` is written by courses.completion only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="progress")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="The learner marked the text read (or an embedded video watched)."
    )
    watched_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    # Server-checked video progress (courses.services.video_progress_record): the seconds of media credited, the
    # last heartbeat, and the start of the current viewing with what was credited before it.
    watched_seconds = models.FloatField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    viewing_started_at = models.DateTimeField(null=True, blank=True)
    viewing_base_seconds = models.FloatField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="courses_lessonprogress_user_lesson_unique"),
            models.CheckConstraint(condition=Q(watched_percent__lte=100), name="courses_lessonprogress_percent_lte_100"),
            models.CheckConstraint(
                condition=Q(watched_seconds__gte=0) & Q(viewing_base_seconds__gte=0),
                name="courses_lessonprogress_watched_seconds_not_negative",
            ),
        ]


class QuizAttempt(models.Model):
    """One attempt at a quiz: the layout it was shown in, the answers given, the score. Every attempt is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="quiz_attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # [{"id": <question block id>, "choices": [original choice indexes in the order shown]}, …]
    layout = models.JSONField(default=list)
    # {<question block id>: [chosen original choice indexes]}
    answers = models.JSONField(default=dict, blank=True)
    correct_count = models.PositiveSmallIntegerField(default=0)
    question_count = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Percent, 0–100.")
    passed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["lesson", "user", "number"]
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson", "number"], name="courses_quizattempt_number_unique"),
            models.UniqueConstraint(
                fields=["user", "lesson"], condition=Q(submitted_at__isnull=True), name="courses_quizattempt_one_open"
            ),
        ]

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class LiveAttendanceFact(models.Model):
    """Minutes a user attended a live session, as reported by the live app (the largest figure is kept)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("live attendance")
        verbose_name_plural = _("live attendance")
        constraints = [
            models.UniqueConstraint(fields=["user", "session_page"], name="courses_liveattendance_user_session_unique")
        ]
