"""Handbook builders, used by the demo (handbook/demo.py) and the tests.

- `make_handbook(parent=None, **overrides)`: the HandbookPage at /handbook/ (one per site; returned if it exists),
  under the site's home page unless `parent` is given.
- `make_chapter(handbook, **overrides)`: a published ChapterPage under it (returned if its slug exists).
"""
from __future__ import annotations

import datetime
import itertools

from academy.pages import add_child_once, site_root
from handbook.models import ChapterPage, HandbookPage

_numbers = itertools.count(1)


def make_handbook(parent=None, **overrides) -> HandbookPage:
    existing = HandbookPage.objects.first()
    if existing is not None:
        return existing
    parent = parent or site_root()
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
