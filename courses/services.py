"""Writes of the courses app: enrolment, lesson facts, quiz attempts, live attendance facts.

Every action that records a fact then asks courses.completion to re-evaluate; nothing here decides completion.
Access rules (enrolled, prerequisites complete) are checked here as well as in the views, so no request can record a
fact for a lesson the learner may not open.
"""
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from courses import completion, selectors
from courses.media import media_duration
from courses.models import CoursePage, Enrolment, LessonPage, LessonProgress, LiveAttendanceFact, QuizAttempt

ERROR_COURSE_NOT_OPEN = _("This course is not open for enrolment.")
ERROR_NOT_ENROLLED = _("Enrol in the course to open its lessons.")
ERROR_LESSON_LOCKED = _("This lesson opens when the lessons before it are complete.")
ERROR_WRONG_KIND = _("This action does not apply to this lesson.")
ERROR_NO_ATTEMPTS_LEFT = _("You have used all your attempts at this quiz.")
ERROR_NO_OPEN_ATTEMPT = _("This attempt is no longer open: start a new one.")
ERROR_UNANSWERED = _("Answer question %(numbers)s before you submit.")
ERROR_BAD_ANSWER = _("One of the answers is not a choice of its question.")
ERROR_BAD_PERCENT = _("The watched percentage must be between 0 and 100.")
ERROR_BAD_SECONDS = _("The seconds watched must be a number between 0 and the length of the video.")
ERROR_BAD_MINUTES = _("Minutes attended must be zero or more.")
ERROR_UNKNOWN_SESSION = _("There is no such live session page.")


# --- Enrolment --------------------------------------------------------------------------------------------------


def enrolment_create(
    *, user, course: CoursePage, source: str = Enrolment.Source.SELF, enrolled_by=None
) -> tuple[Enrolment, bool]:
    """Enrol `user` in `course` (idempotent: an existing enrolment is returned with created=False)."""
    if not course.live:
        raise ValidationError(ERROR_COURSE_NOT_OPEN)
    existing = Enrolment.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing, False
    enrolment = Enrolment(user=user, course=course, source=source, enrolled_by=enrolled_by)
    enrolment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            enrolment.save()
    except IntegrityError:
        return Enrolment.objects.get(user=user, course=course), False
    # Facts recorded before enrolling (chapters read in the handbook, live minutes) count at once.
    completion.evaluate_course(enrolment=enrolment)
    return enrolment, True


# --- Lesson facts -----------------------------------------------------------------------------------------------


def _require_access(*, user, lesson: LessonPage) -> selectors.LessonAccess:
    access = selectors.lesson_access(user=user, lesson=lesson)
    if access.reason == "login" or access.reason == "enrol":
        raise PermissionDenied(ERROR_NOT_ENROLLED)
    if access.reason == "locked":
        raise PermissionDenied(ERROR_LESSON_LOCKED)
    return access


def _progress_row(*, user, lesson) -> LessonProgress:
    try:
        with transaction.atomic():
            row, _ = LessonProgress.objects.get_or_create(user=user, lesson=lesson)
    except IntegrityError:
        row = LessonProgress.objects.get(user=user, lesson=lesson)
    return row


def lesson_open(*, user, lesson: LessonPage) -> LessonProgress:
    """The learner opened the lesson: it is in progress and is where "continue" leads."""
    _require_access(user=user, lesson=lesson)
    row = _progress_row(user=user, lesson=lesson)
    LessonProgress.objects.filter(pk=row.pk).update(last_seen_at=timezone.now())
    return row


def lesson_confirm(*, user, lesson: LessonPage) -> completion.LessonState:
    """The learner marked a reading lesson's text read, or confirmed watching an untracked (embedded) video."""
    _require_access(user=user, lesson=lesson)
    if not (lesson.kind == LessonPage.Kind.READING or (lesson.kind == LessonPage.Kind.VIDEO and not lesson.video_is_tracked)):
        raise ValidationError(ERROR_WRONG_KIND)
    row = _progress_row(user=user, lesson=lesson)
    now = timezone.now()
    LessonProgress.objects.filter(pk=row.pk, confirmed_at__isnull=True).update(confirmed_at=now, last_seen_at=now)
    state, _ = completion.evaluate(user=user, lesson=lesson)
    return state


