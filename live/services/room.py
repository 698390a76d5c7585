"""The live room's writes: asking, moderating, polls, announcements, bans, session status. (The batched writes —
votes, poll answers, attendance spans — are live/services/room_batch.py.)

Every function validates, writes inside a transaction, and queues its room events with live.events.emit (published
after the commit). Permissions are decided by live.selectors.access, never by the caller. Failures raise RoomError
with a protocol error code (docs/live-protocol.md) and one of the messages below.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from academy import ratelimit
from academy.text import text_clean
from live import events, payloads
from live.models import AgendaTopic, Announcement, LiveSessionPage, LiveWindow, Poll, PollChoice, Question, RoomState
from live.models.room import (
    ANNOUNCEMENT_MAX_LENGTH, POLL_CHOICE_MAX_LENGTH, POLL_QUESTION_MAX_LENGTH, QUESTION_MAX_LENGTH, REPLY_MAX_LENGTH,
)
from live.selectors.access import session_can_moderate
from live.selectors.room import room_status

ERROR_FORBIDDEN = _("Only the session's moderators and hosts may do this.")
ERROR_QUESTION_NOT_FOUND = _("This question does not exist in this session.")
ERROR_POLL_NOT_FOUND = _("This poll does not exist in this session.")
ERROR_TOPIC_NOT_FOUND = _("This agenda topic does not exist in this session.")
ERROR_USER_NOT_FOUND = _("This user does not exist.")
ERROR_TEXT_EMPTY = _("Please write something first.")
ERROR_TEXT_TOO_LONG = _("At most %(limit)d characters, please.")
ERROR_SESSION_ENDED = _("The session has ended: questions are closed.")
ERROR_QUESTION_DISMISSED = _("This question was dismissed.")
ERROR_POLL_CLOSED = _("This poll is closed.")
ERROR_POLL_CHOICES = _("Choose one of the poll's options.")
ERROR_POLL_ONE_CHOICE = _("This poll takes exactly one choice.")
ERROR_POLL_NEEDS_CHOICES = _("A poll needs between 2 and 10 options.")
ERROR_ASK_RATE = _("You are asking too fast: at most 3 questions a minute.")
ERROR_ANNOUNCE_RATE = _("Too many announcements: wait a minute.")
ERROR_CANNOT_BAN = _("Moderators and hosts cannot be banned.")
ERROR_STATUS = _("The status must be “live” or “ended”.")
ERROR_STATUS_FILTER = _("Unknown question status.")
ERROR_SERVER = _("Something went wrong on the server; nothing was recorded. Please try again.")

ASK_LIMIT, ASK_WINDOW = 3, 60
ANNOUNCE_LIMIT, ANNOUNCE_WINDOW = 10, 60


class RoomError(Exception):
    def __init__(self, code: str, message, *, field: str | None = None):
        super().__init__(str(message))
        self.code, self.message, self.field = code, message, field


def _require_moderator(session: LiveSessionPage, user) -> None:
    if not session_can_moderate(session=session, user=user):
        raise RoomError("forbidden", ERROR_FORBIDDEN)


def clean_text(value, *, limit: int, field_name: str = "text", multiline: bool = True) -> str:
    """academy.text's one rule for typed text (no control, bidirectional or invisible-only text), then the limit."""
    if not isinstance(value, str):
        raise RoomError("invalid", ERROR_TEXT_EMPTY, field=field_name)
    try:
        value = text_clean(value, multiline=multiline)
    except ValidationError:
        raise RoomError("invalid", ERROR_TEXT_EMPTY, field=field_name) from None
    if len(value) > limit:
        raise RoomError("invalid", ERROR_TEXT_TOO_LONG % {"limit": limit}, field=field_name)
    return value


