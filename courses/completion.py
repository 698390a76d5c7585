"""The one module that decides completion.

Lessons and courses are complete or not according to the course's rules and the facts other code records:
- reading: the learner marked the lesson text read (when it has text) and read every linked handbook chapter
  (handbook.selectors.read_chapter_ids);
- video: an uploaded video watched to the lesson's required percentage (reported by the local player); an embedded
  video from another site cannot report what was watched, so the learner confirms it;
- quiz: a submitted attempt passed;
- live: at least `minutes_required` minutes attended of the linked live session (LiveAttendanceFact).
A course is complete when its rule holds over its required lessons (CoursePage.completion_rule).

Pages, reports and certificates ask this module (`course_progress`). `evaluate_lesson`/`evaluate_course` record the
results: a LessonProgress.completed_at and a Completion. Both are sticky (a lesson or course once complete stays
complete when an editor later adds requirements) and idempotent. A Completion is created exactly once per enrolment
even under concurrent calls (double clicks, two tabs, two processes): get_or_create in a transaction, backed by the
OneToOne constraint, with IntegrityError handled; only the call that created it sends `course_completed`, after commit.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.models import (
    Completion,
    CoursePage,
    Enrolment,
    LessonPage,
    LessonProgress,
    LiveAttendanceFact,
    QuizAttempt,
)
from courses.signals import course_completed

logger = logging.getLogger(__name__)

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"


@dataclass
class LessonState:
    lesson: LessonPage
    status: str = NOT_STARTED
    locked: bool = False
    missing_prerequisites: list = field(default_factory=list)
    chapters_total: int = 0
    chapters_read: int = 0
    watched_percent: int = 0
    minutes_attended: int = 0
    best_score: int | None = None
    last_seen_at: datetime | None = None
    confirmed: bool = False

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED


@dataclass
class CourseProgress:
    course: CoursePage
    lessons: list[LessonState]
    enrolment: Enrolment | None
    completion: Completion | None
    rule_met: bool

    @property
    def required(self) -> list[LessonState]:
        required = [state for state in self.lessons if state.lesson.required]
        return required or self.lessons

    @property
    def percent(self) -> int:
        if self.completion is not None:
            return 100
        required = self.required
        if not required:
            return 0
        return round(100 * sum(1 for state in required if state.completed) / len(required))

    @property
    def is_complete(self) -> bool:
        return self.completion is not None or self.rule_met

    @property
    def started(self) -> bool:
        return any(state.status != NOT_STARTED for state in self.lessons)

    @property
    def next_lesson(self) -> LessonState | None:
        """Continue learning: the first unfinished lesson the learner may open, in course order (None when none is
        left). An earlier lesson left unfinished comes before a later one opened last."""
        return next((state for state in self.lessons if not state.completed and not state.locked), None)

    def modules(self) -> list[dict]:
        """Lessons grouped by consecutive module titles, for the course page."""
        groups = []
        for state in self.lessons:
            if not groups or groups[-1]["title"] != state.lesson.module:
                groups.append({"title": state.lesson.module, "lessons": []})
            groups[-1]["lessons"].append(state)
        return groups

    def state_of(self, lesson) -> LessonState | None:
        for state in self.lessons:
            if state.lesson.pk == lesson.pk:
                return state
        return None


def lesson_status(*, completed: bool, opened: bool) -> str:
    """The one rule for a lesson's status, shown on the learner's pages and in the organisers' report.

    Completed when the lesson's facts say so (or it was recorded complete); in progress once the learner opened it
    (a LessonProgress row) or attempted its quiz; not started otherwise — facts gathered elsewhere (a handbook
    chapter read, minutes in a live session) do not make a lesson the learner never opened "in progress".
    """
    if completed:
        return COMPLETED
    if opened:
        return IN_PROGRESS
    return NOT_STARTED


def _read_chapter_ids(user) -> set[int]:
    from handbook.selectors import read_chapter_ids

    return set(read_chapter_ids(user=user))


def _lesson_chapter_ids(lessons) -> dict[int, list[int]]:
    from courses.models import LessonChapter

    chapters: dict[int, list[int]] = {lesson.pk: [] for lesson in lessons}
    for lesson_id, chapter_id in LessonChapter.objects.filter(lesson__in=lessons).values_list("lesson_id", "chapter_id"):
        chapters[lesson_id].append(chapter_id)
    return chapters


def _complete_from_facts(lesson: LessonPage, state: LessonState, progress: LessonProgress | None, passed: bool) -> bool:
    kind = lesson.kind
    if kind == LessonPage.Kind.READING:
        text_done = not lesson.body.strip() or (progress is not None and progress.confirmed_at is not None)
        return text_done and state.chapters_read == state.chapters_total
    if kind == LessonPage.Kind.VIDEO:
        if lesson.video_is_tracked:
            return state.watched_percent >= lesson.required_percent
        return progress is not None and progress.confirmed_at is not None
    if kind == LessonPage.Kind.QUIZ:
        return passed
    if kind == LessonPage.Kind.LIVE:
        return lesson.live_session_id is not None and state.minutes_attended >= lesson.minutes_required
    return False


def course_progress(*, user, course: CoursePage, lessons=None) -> CourseProgress:
    """Every lesson's state for `user` in `course`, from the recorded facts, and whether the course rule holds."""
    lessons = list(lessons if lessons is not None else course.lessons().specific())
    enrolment = None
    completion = None
    if user.is_authenticated:
        enrolment = Enrolment.objects.filter(user=user, course=course).select_related("completion").first()
        completion = getattr(enrolment, "completion", None) if enrolment else None
    if not user.is_authenticated or not lessons:
        states = [LessonState(lesson=lesson) for lesson in lessons]
        return CourseProgress(course, states, enrolment, completion, rule_met=False)

    progress = {row.lesson_id: row for row in LessonProgress.objects.filter(user=user, lesson__in=lessons)}
    attempts: dict[int, list[QuizAttempt]] = {}
    for attempt in QuizAttempt.objects.filter(user=user, lesson__in=lessons, submitted_at__isnull=False):
        attempts.setdefault(attempt.lesson_id, []).append(attempt)
    session_ids = {lesson.live_session_id for lesson in lessons if lesson.live_session_id}
    minutes = dict(
        LiveAttendanceFact.objects.filter(user=user, session_page_id__in=session_ids).values_list(
            "session_page_id", "minutes"
        )
    ) if session_ids else {}
    chapter_ids = _lesson_chapter_ids(lessons)
    read = _read_chapter_ids(user) if any(chapter_ids.values()) else set()

    states = []
    for lesson in lessons:
        row = progress.get(lesson.pk)
        lesson_attempts = attempts.get(lesson.pk, [])
        state = LessonState(
            lesson=lesson,
            chapters_total=len(chapter_ids[lesson.pk]),
            chapters_read=sum(1 for pk in chapter_ids[lesson.pk] if pk in read),
            watched_percent=row.watched_percent if row else 0,
            minutes_attended=minutes.get(lesson.live_session_id, 0),
            best_score=max((a.score or 0 for a in lesson_attempts), default=None),
            last_seen_at=row.last_seen_at if row else None,
            confirmed=bool(row and row.confirmed_at),
        )
        passed = any(a.passed for a in lesson_attempts)
        state.status = lesson_status(
            completed=bool(row and row.completed_at) or _complete_from_facts(lesson, state, row, passed),
            opened=row is not None or bool(lesson_attempts),
        )
        states.append(state)

    by_pk = {state.lesson.pk: state for state in states}
    prerequisites: dict[int, list[int]] = {}
    through = LessonPage.prerequisites.through
    for from_id, to_id in through.objects.filter(from_lessonpage__in=lessons).values_list(
        "from_lessonpage_id", "to_lessonpage_id"
    ):
        prerequisites.setdefault(from_id, []).append(to_id)
    for state in states:
        missing = [by_pk[pk].lesson for pk in prerequisites.get(state.lesson.pk, []) if pk in by_pk and not by_pk[pk].completed]
        if missing and not state.completed:
            state.locked = True
            state.missing_prerequisites = missing

    return CourseProgress(course, states, enrolment, completion, rule_met=_rule_met(course, states))


