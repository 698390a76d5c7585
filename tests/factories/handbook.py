"""Handbook builders, shared by the tests and by `load_demo`.

- `make_handbook(parent=None, **overrides)`: the HandbookPage at /handbook/ (one per site; returned if it exists).
- `make_chapter(handbook, **overrides)`: a published ChapterPage under it (returned if its slug exists).
- `load_demo(*, users, log)`: the manual and its chapters from handbook/demo_content.py; demo-volunteer has read
  the first DEMO_VOLUNTEER_READ chapters. Idempotent.
"""
from __future__ import annotations

import datetime
import itertools

from handbook.demo_content import CHAPTERS, HANDBOOK
from handbook.models import ChapterPage, HandbookPage

from .pages import add_child_once, make_home

DEMO_VOLUNTEER_READ = 3  # demo-volunteer has read chapters 1–3 (the courses demo may rely on this)
_numbers = itertools.count(1)


def make_handbook(parent=None, **overrides) -> HandbookPage:
    existing = HandbookPage.objects.first()
    if existing is not None:
        return existing
    parent = parent or make_home()
    fields = {
        "title": "三社联动线上抗疫工作手册",
        "slug": "handbook",
        "edition": "第一版",
        "published_date": datetime.date(2020, 3, 1),
        "introduction": "<p>社区、社会组织和社会工作者协同行动的工作手册。</p>",
        "intended_readers": "社区工作者、社会工作者、社会组织工作人员和志愿者。",
    }
    fields.update(overrides)
    return add_child_once(parent, HandbookPage(**fields))


def make_chapter(handbook: HandbookPage, **overrides) -> ChapterPage:
    number = overrides.pop("number", None) or next(_numbers)
    fields = {
        "title": f"第{number}章 示例章节",
        "slug": f"chapter-{number}",
        "number": number,
        "summary": "本章介绍社区志愿服务的基本做法。",
        "audience": ["volunteers"],
        "body": [
            ("heading", "一、为什么要做"),
            ("paragraph", "<p>社区工作需要居民和志愿者共同参与。</p>"),
            ("heading", "二、怎样去做"),
            ("paragraph", "<p>先摸清需求，再分工协作。</p>"),
        ],
    }
    fields.update(overrides)
    fields["number"] = number
    return add_child_once(handbook, ChapterPage(**fields))


def load_demo(*, users, log):
    from handbook.services import chapter_mark_read

    handbook = make_handbook(
        title=HANDBOOK["title"],
        edition=HANDBOOK["edition"],
        published_date=datetime.date.fromisoformat(HANDBOOK["published"]),
        introduction=HANDBOOK["introduction"],
        intended_readers=HANDBOOK["intended_readers"],
    )
    created = 0
    for data in CHAPTERS:
        if not handbook.get_children().filter(slug=data["slug"]).exists():
            created += 1
        make_chapter(
            handbook, slug=data["slug"], number=data["number"], title=data["title"], summary=data["summary"],
            audience=list(data["audience"]), body=list(data["body"]),
        )
    if created:
        log(f"handbook: {created} chapters added")
    volunteer = users.get("demo-volunteer")
    if volunteer is not None:
        newly_read = 0
        for chapter in handbook.chapters()[:DEMO_VOLUNTEER_READ]:
            _record, was_created = chapter_mark_read(user=volunteer, chapter=chapter)
            newly_read += was_created
        if newly_read:
            log(f"handbook: demo-volunteer has read {newly_read} chapters")