# --- events about questions -----------------------------------------------------------------------------------
def _emit_question(q: Question, name: str, *, was_public: bool, extra: dict | None = None) -> None:
    """Moderators get the whole question; participants what they may see of it (docs/live-protocol.md)."""
    extra = extra or {}
    data = {"question": payloads.question(q, moderator=True), **extra}
    if q.is_public:
        public = events.SAME if not q.anonymous else {"question": payloads.question(q, moderator=False), **extra}
    elif q.status == Question.Status.DISMISSED and was_public:
        public = {"question": {"id": q.pk, "status": q.status}}
    else:
        public = events.HIDDEN
    events.emit(session_id=q.session_id, name=name, data=data, public=public)


def question_ask(*, session: LiveSessionPage, author, text: str, anonymous: bool = False) -> Question:
    text = clean_text(text, limit=QUESTION_MAX_LENGTH)
    moderator = session_can_moderate(session=session, user=author)
    if room_status(session) == RoomState.Status.ENDED:
        raise RoomError("closed", ERROR_SESSION_ENDED)
    if not moderator and not ratelimit.hit(f"live:ask:{author.pk}", limit=ASK_LIMIT, window=ASK_WINDOW):
        raise RoomError("rate_limited", ERROR_ASK_RATE)
    pre = session.moderation_mode == LiveSessionPage.ModerationMode.PRE and not moderator
    question = Question(session=session, author=author, text=text, anonymous=bool(anonymous),
                        status=Question.Status.PENDING if pre else Question.Status.APPROVED)
    question.full_clean()
    with transaction.atomic():
        question.save()
        _emit_question(question, "question.created", was_public=False)
    return question


def _question_for_update(session: LiveSessionPage, question_id) -> Question:
    question = (Question.objects.select_for_update(of=("self",)).select_related("author", "replied_by")
                .filter(pk=question_id, session=session).first())
    if question is None:
        raise RoomError("not_found", ERROR_QUESTION_NOT_FOUND, field="question")
    return question


def _moderate(session, moderator, question_id, change, name, **extra_kwargs) -> Question:
    _require_moderator(session, moderator)
    with transaction.atomic():
        question = _question_for_update(session, question_id)
        was_public = question.is_public
        extra = change(question) or {}
        question.save()
        _emit_question(question, name, was_public=was_public, extra=extra)
    return question


def question_approve(*, session, moderator, question_id) -> Question:
    def change(q):
        q.status = Question.Status.APPROVED
    return _moderate(session, moderator, question_id, change, "question.approved")


def question_dismiss(*, session, moderator, question_id) -> Question:
    def change(q):
        q.status, q.highlighted = Question.Status.DISMISSED, False
    return _moderate(session, moderator, question_id, change, "question.dismissed")


def question_mark_answered(*, session, moderator, question_id) -> Question:
    def change(q):
        if q.status == Question.Status.DISMISSED:
            raise RoomError("closed", ERROR_QUESTION_DISMISSED, field="question")
        q.status, q.highlighted, q.answered_at = Question.Status.ANSWERED, False, timezone.now()
    return _moderate(session, moderator, question_id, change, "question.answered")


def question_highlight(*, session, moderator, question_id, highlighted: bool = True) -> Question:
    def change(q):
        previous = None
        if highlighted:
            if q.status == Question.Status.DISMISSED:
                raise RoomError("closed", ERROR_QUESTION_DISMISSED, field="question")
            previous = (Question.objects.filter(session=session, highlighted=True).exclude(pk=q.pk)
                        .values_list("pk", flat=True).first())
            if previous:
                Question.objects.filter(pk=previous).update(highlighted=False)
            if q.status == Question.Status.PENDING:
                q.status = Question.Status.APPROVED
        q.highlighted = bool(highlighted)
        return {"previous": previous}
    return _moderate(session, moderator, question_id, change, "question.highlighted")


def question_reply(*, session, moderator, question_id, text: str) -> Question:
    text = clean_text(text, limit=REPLY_MAX_LENGTH)

    def change(q):
        q.reply, q.replied_by, q.replied_at = text, moderator, timezone.now()
    return _moderate(session, moderator, question_id, change, "question.replied")


