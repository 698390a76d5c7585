"""Course builders shared by the tests and by `load_demo`.

make_course_index() → the /courses/ catalogue; make_course(parent=None, **overrides) → a published course;
make_lesson(course, kind=..., **overrides) → a published lesson; enrol(user, course) → an Enrolment.
"""
import json
import math
import uuid
from decimal import Decimal
from pathlib import Path

import courses

from django.utils.text import slugify

from courses.models import CourseIndexPage, CoursePage, Enrolment, LessonPage, LessonProgress

from .pages import add_child_once, make_home

DEFAULT_QUESTIONS = [
    {
        "text": "志愿者上岗前发现自己发热，应该怎么做？",
        "kind": "single",
        "choices": [
            {"text": "不上岗并告知带队人", "correct": True},
            {"text": "照常上岗", "correct": False},
            {"text": "不告诉任何人", "correct": False},
        ],
        "explanation": "带病上岗会把风险带给居民和同伴。",
    },
    {
        "text": "下列哪些做法能保护居民信息？（多选）",
        "kind": "multiple",
        "choices": [
            {"text": "名单只用于本次任务", "correct": True},
            {"text": "把名单截图转发到其他群", "correct": False},
            {"text": "任务结束后删除名单", "correct": True},
        ],
        "explanation": "居民信息只为服务目的使用，用完即删。",
    },
]


def questions_stream(questions: list[dict]) -> str:
    """Question dicts (demo_content format) → a StreamField value (raw JSON) with stable block ids."""
    return json.dumps([
        {"type": "question", "value": {
            "text": q["text"],
            "kind": q.get("kind", "single"),
            "choices": [{"text": c["text"], "correct": bool(c.get("correct"))} for c in q["choices"]],
            "explanation": q.get("explanation", ""),
        }, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, q["text"]))}
        for q in questions
    ], ensure_ascii=False)


def make_course_index(home=None) -> CourseIndexPage:
    existing = CourseIndexPage.objects.first()
    if existing is not None:
        return existing
    home = home or make_home()
    return add_child_once(home, CourseIndexPage(title="课程", slug="courses", intro="<p>短小实用的实务课程，学完可获得培训证书。</p>"))


def make_course(parent=None, **overrides) -> CoursePage:
    parent = parent or make_course_index()
    title = overrides.pop("title", None) or f"课程 {uuid.uuid4().hex[:6]}"
    fields = {
        "title": title,
        "slug": overrides.pop("slug", None) or slugify(title, allow_unicode=False) or f"course-{uuid.uuid4().hex[:8]}",
        "summary": "一门短小的实务课程。",
        "audience": "社区志愿者",
        "hours_credited": Decimal("2.0"),
        "learning_outcomes": "了解岗位职责\n掌握基本防护",
        "certificate_enabled": True,
    }
    fields.update(overrides)
    return add_child_once(parent, CoursePage(**fields))


def make_lesson(course: CoursePage, kind: str = LessonPage.Kind.READING, **overrides) -> LessonPage:
    """A published lesson under `course` (appended last). Quizzes get DEFAULT_QUESTIONS unless `questions` is given."""
    chapters = overrides.pop("chapters", None)
    questions = overrides.pop("questions", None)
    title = overrides.pop("title", None) or f"{LessonPage.Kind(kind).label} {uuid.uuid4().hex[:6]}"
    fields = {
        "title": title,
        "slug": overrides.pop("slug", None) or f"lesson-{uuid.uuid4().hex[:8]}",
        "kind": kind,
        "body": "<p>请认真阅读本课内容。</p>",
    }
    if kind == LessonPage.Kind.QUIZ:
        fields["questions"] = questions_stream(questions if questions is not None else DEFAULT_QUESTIONS)
    if kind == LessonPage.Kind.VIDEO and "video" not in overrides and "embed_url" not in overrides:
        fields["embed_url"] = "https://example.org/video/1"
    prerequisites = overrides.pop("prerequisites", None)
    fields.update(overrides)
    lesson = add_child_once(course, LessonPage(**fields))
    changed = False
    if prerequisites is not None:
        lesson.prerequisites.set(prerequisites)
        changed = True
    if chapters is not None:
        changed = _set_chapters(lesson, chapters) or changed
    if changed:
        lesson.save_revision().publish()
    return lesson


def _set_chapters(lesson, chapters) -> bool:
    """Link handbook chapters to a reading lesson (available once the handbook app provides chapters)."""
    from courses.models import LessonChapter

    wanted = [chapter.pk for chapter in chapters]
    if [link.chapter_id for link in lesson.chapter_links.all()] == wanted:
        return False
    lesson.chapter_links = [LessonChapter(chapter_id=pk, sort_order=i) for i, pk in enumerate(wanted)]
    return True


def enrol(user, course: CoursePage, **kwargs) -> Enrolment:
    enrolment, _ = Enrolment.objects.get_or_create(user=user, course=course, defaults=kwargs)
    return enrolment


def make_video_document(title: str = "课程视频", content: bytes = b"\x00" * 16, name: str = "lesson.mp4"):
    """A Wagtail document holding a video file (the root collection is created when a flushed database lacks it)."""
    from django.core.files.base import ContentFile
    from wagtail.models import Collection
    from wagtail.documents.models import Document

    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    return Document.objects.create(title=title, file=ContentFile(content, name=name), collection=root)


def grant_organiser_permissions() -> None:
    """Organisers hold the courses permissions of migration 0003 (a transactional test may have flushed them)."""
    from importlib import import_module

    from django.apps import apps

    from .accounts import ensure_groups

    ensure_groups()
    import_module("courses.migrations.0003_organiser_permissions").grant(apps, None)


# --- Demo -------------------------------------------------------------------------------------------------------

DEMO_VIDEO_FILE = Path(courses.__file__).resolve().parent / "demo_media" / "three-kinds-of-linkage.mp4"
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
    from handbook.models import ChapterPage

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
    from courses import services
    from courses.completion import lesson_state
    from handbook.services import chapter_mark_read

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
    from courses import services
    from courses.demo_content import COURSES

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
        services.video_progress_record(user=volunteer, lesson=video, percent=DEMO_VOLUNTEER_WATCHED)
        log(f"courses: demo-volunteer watched {DEMO_VOLUNTEER_WATCHED}% of “{video.title}”")
