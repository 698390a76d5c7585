"""Models of volunteer intake: campaigns (Wagtail pages), categories (a snippet), applications and their review.

Page tree: HomePage → VolunteersIndexPage (/volunteers/) → CampaignPage (/volunteers/<slug>/). The other URLs
(apply, my applications, review, roster, dashboard) are Django views in volunteers.urls, included before Wagtail's
catch-all.

An application is a small state machine (draft → submitted → approved | rejected | needs_info → submitted …,
withdrawn at any time) changed only by volunteers.services; a Claim row with an expiry says which reviewer is deciding
it; every transition leaves an AuditEntry. One application per person and campaign is a database constraint.
No national ID numbers are stored.
"""
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from academy.search import CJKSearchMixin, cjk_search_fields

RESERVED_SLUGS = {"my", "review", "proofs"}


# --- Categories (snippet) ---------------------------------------------------------------------------------------


@register_snippet
class VolunteerCategory(models.Model):
    """A kind of volunteer work (医疗, 心理, 社工, 防控, 消杀, 物资配送 …), reused by every campaign."""

    name = models.CharField(_("category name"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    panels = [FieldPanel("name"), FieldPanel("description")]

    class Meta:
        verbose_name = _("volunteer category")
        verbose_name_plural = _("volunteer categories")
        ordering = ["name"]

    def __str__(self):
        return self.name


# --- Pages ------------------------------------------------------------------------------------------------------


class VolunteersIndexPage(Page):
    """/volunteers/: the open campaigns."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["academy.HomePage"]
    subpage_types = ["volunteers.CampaignPage"]
    max_count = 1

    class Meta:
        verbose_name = _("volunteer campaigns")

    def get_context(self, request, *args, **kwargs):
        from volunteers import selectors

        context = super().get_context(request, *args, **kwargs)
        context["campaigns"] = selectors.campaign_list_open()
        return context


class QuestionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("question"), max_length=200)
    kind = blocks.ChoiceBlock(
        label=_("kind"), default="text",
        choices=[("text", _("Short text")), ("single", _("Single choice")), ("multiple", _("Multiple choice")),
                 ("scale", _("Scale of 1 to 5"))],
    )
    choices = blocks.ListBlock(blocks.CharBlock(max_length=100), label=_("choices"), required=False,
                               help_text=_("For single and multiple choice questions."))
    required = blocks.BooleanBlock(label=_("answer required"), required=False, default=True)

    class Meta:
        icon = "help"
        label = _("Screening question")


class CampaignPage(CJKSearchMixin, Page):
    """A call for volunteers at /volunteers/<slug>/: why, where, when, which categories, and what we ask."""

    purpose = RichTextField(_("purpose"), features=["bold", "italic", "link", "ol", "ul"])
    area = models.CharField(_("area"), max_length=80, help_text=_("City and district, e.g. 武汉市江汉区."))
    community = models.CharField(_("community"), max_length=80, blank=True)
    starts_on = models.DateField(_("service starts"))
    ends_on = models.DateField(_("service ends"))
    applications_close_at = models.DateTimeField(_("applications close"), null=True, blank=True)
    closed = models.BooleanField(_("closed"), default=False, help_text=_("Closed campaigns take no applications."))
    questions = StreamField([("question", QuestionBlock())], verbose_name=_("screening questions"), blank=True)
    privacy_notice = models.TextField(
        _("privacy notice"),
        help_text=_("What is collected, why, who sees it and how long it is kept. Applicants consent to it."),
    )
    retention_days = models.PositiveSmallIntegerField(
        _("retention (days after the campaign ends)"), default=180,
    )

    content_panels = Page.content_panels + [
        FieldPanel("purpose"),
        FieldRowPanel([FieldPanel("area"), FieldPanel("community")]),
        MultiFieldPanel([
            FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
            FieldRowPanel([FieldPanel("applications_close_at"), FieldPanel("closed")]),
        ], heading=_("Dates")),
        InlinePanel("needs", label=_("Categories needed"), min_num=1),
        FieldPanel("questions"),
        MultiFieldPanel([FieldPanel("privacy_notice"), FieldPanel("retention_days")], heading=_("Privacy and retention")),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("purpose"), index.SearchField("area"), index.SearchField("community"),
    ] + cjk_search_fields()
    parent_page_types = ["volunteers.VolunteersIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("volunteer campaign")

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": _("This address is used by the site; choose another.")})
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The service cannot end before it starts.")})

    def get_search_text(self) -> str:
        from django.utils.html import strip_tags

        needs = " ".join(str(need.category) for need in self.needs.all()) if self.pk else ""
        return " ".join([strip_tags(self.purpose or ""), self.area or "", self.community or "", needs])

    @property
    def is_open(self) -> bool:
        if self.closed or not self.live:
            return False
        return self.applications_close_at is None or self.applications_close_at > timezone.now()

    def question_list(self) -> list[dict]:
        """The screening questions as dicts with a stable `id` (the block's id)."""
        return [
            {"id": block.id, "text": block.value["text"], "kind": block.value["kind"],
             "choices": list(block.value["choices"]), "required": bool(block.value["required"])}
            for block in self.questions
        ]

    def get_context(self, request, *args, **kwargs):
        from volunteers import selectors

        context = super().get_context(request, *args, **kwargs)
        context["needs"] = selectors.campaign_needs(campaign=self)
        if request.user.is_authenticated:
            context["my_application"] = selectors.application_of(user=request.user, campaign=self)
        return context


class CampaignNeed(Orderable, ClusterableModel):
    """A category a campaign needs: how many people, and the training they must complete."""

    campaign = ParentalKey(CampaignPage, on_delete=models.CASCADE, related_name="needs")
    category = models.ForeignKey(VolunteerCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="needs")
    headcount = models.PositiveIntegerField(_("headcount"), default=10, validators=[MinValueValidator(1)])
    courses = ParentalManyToManyField("courses.CoursePage", verbose_name=_("required training"), blank=True)

    panels = [FieldRowPanel([FieldPanel("category"), FieldPanel("headcount")]), FieldPanel("courses")]

    class Meta(Orderable.Meta):
        verbose_name = _("category needed")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "category"], name="volunteers_need_one_per_category"),
        ]

    def __str__(self):
        return f"{self.category} × {self.headcount}"


