"""Course builders, used by the demo (courses/demo.py) and the tests.

make_course_index(home=None) → the /courses/ catalogue under the site's home page; make_course(parent=None,
**overrides) → a published course; make_lesson(course, kind=..., **overrides) → a published lesson;
questions_stream(questions) → a quiz's StreamField value; make_video_document(...) → a Wagtail document holding a
video; grant_organiser_permissions() → Organisers hold the courses permissions.
"""
import json
import uuid
from decimal import Decimal

from django.utils.text import slugify

from academy.accounts.builders import ensure_groups
from academy.pages import add_child_once, site_root
from courses.models import CourseIndexPage, CoursePage, LessonPage

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
    home = home or site_root()
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

    ensure_groups()
    import_module("courses.migrations.0003_organiser_permissions").grant(apps, None)
