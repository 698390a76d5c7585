"""Reads of the courses app: what a learner may open, what they are enrolled in, attempts they may see."""
from dataclasses import dataclass

from courses import completion
from courses.models import CoursePage, Enrolment, LessonPage, LessonProgress, QuizAttempt


@dataclass
class LessonAccess:
    allowed: bool
    reason: str = ""  # "login", "enrol", "locked"
    progress: completion.CourseProgress | None = None
    state: completion.LessonState | None = None


def lesson_access(*, user, lesson: LessonPage, course: CoursePage | None = None) -> LessonAccess:
    """May `user` open `lesson`? Signed in, enrolled in its course, and its prerequisites complete."""
    if not user.is_authenticated:
        return LessonAccess(False, "login")
    course = course or lesson.course
    progress = completion.course_progress(user=user, course=course)
    state = progress.state_of(lesson)
    if progress.enrolment is None:
        return LessonAccess(False, "enrol", progress, state)
    if state is None:  # a draft lesson, reached through a preview
        return LessonAccess(True, "", progress, state)
    if state.locked:
        return LessonAccess(False, "locked", progress, state)
    return LessonAccess(True, "", progress, state)


def enrolment_for(*, user, course: CoursePage) -> Enrolment | None:
    if not user.is_authenticated:
        return None
    return Enrolment.objects.filter(user=user, course=course).first()


def learner_courses(*, user) -> list[completion.CourseProgress]:
    """My learning: the user's enrolments, most recent first, with progress."""
    enrolments = (
        Enrolment.objects.filter(user=user, course__live=True)
        .select_related("course")
        .order_by("-enrolled_at")
    )
    return [completion.course_progress(user=user, course=enrolment.course.specific) for enrolment in enrolments]


def course_list(*, user) -> list[dict]:
    """The catalogue: live courses in tree order, each with the user's progress when enrolled."""
    courses = list(CoursePage.objects.live().public().order_by("path"))
    enrolled = set()
    if user.is_authenticated:
        enrolled = set(Enrolment.objects.filter(user=user, course__in=courses).values_list("course_id", flat=True))
    rows = []
    for course in courses:
        progress = completion.course_progress(user=user, course=course) if course.pk in enrolled else None
        rows.append({"course": course, "progress": progress, "lesson_count": course.lessons().count()})
    return rows


def quiz_attempts(*, user, lesson: LessonPage):
    """The user's own attempts at `lesson`; nobody else's."""
    return QuizAttempt.objects.filter(user=user, lesson=lesson).order_by("number")


def quiz_open_attempt(*, user, lesson: LessonPage) -> QuizAttempt | None:
    return QuizAttempt.objects.filter(user=user, lesson=lesson, submitted_at__isnull=True).first()


def quiz_attempts_left(*, user, lesson: LessonPage) -> int | None:
    """How many more attempts the user may start (None: no limit)."""
    if not lesson.max_attempts:
        return None
    used = QuizAttempt.objects.filter(user=user, lesson=lesson, submitted_at__isnull=False).count()
    return max(0, lesson.max_attempts - used)


def video_seconds_credited(*, user, lesson) -> float:
    """Seconds of the lesson's video the server has credited to `user` (0 before the first heartbeat)."""
    return LessonProgress.objects.filter(user=user, lesson=lesson).values_list("watched_seconds", flat=True).first() or 0.0


def quiz_reveals_key(*, user, lesson: LessonPage) -> bool:
    """May the learner see the quiz's answer key in their attempts' reviews? Per the quiz's setting: by default only
    once they passed or have no attempt left, so a failed attempt cannot be copied into the next one."""
    if lesson.answer_reveal == LessonPage.AnswerReveal.ALWAYS:
        return True
    if lesson.answer_reveal == LessonPage.AnswerReveal.NEVER:
        return False
    if QuizAttempt.objects.filter(user=user, lesson=lesson, passed=True).exists():
        return True
    return quiz_attempts_left(user=user, lesson=lesson) == 0