# --- Applications -----------------------------------------------------------------------------------------------


class Qualification(models.TextChoices):
    DOCTOR = "doctor", _("Licensed physician")
    NURSE = "nurse", _("Registered nurse")
    PUBLIC_HEALTH = "public_health", _("Public health professional")
    COUNSELLOR = "counsellor", _("Psychological counsellor")
    SOCIAL_WORKER = "social_worker", _("Social worker certificate")
    TEACHER = "teacher", _("Teacher")
    DRIVER = "driver", _("Driving licence")
    FIRST_AID = "first_aid", _("First-aid certificate")


class Weekday(models.TextChoices):
    MON = "mon", _("Monday")
    TUE = "tue", _("Tuesday")
    WED = "wed", _("Wednesday")
    THU = "thu", _("Thursday")
    FRI = "fri", _("Friday")
    SAT = "sat", _("Saturday")
    SUN = "sun", _("Sunday")


class DayPart(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class Mode(models.TextChoices):
    ONSITE = "onsite", _("On site")
    ONLINE = "online", _("Online")
    EITHER = "either", _("On site or online")


class Team(models.Model):
    """Approved volunteers of one campaign grouped per community, with a lead (a 居民骨干 may lead)."""

    campaign = models.ForeignKey(CampaignPage, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="teams")
    name = models.CharField(_("team name"), max_length=60)
    community = models.CharField(_("community"), max_length=80)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("team lead"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="led_volunteer_teams")

    class Meta:
        verbose_name = _("volunteer team")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="volunteers_team_name_unique")]

    def __str__(self):
        return self.name