def question_pin(*, session, moderator, question_id, pinned: bool) -> Question:
    def change(q):
        q.pinned = bool(pinned)
    return _moderate(session, moderator, question_id, change, "question.pinned")


def question_set_topic(*, session, moderator, question_id, topic_id) -> Question:
    _require_moderator(session, moderator)
    topic = None
    if topic_id is not None:
        topic = AgendaTopic.objects.filter(pk=topic_id, page=session).first()
        if topic is None:
            raise RoomError("not_found", ERROR_TOPIC_NOT_FOUND, field="topic")

    def change(q):
        q.topic = topic
    return _moderate(session, moderator, question_id, change, "question.topic")


# --- the moderators' queue, page by page ---------------------------------------------------------------------
QUEUE_PAGE_MAX = 100


def moderator_questions_page(*, session, moderator, status: str, before: int | None = None, limit: int = 50,
                             search: str = "") -> dict:
    """A page of the session's questions of one status, newest first, older than question `before` (a queue of
    thousands: the snapshot holds only the newest SNAPSHOT_QUESTIONS), optionally containing `search`."""
    _require_moderator(session, moderator)
    if status not in Question.Status.values:
        raise RoomError("invalid", ERROR_STATUS_FILTER, field="status")
    limit = max(1, min(int(limit), QUEUE_PAGE_MAX))
    questions = Question.objects.filter(session=session, status=status).select_related("author", "replied_by")
    if before is not None:
        questions = questions.filter(pk__lt=before)
    search = text_clean(search, required=False)[:100] if isinstance(search, str) else ""
    if search:
        questions = questions.filter(text__icontains=search)
    page = list(questions.order_by("-pk")[:limit + 1])
    return {"questions": [payloads.question(q, moderator=True) for q in page[:limit]], "more": len(page) > limit}


# --- topics, polls, announcements, bans, status --------------------------------------------------------------
def topic_set(*, session, moderator, topic_id) -> AgendaTopic | None:
    _require_moderator(session, moderator)
    topic = None
    if topic_id is not None:
        topic = AgendaTopic.objects.filter(pk=topic_id, page=session).first()
        if topic is None:
            raise RoomError("not_found", ERROR_TOPIC_NOT_FOUND, field="topic")
    with transaction.atomic():
        state, _ = RoomState.objects.select_for_update().get_or_create(session=session)
        state.current_topic = topic
        state.save()
        events.emit(session_id=session.pk, name="topic.changed", data={"topic": payloads.topic(topic)})
    return topic


def _close_poll(poll: Poll) -> None:
    poll.status, poll.closed_at = Poll.Status.CLOSED, timezone.now()
    poll.save(update_fields=["status", "closed_at"])
    poll.refresh_from_db(fields=["respondents"])
    events.emit(session_id=poll.session_id, name="poll.closed", data={"poll": payloads.poll(poll)})


def poll_open(*, session, moderator, question: str, kind: str, choices: list) -> Poll:
    _require_moderator(session, moderator)
    question = clean_text(question, limit=POLL_QUESTION_MAX_LENGTH, field_name="question", multiline=False)
    if kind not in Poll.Kind.values:
        raise RoomError("invalid", ERROR_POLL_CHOICES, field="kind")
    if not isinstance(choices, list) or not 2 <= len(choices) <= 10:
        raise RoomError("invalid", ERROR_POLL_NEEDS_CHOICES, field="choices")
    texts = [clean_text(text, limit=POLL_CHOICE_MAX_LENGTH, field_name="choices", multiline=False)
             for text in choices]
    with transaction.atomic():
        for open_poll in Poll.objects.select_for_update().filter(session=session, status=Poll.Status.OPEN):
            _close_poll(open_poll)
        poll = Poll.objects.create(session=session, question=question, kind=kind, created_by=moderator)
        made = PollChoice.objects.bulk_create(
            [PollChoice(poll=poll, text=text, position=i) for i, text in enumerate(texts)])
        events.emit(session_id=session.pk, name="poll.opened", data={"poll": payloads.poll(poll, made)})
    return poll