def _rule_met(course: CoursePage, states: list[LessonState]) -> bool:
    required = [state for state in states if state.lesson.required] or states
    if not required:
        return False
    done = sum(1 for state in required if state.completed)
    if course.completion_rule == CoursePage.CompletionRule.THRESHOLD:
        quizzes_passed = all(state.completed for state in required if state.lesson.kind == LessonPage.Kind.QUIZ)
        return quizzes_passed and 100 * done >= course.completion_threshold * len(required)
    return done == len(required)


def lesson_state(*, user, lesson: LessonPage) -> LessonState:
    course = lesson.course
    return course_progress(user=user, course=course).state_of(lesson)


def evaluate_lesson(*, user, lesson: LessonPage, progress: CourseProgress | None = None) -> LessonState:
    """Record a lesson as complete (LessonProgress.completed_at) when the facts say so. Idempotent."""
    progress = progress or course_progress(user=user, course=lesson.course)
    state = progress.state_of(lesson)
    if state is not None and state.completed:
        now = timezone.now()
        row, _ = _progress_row(user=user, lesson=lesson)
        if row.completed_at is None:
            LessonProgress.objects.filter(pk=row.pk, completed_at__isnull=True).update(completed_at=now)
    return state


def _progress_row(*, user, lesson):
    try:
        with transaction.atomic():
            return LessonProgress.objects.get_or_create(user=user, lesson=lesson)
    except IntegrityError:
        return LessonProgress.objects.get(user=user, lesson=lesson), False