class Application(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        NEEDS_INFO = "needs_info", _("More information needed")
        APPROVED = "approved", _("Accepted")
        REJECTED = "rejected", _("Not accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    campaign = models.ForeignKey(CampaignPage, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="applications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.CASCADE,
                             related_name="volunteer_applications")
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)

    full_name = models.CharField(_("full name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164"))
    email = models.EmailField(_("e-mail"), blank=True)
    district = models.CharField(_("district"), max_length=40, blank=True)
    community = models.CharField(_("community"), max_length=80, blank=True)
    categories = models.ManyToManyField(CampaignNeed, verbose_name=_("categories"), blank=True,
                                        related_name="applications")
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    qualification_note = models.TextField(_("other qualifications and experience"), max_length=1000, blank=True)
    days = models.JSONField(_("days available"), default=list, blank=True)
    day_parts = models.JSONField(_("times available"), default=list, blank=True)
    mode = models.CharField(_("on site or online"), max_length=10, choices=Mode.choices, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    consented_at = models.DateTimeField(_("consented to the privacy notice"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    approved_need = models.ForeignKey(CampaignNeed, verbose_name=_("approved for"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="approved_applications")
    message = models.TextField(_("message to the applicant"), max_length=1000, blank=True,
                               help_text=_("The reason for a rejection or what information is missing."))
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="members")

    class Meta:
        verbose_name = _("volunteer application")
        verbose_name_plural = _("volunteer applications")
        ordering = ["-submitted_at", "-id"]
        permissions = [
            ("manage_volunteers", _("Can see rosters and dashboards, form teams and purge applications")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="volunteers_one_application_per_campaign"),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted", "needs_info", "approved", "rejected", "withdrawn"]),
                name="volunteers_application_state_valid",
            ),
            # Nothing leaves the draft state without consent to the privacy notice.
            models.CheckConstraint(
                condition=Q(state__in=["draft", "withdrawn"]) | Q(consented_at__isnull=False),
                name="volunteers_application_consented",
            ),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_need__isnull=False),
                name="volunteers_approved_has_category",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["full_name", "community"]),
        ]

    def __str__(self):
        return f"{self.full_name or self.user} · {self.campaign}"

    def qualification_labels(self) -> list[str]:
        return [str(Qualification(q).label) for q in self.qualifications if q in Qualification.values]

    def availability_labels(self) -> list[str]:
        return ([str(Weekday(d).label) for d in self.days if d in Weekday.values]
                + [str(DayPart(p).label) for p in self.day_parts if p in DayPart.values])

    @property
    def is_editable(self) -> bool:
        return self.state in (self.State.DRAFT, self.State.NEEDS_INFO)

    @property
    def is_decidable(self) -> bool:
        return self.state == self.State.SUBMITTED


class Claim(models.Model):
    """A reviewer is deciding this application until `expires_at`; one claim per application (OneToOne)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="claim")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("review claim")

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class AuditEntry(models.Model):
    """Who did what to an application, and when (reviewers see the trail; it goes with the application)."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        CLAIMED = "claimed", _("Claimed for review")
        RELEASED = "released", _("Claim released")
        APPROVED = "approved", _("Accepted")
        REJECTED = "rejected", _("Turned down")
        NEEDS_INFO = "needs_info", _("Asked for more information")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        TEAM = "team", _("Assigned to a team")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("audit entry")


class ReviewerNote(models.Model):
    """A note only reviewers see."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=2000)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT (read when used, so tests and deployments can move it); no public URL."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        import os

        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


_PRIVATE_STORAGE = PrivateStorage()


def private_storage():
    return _PRIVATE_STORAGE


def proof_path(instance, filename):
    return f"volunteer-proofs/{instance.application.campaign_id}/{uuid.uuid4().hex}{instance.extension}"


class ProofFile(models.Model):
    """A proof of qualification: kept outside MEDIA_ROOT, opened only by reviewers through a checked view."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="proofs")
    file = models.FileField(upload_to=proof_path, storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, ".bin")


@receiver(post_delete, sender=ProofFile)
def _delete_proof_file(sender, instance, **kwargs):
    """The file goes with its row (an application deleted or purged takes its proofs with it)."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
