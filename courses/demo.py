"""The courses' demo step: both courses of courses/demo_content.py, built with courses/builders.py; demo-volunteer
has finished 志愿者上岗培训 (readings with their handbook chapters, the quiz passed) and is part-way through
三社联动线上抗疫实务 (the first reading done, the video 40% watched). Everything demo-volunteer did goes through
the courses services, so completion is decided as for anyone. Idempotent.
"""
import json
import math
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from courses import services
from courses.builders import grant_organiser_permissions, make_course, make_course_index, make_lesson, make_video_document
from courses.completion import lesson_state
from courses.demo_content import COURSES
from courses.models import CoursePage, LessonPage, LessonProgress
from handbook.models import ChapterPage
from handbook.services import chapter_mark_read

DEMO_VIDEO_FILE = Path(__file__).resolve().parent / "demo_media" / "three-kinds-of-linkage.mp4"
DEMO_VOLUNTEER_WATCHED = 40  # percent of the demo video that demo-volunteer has watched in the unfinished course


def demo_video_seconds() -> int:
    """The committed demo video's real duration, written beside it by scripts/make_demo_video.py."""
    return json.loads(DEMO_VIDEO_FILE.with_suffix(".json").read_text())["seconds"]


def demo_video_label(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"


def demo_video_document():
    """The demo's short video: the committed MP4 made by scripts/make_demo_video.py (slides and a Mandarin
    narration); load_demo needs neither ffmpeg nor espeak-ng. Organisers replace it in the admin."""
    from wagtail.documents.models import Document

    existing = Document.objects.filter(title="演示视频：危机中的三种联动").first()
    if existing is not None:
        return existing
    return make_video_document(title="演示视频：危机中的三种联动", content=DEMO_VIDEO_FILE.read_bytes(),
                               name=DEMO_VIDEO_FILE.name)


def _live_session_page(slug: str):
    """The live session page with `slug` when the live app provides one (looked up by name: courses never imports live)."""
    from django.apps import apps

    try:
        model = apps.get_model("live", "LiveSessionPage")
    except LookupError:
        return None
    return model.objects.filter(slug=slug).first()


def build_demo_course(data: dict, *, parent=None) -> CoursePage:
    """A course and its lessons from a courses/demo_content.py entry (idempotent by slug)."""
    course = make_course(
        parent, title=data["title"], slug=data["slug"], summary=data["summary"], audience=data["audience"],
        hours_credited=Decimal(str(data["hours"])), learning_outcomes="\n".join(data["outcomes"]),
        certificate_enabled=data["certificate"],
    )
    for module in data["modules"]:
        for item in module["lessons"]:
            kind = item["kind"]
            fields = {"title": item["title"], "slug": item["slug"], "module": module["title"],
                      "estimated_minutes": item["minutes"], "body": item["body"]}
            if kind == LessonPage.Kind.READING:
                chapters = [ChapterPage.objects.filter(slug=slug).first() for slug in item.get("chapters", [])]
                fields["chapters"] = [chapter for chapter in chapters if chapter is not None]
            elif kind == LessonPage.Kind.VIDEO:
                seconds = demo_video_seconds()
                fields.update(video=demo_video_document(), required_percent=item["required_percent"],
                              estimated_minutes=math.ceil(seconds / 60),
                              body=item["body"].replace("{duration}", demo_video_label(seconds)))
            elif kind == LessonPage.Kind.QUIZ:
                fields.update(questions=item["questions"], pass_mark=item["pass_mark"],
                              max_attempts=item["max_attempts"], shuffle=item["shuffle"])
            elif kind == LessonPage.Kind.LIVE:
                fields.update(live_session=_live_session_page(item["live_session_slug"]),
                              minutes_required=item["minutes_required"])
            lesson = make_lesson(course, kind=kind, **fields)
            if kind == LessonPage.Kind.LIVE and lesson.live_session_id is None and fields["live_session"] is not None:
                lesson.live_session = fields["live_session"]  # the live app arrived after the first run
                lesson.save_revision().publish()
    return course


def _finish_lesson(user, lesson, *, log) -> None:
    """Record what demo-volunteer did in `lesson` through the services (so completion is decided as for anyone)."""
    if lesson_state(user=user, lesson=lesson).completed:
        return
    if lesson.kind == LessonPage.Kind.READING:
        for link in lesson.chapter_links.select_related("chapter"):
            chapter_mark_read(user=user, chapter=link.chapter)
        services.lesson_open(user=user, lesson=lesson)
        services.lesson_confirm(user=user, lesson=lesson)
    elif lesson.kind == LessonPage.Kind.QUIZ:
        attempt = services.quiz_attempt_start(user=user, lesson=lesson)
        key = {block.id: [i for i, c in enumerate(block.value["choices"]) if c["correct"]] for block in lesson.questions}
        services.quiz_attempt_submit(user=user, lesson=lesson, attempt_id=attempt.pk, data=key)
    log(f"courses: demo-volunteer finished “{lesson.title}”")


def load_demo(*, users, log):
    make_course_index()
    courses = {data["slug"]: build_demo_course(data) for data in COURSES}
    volunteer = users.get("demo-volunteer")
    if volunteer is None:
        return
    grant_organiser_permissions()
    for course in courses.values():
        _enrolment, created = services.enrolment_create(user=volunteer, course=course)
        if created:
            log(f"courses: demo-volunteer enrolled in “{course.title}”")
    # Finished: every lesson of 志愿者上岗培训 (readings with their handbook chapters, the quiz passed).
    onboarding = courses["volunteer-onboarding"]
    for lesson in onboarding.lessons().specific():
        _finish_lesson(volunteer, lesson, log=log)
    # Part-way: 三社联动线上抗疫实务 — the first reading done, the video 40% watched, nothing else yet.
    practice = courses["sanshe-online-practice"]
    lessons = list(practice.lessons().specific())
    _finish_lesson(volunteer, lessons[0], log=log)
    video = next(lesson for lesson in lessons if lesson.kind == LessonPage.Kind.VIDEO)
    if not LessonProgress.objects.filter(user=volunteer, lesson=video, watched_percent__gte=DEMO_VOLUNTEER_WATCHED).exists():
        services.lesson_open(user=volunteer, lesson=video)
        # Progress is credited no faster than the media plays: the viewing started the video's length ago.
        services.video_progress_record(user=volunteer, lesson=video, seconds=0,
                                       now=timezone.now() - timedelta(seconds=demo_video_seconds()))
        services.video_progress_record(user=volunteer, lesson=video, percent=DEMO_VOLUNTEER_WATCHED)
        log(f"courses: demo-volunteer watched {DEMO_VOLUNTEER_WATCHED}% of “{video.title}”")