def poll_close(*, session, moderator, poll_id) -> Poll:
    _require_moderator(session, moderator)
    with transaction.atomic():
        poll = Poll.objects.select_for_update().filter(pk=poll_id, session=session).first()
        if poll is None:
            raise RoomError("not_found", ERROR_POLL_NOT_FOUND, field="poll")
        if poll.status == Poll.Status.OPEN:
            _close_poll(poll)
    return poll


def announcement_create(*, session, author, text: str) -> Announcement:
    _require_moderator(session, author)
    text = clean_text(text, limit=ANNOUNCEMENT_MAX_LENGTH)
    if not ratelimit.hit(f"live:announce:{author.pk}", limit=ANNOUNCE_LIMIT, window=ANNOUNCE_WINDOW):
        raise RoomError("rate_limited", ERROR_ANNOUNCE_RATE)
    with transaction.atomic():
        announcement = Announcement.objects.create(session=session, author=author, text=text)
        events.emit(session_id=session.pk, name="announcement",
                    data={"announcement": payloads.announcement(announcement)})
    return announcement


def room_user_ban(*, session, moderator, user_id, reason: str = ""):
    """Ban a user from the room (live.services.access.ban_create), tell the moderators, disconnect them."""
    from live.services.access import ban_create

    _require_moderator(session, moderator)
    user = get_user_model().objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is None:
        raise RoomError("not_found", ERROR_USER_NOT_FOUND, field="user")
    if session_can_moderate(session=session, user=user):
        raise RoomError("forbidden", ERROR_CANNOT_BAN)
    reason = text_clean(reason, required=False) if isinstance(reason, str) else ""
    with transaction.atomic():
        try:
            ban = ban_create(session=session, user=user, by=moderator, reason=reason)
        except ValidationError as error:
            raise RoomError("invalid", error.messages[0], field="user") from None
        events.emit(session_id=session.pk, name="user.banned", public=events.HIDDEN,
                    data={"user": {"id": user.pk, "name": payloads.user_name(user)}, "reason": ban.reason})
        events.kick(session_id=session.pk, user_id=user.pk)
    return ban


def session_status_set(*, session, moderator, status: str) -> str:
    """A host starts ("live") or ends ("ended") the session; live windows record when attendance counts."""
    _require_moderator(session, moderator)
    if status not in (RoomState.Status.LIVE, RoomState.Status.ENDED):
        raise RoomError("invalid", ERROR_STATUS, field="status")
    now = timezone.now()
    with transaction.atomic():
        state, _ = RoomState.objects.select_for_update().get_or_create(session=session)
        open_window = LiveWindow.objects.filter(session=session, ended_at__isnull=True).first()
        if status == RoomState.Status.LIVE and open_window is None:
            LiveWindow.objects.create(session=session, started_at=now)
        elif status == RoomState.Status.ENDED:
            if open_window is not None:
                open_window.ended_at = now
                open_window.save(update_fields=["ended_at"])
            elif not LiveWindow.objects.filter(session=session).exists() and session.start < now:
                LiveWindow.objects.create(session=session, started_at=session.start, ended_at=now)
        state.status = status
        state.save()
        windows = list(LiveWindow.objects.filter(session=session))
        events.emit(session_id=session.pk, name="session.status", data={
            "status": status,
            "started_at": payloads.ms(windows[0].started_at) if windows else None,
            "ended_at": payloads.ms(windows[-1].ended_at) if windows else None,
        })
        if status == RoomState.Status.ENDED:
            # After the event (on_commit callbacks run in order), in the background: the host's ack and everyone's
            # "ended" never wait for, nor depend on, reporting the minutes to courses (the sweep redoes it).
            from live.services.attendance import attendance_report_in_background

            transaction.on_commit(lambda: attendance_report_in_background(session_id=session.pk), robust=True)
    return status