# Video progress is checked against the clock: the media cannot have played faster than real time. A heartbeat may
# raise the credited seconds to at most what was credited when the current viewing started, plus the time since it
# started x VIDEO_RATE, plus VIDEO_SLACK once per viewing; never above the media's length. A viewing ends when no
# heartbeat came for VIDEO_GAP seconds (the player sends one every 15 s while playing, and one on play and pause).
VIDEO_RATE = 1.1
VIDEO_SLACK = 5.0
VIDEO_GAP = 120.0
VIDEO_MAX_SECONDS = 24 * 3600  # a claim beyond a day is not a number a player sends


def lesson_media_seconds(lesson: LessonPage) -> float:
    """The length of the lesson's video as the server reads it from the file; the estimated minutes otherwise."""
    return media_duration(lesson.video) or max(lesson.estimated_minutes, 1) * 60.0


def _claimed_seconds(*, seconds, percent, duration: float) -> float:
    """The seconds the player says were watched: `seconds`, or `percent` of the media's length (older players)."""
    def number(value) -> bool:
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))

    if seconds is not None:
        if not number(seconds) or not 0 <= seconds <= VIDEO_MAX_SECONDS:
            raise ValidationError(ERROR_BAD_SECONDS)
        return float(seconds)
    if not number(percent) or not 0 <= percent <= 100:
        raise ValidationError(ERROR_BAD_PERCENT)
    return duration * percent / 100


def video_progress_record(*, user, lesson: LessonPage, seconds=None, percent=None,
                          now: datetime | None = None) -> completion.LessonState:
    """The local player reports how much of the video it has played (`seconds`, or `percent` of it). The server
    credits no more than the media could have played since the viewing began (see VIDEO_RATE above), keeps the
    largest figure, and decides completion from the credited share of the media's real length."""
    _require_access(user=user, lesson=lesson)
    if not lesson.video_is_tracked:
        raise ValidationError(ERROR_WRONG_KIND)
    duration = lesson_media_seconds(lesson)
    claimed = _claimed_seconds(seconds=seconds, percent=percent, duration=duration)
    now = now or timezone.now()
    row = _progress_row(user=user, lesson=lesson)
    with transaction.atomic():
        row = LessonProgress.objects.select_for_update().get(pk=row.pk)
        since_last = (now - row.heartbeat_at).total_seconds() if row.heartbeat_at else None
        if since_last is None or since_last > VIDEO_GAP or since_last < 0 or row.viewing_started_at is None:
            row.viewing_started_at, row.viewing_base_seconds = now, row.watched_seconds
        allowed = row.viewing_base_seconds + (now - row.viewing_started_at).total_seconds() * VIDEO_RATE + VIDEO_SLACK
        row.watched_seconds = max(row.watched_seconds, min(claimed, allowed, duration))
        row.watched_percent = max(row.watched_percent, min(100, math.floor(100 * row.watched_seconds / duration)))
        row.heartbeat_at = row.last_seen_at = now
        row.save(update_fields=["watched_seconds", "watched_percent", "heartbeat_at", "last_seen_at",
                                "viewing_started_at", "viewing_base_seconds"])
    state, _ = completion.evaluate(user=user, lesson=lesson)
    return state


def live_attendance_record(*, user, session_page_id: int, minutes: int) -> LiveAttendanceFact:
    """The live app reports that `user` has attended `minutes` of a live session (a running total).

    The largest figure is kept, so repeated or out-of-order reports are harmless. Courses with a live-attendance
    lesson on that session are re-evaluated for the user.
    """
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        raise ValidationError(ERROR_BAD_MINUTES)
    if not Page.objects.filter(pk=session_page_id).exists():
        raise ValidationError(ERROR_UNKNOWN_SESSION)
    now = timezone.now()
    try:
        with transaction.atomic():
            fact, created = LiveAttendanceFact.objects.get_or_create(
                user=user, session_page_id=session_page_id, defaults={"minutes": minutes, "updated_at": now}
            )
    except IntegrityError:
        fact, created = LiveAttendanceFact.objects.get(user=user, session_page_id=session_page_id), False
    if not created:
        LiveAttendanceFact.objects.filter(pk=fact.pk, minutes__lt=minutes).update(minutes=minutes, updated_at=now)
        fact.refresh_from_db()
    lessons = LessonPage.objects.live().filter(kind=LessonPage.Kind.LIVE, live_session_id=session_page_id)
    for lesson in lessons:
        if minutes and selectors.enrolment_for(user=user, course=lesson.course) is not None:
            _progress_row(user=user, lesson=lesson)  # attending the session is taking the lesson: it is started
        completion.evaluate(user=user, lesson=lesson)
    return fact