def evaluate_course(*, enrolment: Enrolment) -> tuple[Completion | None, bool]:
    """Record the enrolment's Completion when the course rule holds; returns (completion or None, created).

    Exactly once: whoever wins the insert sends course_completed after commit; everyone else gets the existing row.
    """
    existing = Completion.objects.filter(enrolment=enrolment).first()
    if existing is not None:
        return existing, False
    course = CoursePage.objects.get(pk=enrolment.course_id)
    progress = course_progress(user=enrolment.user, course=course)
    for state in progress.lessons:
        if state.completed:
            evaluate_lesson(user=enrolment.user, lesson=state.lesson, progress=progress)
    if not progress.rule_met:
        return None, False
    try:
        with transaction.atomic():
            completion, created = Completion.objects.get_or_create(enrolment=enrolment)
    except IntegrityError:
        completion, created = Completion.objects.get(enrolment=enrolment), False
    if created:
        transaction.on_commit(lambda: _send_course_completed(completion))
    return completion, created


def _send_course_completed(completion: Completion) -> None:
    for receiver, result in course_completed.send_robust(sender=Completion, completion=completion):
        if isinstance(result, Exception):
            logger.error(
                "course_completed receiver %r failed for completion %s", receiver, completion.pk,
                exc_info=(type(result), result, result.__traceback__),
            )


def evaluate(*, user, lesson: LessonPage) -> tuple[LessonState, Completion | None]:
    """After a fact about `lesson` was recorded: record the lesson and, for an enrolled learner, the course."""
    course = lesson.course
    progress = course_progress(user=user, course=course)
    if progress.enrolment is None:  # nothing is recorded for a course the user has not enrolled in
        return progress.state_of(lesson), None
    state = evaluate_lesson(user=user, lesson=lesson, progress=progress)
    completion, _ = evaluate_course(enrolment=progress.enrolment)
    return state, completion


@dataclass
class LearnerRow:
    enrolment: Enrolment
    completed_lesson_ids: set
    started_lesson_ids: set
    percent: int
    completed_at: datetime | None

    def status_of(self, lesson_id: int) -> str:
        """The lesson's status for this learner, by the same rule as the learner's own pages (lesson_status)."""
        return lesson_status(completed=lesson_id in self.completed_lesson_ids, opened=lesson_id in self.started_lesson_ids)


def course_report_rows(*, course: CoursePage, lessons=None) -> list[LearnerRow]:
    """Every enrolment of `course` with its recorded lesson completions and course percentage, in a few queries.

    Uses what evaluate_lesson/evaluate_course recorded (LessonProgress.completed_at, Completion), with the same
    percentage formula as CourseProgress.percent, so reports and pages agree.
    """
    lessons = list(lessons if lessons is not None else course.lessons())
    lesson_ids = [lesson.pk for lesson in lessons]
    required_ids = {lesson.pk for lesson in lessons if lesson.required} or set(lesson_ids)
    enrolments = list(
        Enrolment.objects.filter(course=course).select_related("user", "completion", "enrolled_by").order_by("enrolled_at")
    )
    completed: dict[int, set] = {}
    started: dict[int, set] = {}
    for user_id, lesson_id, completed_at in LessonProgress.objects.filter(
        lesson_id__in=lesson_ids, user_id__in=[e.user_id for e in enrolments]
    ).values_list("user_id", "lesson_id", "completed_at"):
        started.setdefault(user_id, set()).add(lesson_id)
        if completed_at is not None:
            completed.setdefault(user_id, set()).add(lesson_id)
    for user_id, lesson_id in QuizAttempt.objects.filter(
        lesson_id__in=lesson_ids, user_id__in=[e.user_id for e in enrolments]
    ).values_list("user_id", "lesson_id"):
        started.setdefault(user_id, set()).add(lesson_id)
    rows = []
    for enrolment in enrolments:
        done = completed.get(enrolment.user_id, set())
        record = getattr(enrolment, "completion", None)
        if record is not None:
            percent = 100
        elif required_ids:
            percent = round(100 * len(done & required_ids) / len(required_ids))
        else:
            percent = 0
        rows.append(LearnerRow(enrolment, done, started.get(enrolment.user_id, set()) | done, percent,
                               record.completed_at if record else None))
    return rows
