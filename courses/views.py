"""Learner-facing views of the courses app. Thin: access from selectors, writes through services.

The pages (CourseIndexPage, CoursePage, LessonPage) route here through RoutablePageMixin, so every URL stays in the
page tree: /courses/, /courses/my/, /courses/<course>/, /courses/<course>/enrol/, /courses/<course>/<lesson>/ and its
action sub-paths (complete/, progress/, quiz/start/, quiz/submit/, attempts/<n>/).
"""
import json

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from academy import ratelimit
from courses import completion, selectors, services
from courses.models import LessonPage, QuizAttempt

VIDEO_PROGRESS_LIMIT = 120  # reports per learner per minute; the player sends one every 15 s
ERROR_TOO_MANY = _("Too many requests: wait a moment and try again.")


def _error_text(exc) -> str:
    return " ".join(str(message) for message in getattr(exc, "messages", [str(exc)]))


# --- Catalogue and My learning ----------------------------------------------------------------------------------


def catalogue_context(request, index) -> dict:
    return {"courses": selectors.course_list(user=request.user)}


def my_learning(request, index):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    progress = selectors.learner_courses(user=request.user)
    return TemplateResponse(request, "courses/my_learning.html", {
        "page": index,
        "self": index,
        "in_progress": [p for p in progress if not p.is_complete],
        "completed": [p for p in progress if p.is_complete],
    })


# --- Course -----------------------------------------------------------------------------------------------------


def course_context(request, course) -> dict:
    progress = completion.course_progress(user=request.user, course=course)
    return {"progress": progress, "modules": progress.modules(), "enrolment": progress.enrolment}


def course_enrol(request, course):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return redirect_to_login(course.url)
    try:
        _enrolment, created = services.enrolment_create(user=request.user, course=course)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(course.url)
    if created:
        messages.success(request, _("You are enrolled. Start with the first lesson."))
    progress = completion.course_progress(user=request.user, course=course)
    next_state = progress.next_lesson
    return redirect(next_state.lesson.url if next_state else course.url)


# --- Lesson -----------------------------------------------------------------------------------------------------


def _guard(request, lesson):
    """(access, response): a response when the learner may not open the lesson."""
    access = selectors.lesson_access(user=request.user, lesson=lesson)
    if access.allowed:
        return access, None
    if access.reason == "login":
        return access, redirect_to_login(request.get_full_path())
    course = lesson.course
    if access.reason == "enrol":
        messages.info(request, services.ERROR_NOT_ENROLLED)
        return access, redirect(course.url)
    response = TemplateResponse(
        request, "courses/lesson_locked.html",
        {"page": lesson, "self": lesson, "course": course, "state": access.state, "progress": access.progress},
        status=403,
    )
    return access, response


def _lesson_response(request, lesson, access, extra=None, status=200):
    course = access.progress.course if access.progress else lesson.course
    progress = access.progress or completion.course_progress(user=request.user, course=course)
    state = progress.state_of(lesson)
    states = progress.lessons
    index = next((i for i, s in enumerate(states) if s.lesson.pk == lesson.pk), None)
    context = {
        "page": lesson,
        "self": lesson,
        "course": course,
        "progress": progress,
        "state": state,
        "previous_state": states[index - 1] if index else None,
        "next_state": states[index + 1] if index is not None and index + 1 < len(states) else None,
    }
    if lesson.kind == LessonPage.Kind.READING:
        from handbook.selectors import read_chapter_ids

        read = read_chapter_ids(user=request.user)
        context["chapters"] = [
            {"page": link.chapter, "read": link.chapter_id in read}
            for link in lesson.chapter_links.select_related("chapter")
            if link.chapter.live
        ]
    if lesson.kind == LessonPage.Kind.QUIZ and request.user.is_authenticated:
        attempts = list(selectors.quiz_attempts(user=request.user, lesson=lesson))
        open_attempt = next((a for a in attempts if not a.is_submitted), None)
        context.update({
            "attempts": [a for a in attempts if a.is_submitted],
            "open_attempt": open_attempt,
            "questions": services.quiz_questions_for(open_attempt) if open_attempt else [],
            "attempts_left": selectors.quiz_attempts_left(user=request.user, lesson=lesson),
        })
    extra = extra or {}
    chosen = extra.pop("chosen", None)
    unanswered = set(extra.pop("unanswered", []))
    for question in context.get("questions", []):
        question["unanswered"] = question["id"] in unanswered
        for choice in question["choices"]:
            choice["checked"] = bool(chosen) and str(choice["value"]) in chosen.get(question["id"], [])
    context.update(extra)
    response = lesson.render(request, context_overrides=context)
    response.status_code = status
    return response