def chapter_read_received(*, user, chapter) -> None:
    """A handbook chapter was read: re-evaluate the reading lessons that link it, for that reader."""
    lessons = LessonPage.objects.live().filter(kind=LessonPage.Kind.READING, chapter_links__chapter=chapter).distinct()
    for lesson in lessons:
        completion.evaluate(user=user, lesson=lesson)


# --- Quizzes ----------------------------------------------------------------------------------------------------


def _layout(lesson: LessonPage, rng: random.Random) -> list[dict]:
    questions = [{"id": block.id, "choices": list(range(len(block.value["choices"])))} for block in lesson.questions]
    if lesson.shuffle:
        rng.shuffle(questions)
        for question in questions:
            rng.shuffle(question["choices"])
    return questions


def quiz_attempt_start(*, user, lesson: LessonPage) -> QuizAttempt:
    """Start an attempt (or return the open one). With shuffling, its order is drawn now and kept for the attempt."""
    _require_access(user=user, lesson=lesson)
    if lesson.kind != LessonPage.Kind.QUIZ:
        raise ValidationError(ERROR_WRONG_KIND)
    open_attempt = selectors.quiz_open_attempt(user=user, lesson=lesson)
    if open_attempt is not None:
        return open_attempt
    if selectors.quiz_attempts_left(user=user, lesson=lesson) == 0:
        raise ValidationError(ERROR_NO_ATTEMPTS_LEFT)
    number = (QuizAttempt.objects.filter(user=user, lesson=lesson).order_by("-number").values_list("number", flat=True).first() or 0) + 1
    layout = _layout(lesson, random.SystemRandom())
    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                user=user, lesson=lesson, number=number, layout=layout, question_count=len(layout)
            )
    except IntegrityError:  # a second tab started one at the same moment
        attempt = selectors.quiz_open_attempt(user=user, lesson=lesson)
        if attempt is None:
            raise
    return attempt


def _says_multiple(text: str) -> bool:
    """The question text already tells the learner to choose several (the editor wrote "（多选）")."""
    return any(word in text for word in ("多选", "多项", "choose all", "select all"))


def quiz_questions_for(attempt: QuizAttempt) -> list[dict]:
    """The attempt's questions in its order, with their choices in its order: texts only, no answer key."""
    blocks = {block.id: block.value for block in attempt.lesson.specific.questions}
    questions = []
    for position, item in enumerate(attempt.layout, start=1):
        value = blocks.get(item["id"])
        if value is None:  # removed by an editor after the attempt started
            continue
        choices = value["choices"]
        questions.append({
            "id": item["id"],
            "number": position,
            "text": value["text"],
            "multiple": value["kind"] == "multiple",
            "says_multiple": _says_multiple(value["text"]),
            "choices": [{"value": index, "text": choices[index]["text"]} for index in item["choices"] if index < len(choices)],
        })
    return questions


def _parse_answers(attempt: QuizAttempt, data) -> dict[str, list[int]]:
    """The answers by question id. Unanswered questions are refused together, naming them: the error's params carry
    their numbers (as shown) and ids, so the form can mark each one."""
    answers = {}
    questions = quiz_questions_for(attempt)

    def raw_answer(question):
        return data.getlist(f"q-{question['id']}") if hasattr(data, "getlist") else data.get(question["id"], [])

    unanswered = [question for question in questions if not raw_answer(question)]
    if unanswered:
        raise ValidationError(ERROR_UNANSWERED, code="unanswered", params={
            "numbers": "、".join(str(question["number"]) for question in unanswered),
            "ids": [question["id"] for question in unanswered],
        })
    for question in questions:
        raw = raw_answer(question)
        try:
            chosen = sorted({int(value) for value in raw})
        except (TypeError, ValueError):
            raise ValidationError(ERROR_BAD_ANSWER)
        valid = {choice["value"] for choice in question["choices"]}
        if not set(chosen) <= valid or (not question["multiple"] and len(chosen) != 1):
            raise ValidationError(ERROR_BAD_ANSWER)
        answers[question["id"]] = chosen
    return answers


