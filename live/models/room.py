"""The live room's durable state: questions and votes, polls and answers, announcements, live windows, attendance.

The database is the truth; the room's events (live/events.py) only tell connected clients what changed. Every rule
that must never break is a constraint here: one vote per user and question, one answer per user and poll, one
choice row per answer and choice, one span per connection.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .pages import AgendaTopic, LiveSessionPage

__all__ = [
    "Announcement", "AttendanceSpan", "LiveWindow", "Poll", "PollAnswer", "PollAnswerChoice", "PollChoice",
    "Question", "RoomState", "Vote",
]

QUESTION_MAX_LENGTH = 300
REPLY_MAX_LENGTH = 500
ANNOUNCEMENT_MAX_LENGTH = 300
POLL_QUESTION_MAX_LENGTH = 200
POLL_CHOICE_MAX_LENGTH = 100


class RoomState(models.Model):
    """What the hosts set for a session's room: its status (when they chose one) and the current agenda topic."""

    class Status(models.TextChoices):
        # A context keeps "Live" apart from Wagtail's "Live" (published), which our catalogue would otherwise override.
        SCHEDULED = "scheduled", pgettext_lazy("room status", "Scheduled")
        LIVE = "live", pgettext_lazy("room status", "Live")
        ENDED = "ended", pgettext_lazy("room status", "Ended")

    session = models.OneToOneField(LiveSessionPage, on_delete=models.CASCADE, primary_key=True,
                                   related_name="room_state", verbose_name=_("session"))
    # Empty until a host starts or ends the session: until then the page's schedule decides.
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, blank=True)
    current_topic = models.ForeignKey(AgendaTopic, verbose_name=_("current topic"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("room state")
        verbose_name_plural = _("room states")


class LiveWindow(models.Model):
    """A stretch of time a host had the session live; attendance counts only inside live windows."""

    session = models.ForeignKey(LiveSessionPage, on_delete=models.CASCADE, related_name="live_windows",
                                verbose_name=_("session"))
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("live window")
        verbose_name_plural = _("live windows")
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(ended_at__isnull=True),
                                    name="live_window_one_open_per_session"),
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                                   name="live_window_ends_after_start"),
        ]


class Question(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        ANSWERED = "answered", _("Answered")
        DISMISSED = "dismissed", _("Dismissed")

    session = models.ForeignKey(LiveSessionPage, on_delete=models.CASCADE, related_name="questions",
                                verbose_name=_("session"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_questions",
                               verbose_name=_("author"))
    text = models.TextField(_("question"), max_length=QUESTION_MAX_LENGTH)
    anonymous = models.BooleanField(_("anonymous to other participants"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    highlighted = models.BooleanField(_("now answering"), default=False)
    pinned = models.BooleanField(_("pinned"), default=False)
    topic = models.ForeignKey(AgendaTopic, verbose_name=_("agenda topic"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="questions")
    reply = models.TextField(_("reply"), max_length=REPLY_MAX_LENGTH, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("replied by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Kept exact by the vote batches: recomputed from the vote rows in the transaction that changes them.
    vote_count = models.PositiveIntegerField(_("votes"), default=0)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["session", "status"], name="live_question_session_status")]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(highlighted=True),
                                    name="live_question_one_highlighted_per_session"),
        ]

    def __str__(self) -> str:
        return self.text[:50]

    @property
    def is_public(self) -> bool:
        """Participants see approved and answered questions."""
        return self.status in (self.Status.APPROVED, self.Status.ANSWERED)


class Vote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="votes", verbose_name=_("question"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_votes",
                             verbose_name=_("user"))
    created_at = models.DateTimeField(_("voted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="live_vote_one_per_user")]
        indexes = [models.Index(fields=["user", "question"], name="live_vote_user")]


class Poll(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("poll status", "Open")
        CLOSED = "closed", pgettext_lazy("poll status", "Closed")

    session = models.ForeignKey(LiveSessionPage, on_delete=models.CASCADE, related_name="polls",
                                verbose_name=_("session"))
    question = models.CharField(_("question"), max_length=POLL_QUESTION_MAX_LENGTH)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Kept exact by the answer batches, like Question.vote_count.
    respondents = models.PositiveIntegerField(_("respondents"), default=0)

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(status="open"), name="live_poll_one_open"),
        ]

    def __str__(self) -> str:
        return self.question


class PollChoice(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="choices", verbose_name=_("poll"))
    text = models.CharField(_("choice"), max_length=POLL_CHOICE_MAX_LENGTH)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    votes = models.PositiveIntegerField(_("votes"), default=0)

    class Meta:
        verbose_name = _("poll choice")
        verbose_name_plural = _("poll choices")
        ordering = ["position", "pk"]


class PollAnswer(models.Model):
    """One user's answer to a poll: one row (unique), with one PollAnswerChoice per chosen option.

    Two tables rather than one row per choice, because "answers once" must be a constraint: the answer row carries
    it (unique poll + user), the choice rows carry the tallies (one per answer and choice).
    """

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="answers", verbose_name=_("poll"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_poll_answers",
                             verbose_name=_("user"))
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("poll answer")
        verbose_name_plural = _("poll answers")
        constraints = [models.UniqueConstraint(fields=["poll", "user"], name="live_poll_answer_once")]


class PollAnswerChoice(models.Model):
    answer = models.ForeignKey(PollAnswer, on_delete=models.CASCADE, related_name="chosen")
    choice = models.ForeignKey(PollChoice, on_delete=models.CASCADE, related_name="answer_rows")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["answer", "choice"], name="live_poll_answer_choice_once")]


class Announcement(models.Model):
    session = models.ForeignKey(LiveSessionPage, on_delete=models.CASCADE, related_name="announcements",
                                verbose_name=_("session"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                               verbose_name=_("author"))
    text = models.TextField(_("announcement"), max_length=ANNOUNCEMENT_MAX_LENGTH)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at", "-pk"]


class AttendanceSpan(models.Model):
    """One connection's presence in a room: from joining to leaving (or to its process's last heartbeat)."""

    session = models.ForeignKey(LiveSessionPage, on_delete=models.CASCADE, related_name="attendance_spans",
                                verbose_name=_("session"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_attendance",
                             verbose_name=_("user"))
    connection = models.CharField(_("connection"), max_length=32, unique=True)
    process = models.CharField(_("server process"), max_length=32, db_index=True)
    joined_at = models.DateTimeField(_("joined at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("last heartbeat"))

    class Meta:
        verbose_name = _("attendance span")
        verbose_name_plural = _("attendance spans")
        indexes = [models.Index(fields=["session", "user"], name="live_span_session_user")]