def lesson_context(request, lesson) -> dict:
    return {}


def lesson_detail(request, lesson):
    if getattr(request, "is_preview", False):
        return lesson.render(request, context_overrides={"course": lesson.course, "preview": True})
    access, refused = _guard(request, lesson)
    if refused:
        return refused
    services.lesson_open(user=request.user, lesson=lesson)
    access = selectors.lesson_access(user=request.user, lesson=lesson)
    return _lesson_response(request, lesson, access)


def _post_guard(request, lesson):
    if request.method != "POST":
        return None, HttpResponseNotAllowed(["POST"])
    return _guard(request, lesson)


def lesson_confirm(request, lesson):
    access, refused = _post_guard(request, lesson)
    if refused:
        return refused
    try:
        state = services.lesson_confirm(user=request.user, lesson=lesson)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(lesson.url)
    if state.completed:
        messages.success(request, _("Lesson complete."))
    else:
        messages.info(request, _("Marked as read. Read the handbook chapters listed below to complete this lesson."))
    return _after_lesson_action(request, lesson)


def _after_lesson_action(request, lesson):
    return redirect(lesson.url)


def video_progress(request, lesson):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return JsonResponse({"error": str(services.ERROR_NOT_ENROLLED)}, status=403)
    if not ratelimit.hit(f"courses:video:{request.user.pk}", limit=VIDEO_PROGRESS_LIMIT, window=60):
        return JsonResponse({"error": ERROR_TOO_MANY}, status=429)
    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
        state = services.video_progress_record(
            user=request.user, lesson=lesson, seconds=payload.get("seconds"), percent=payload.get("percent"))
    except (ValueError, RecursionError):
        return JsonResponse({"error": str(services.ERROR_BAD_SECONDS)}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    except ValidationError as exc:
        return JsonResponse({"error": _error_text(exc)}, status=400)
    progress = completion.course_progress(user=request.user, course=lesson.course)
    return JsonResponse({
        "status": state.status,
        "watched_percent": state.watched_percent,
        "watched_seconds": round(selectors.video_seconds_credited(user=request.user, lesson=lesson), 1),
        "completed": state.completed,
        "course_percent": progress.percent,
    })


# --- Quiz -------------------------------------------------------------------------------------------------------


def quiz_start(request, lesson):
    access, refused = _post_guard(request, lesson)
    if refused:
        return refused
    try:
        services.quiz_attempt_start(user=request.user, lesson=lesson)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    return redirect(lesson.url + "#quiz")


def quiz_submit(request, lesson):
    access, refused = _post_guard(request, lesson)
    if refused:
        return refused
    try:
        attempt_id = int(request.POST.get("attempt", ""))
    except ValueError:
        messages.error(request, services.ERROR_NO_OPEN_ATTEMPT)
        return redirect(lesson.url)
    try:
        attempt = services.quiz_attempt_submit(user=request.user, lesson=lesson, attempt_id=attempt_id, data=request.POST)
    except ValidationError as exc:
        # Keep what the learner chose: re-render the form with their answers, the error and the questions to answer.
        chosen = {key[2:]: request.POST.getlist(key) for key in request.POST if key.startswith("q-")}
        unanswered = (exc.params or {}).get("ids", []) if hasattr(exc, "params") else []
        return _lesson_response(request, lesson, access, {
            "quiz_error": _error_text(exc), "chosen": chosen, "unanswered": unanswered,
        }, status=400)
    return redirect(lesson.url + f"attempts/{attempt.number}/")


def quiz_attempt_result(request, lesson, number):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # Only the learner's own attempts: another learner's number is simply not found.
    attempt = QuizAttempt.objects.filter(user=request.user, lesson=lesson, number=number, submitted_at__isnull=False).first()
    if attempt is None:
        raise Http404
    course = lesson.course
    progress = completion.course_progress(user=request.user, course=course)
    reveal_key = selectors.quiz_reveals_key(user=request.user, lesson=lesson)
    return TemplateResponse(request, "courses/quiz_result.html", {
        "page": lesson,
        "self": lesson,
        "course": course,
        "attempt": attempt,
        "review": services.quiz_review(attempt, reveal_key=reveal_key),
        "reveal_key": reveal_key,
        "progress": progress,
        "state": progress.state_of(lesson),
        "attempts_left": selectors.quiz_attempts_left(user=request.user, lesson=lesson),
    })