def quiz_attempt_submit(*, user, lesson: LessonPage, attempt_id: int, data) -> QuizAttempt:
    """Grade the open attempt on the server and keep it. A question scores when exactly the correct choices are chosen.

    `data` is the POST QueryDict (fields q-<question id>) or a dict {question id: [choice indexes]}.
    A second submission of the same attempt (double click) returns the graded attempt unchanged.
    """
    _require_access(user=user, lesson=lesson)
    attempt = QuizAttempt.objects.filter(pk=attempt_id, user=user, lesson=lesson).first()
    if attempt is None:
        raise ValidationError(ERROR_NO_OPEN_ATTEMPT)
    if attempt.is_submitted:
        return attempt
    answers = _parse_answers(attempt, data)
    key = {block.id: block.value for block in lesson.questions}
    correct = 0
    for question_id, chosen in answers.items():
        choices = key[question_id]["choices"]
        if chosen == [i for i, choice in enumerate(choices) if choice["correct"]]:
            correct += 1
    total = len(answers)
    score = round(100 * correct / total) if total else 0
    with transaction.atomic():
        updated = QuizAttempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
            submitted_at=timezone.now(), answers=answers, correct_count=correct, question_count=total,
            score=score, passed=score >= lesson.pass_mark,
        )
    attempt.refresh_from_db()
    if updated:
        completion.evaluate(user=user, lesson=lesson)
    return attempt


def quiz_review(attempt: QuizAttempt, *, reveal_key: bool = True) -> list[dict]:
    """A submitted attempt's questions with the learner's answers, whether each was right, and the explanations.

    The correct choices are included only with `reveal_key` (courses.selectors.quiz_reveals_key decides): without
    it every choice's `correct` is None, so a failed attempt marks the wrong answers without giving the key away.
    """
    if not attempt.is_submitted:
        raise ValidationError(ERROR_NO_OPEN_ATTEMPT)
    blocks = {block.id: block.value for block in attempt.lesson.specific.questions}
    review = []
    for question in quiz_questions_for(attempt):
        value = blocks[question["id"]]
        chosen = set(attempt.answers.get(question["id"], []))
        correct = {i for i, choice in enumerate(value["choices"]) if choice["correct"]}
        review.append({
            **question,
            "explanation": value["explanation"],
            "is_correct": chosen == correct,
            "choices": [
                {**choice, "chosen": choice["value"] in chosen, "correct": (choice["value"] in correct) if reveal_key else None}
                for choice in question["choices"]
            ],
        })
    return review


# --- Cohort enrolment -------------------------------------------------------------------------------------------


@dataclass
class CohortReport:
    enrolled: list = field(default_factory=list)  # users newly enrolled
    already: list = field(default_factory=list)  # users enrolled before
    unmatched: list = field(default_factory=list)  # (row number, value, reason)

    @property
    def total(self) -> int:
        return len(self.enrolled) + len(self.already) + len(self.unmatched)


def cohort_enrol(*, course: CoursePage, identifiers: list[tuple[int, str]], enrolled_by) -> CohortReport:
    """Enrol users named by username or phone number; report the rows that match nobody (or more than one)."""
    from courses.cohort import match_users

    report = CohortReport()
    matches = match_users(identifiers)
    for row_number, value, user, reason in matches:
        if user is None:
            report.unmatched.append((row_number, value, reason))
            continue
        _, created = enrolment_create(user=user, course=course, source=Enrolment.Source.COHORT, enrolled_by=enrolled_by)
        (report.enrolled if created else report.already).append(user)
    return report
