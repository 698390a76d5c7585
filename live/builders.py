"""Live-session builders, used by the demo (live/demo.py) and the tests.

make_live_index(parent=None)            the /live/ index under the site's home page (created once)
make_live_session(parent=None, **kw)    a published session page; defaults: open (no registration needed), started five
                                        minutes ago, ends in two hours, post-moderation, no stream, two agenda topics.
    extra keywords: panelists=[Panelist…], moderators=[user or (user, "host"|"moderator")…],
                    agenda=[{"title":…, "detail":…} or "title"…]
make_panelist(**kw)                     a Panelist snippet
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from academy.pages import add_child_once, site_root
from live.models import AgendaTopic, LiveIndexPage, LiveSessionPage, Panelist, SessionModerator, SessionPanelist

_counter = itertools.count(1)

DEFAULT_AGENDA = [
    {"title": "开场:本次直播的安排", "detail": "主持人介绍嘉宾和提问方式。"},
    {"title": "问答:一线经验交流", "detail": "嘉宾回答学员的提问。"},
]


def make_live_index(parent=None) -> LiveIndexPage:
    existing = LiveIndexPage.objects.first()
    if existing is not None:
        return existing
    parent = parent or site_root()
    return add_child_once(parent, LiveIndexPage(
        title="直播课与专家连线", slug="live",
        intro="<p>在手机上参加直播课和专家连线：提问、点赞、参与投票，出勤计入课程学习。</p>",
    ))


def make_panelist(**overrides) -> Panelist:
    n = next(_counter)
    values = {"name": f"嘉宾{n}", "title": "社工师", "organisation": "联动学堂", "city": "武汉", "bio": "一线社会工作者。"}
    values.update(overrides)
    return Panelist.objects.create(**values)


def make_live_session(parent=None, **overrides) -> LiveSessionPage:
    parent = parent or make_live_index()
    panelists = overrides.pop("panelists", [])
    moderators = overrides.pop("moderators", [])
    agenda = overrides.pop("agenda", DEFAULT_AGENDA)
    publish = overrides.pop("publish", True)
    n = next(_counter)
    now = timezone.now()
    values = {
        "title": f"直播课 {n}",
        "slug": f"live-session-{n}-{now.strftime('%H%M%S%f')}",
        "kind": LiveSessionPage.Kind.LIVE_CLASS,
        "description": "<p>一次测试用的直播课。</p>",
        "start": now - timedelta(minutes=5),
        "end": now + timedelta(hours=2),
        "host_organisation": "联动学堂",
        "stream_kind": LiveSessionPage.StreamKind.NONE,
        "stream_url": "",
        "capacity": 0,
        "registration_required": False,
        "registration_open": True,
        "moderation_mode": LiveSessionPage.ModerationMode.POST,
    }
    values.update(overrides)
    page = LiveSessionPage(live=publish, **values)
    for i, panelist in enumerate(panelists):
        page.session_panelists.add(SessionPanelist(panelist=panelist, sort_order=i))
    for i, item in enumerate(agenda):
        item = {"title": item} if isinstance(item, str) else item
        page.agenda_topics.add(AgendaTopic(title=item["title"], detail=item.get("detail", ""), sort_order=i))
    for i, item in enumerate(moderators):
        user, role = item if isinstance(item, tuple) else (item, SessionModerator.Role.MODERATOR)
        page.session_moderators.add(SessionModerator(user=user, role=role, sort_order=i))
    parent.add_child(instance=page)
    if publish:
        page.save_revision().publish()
    else:
        page.save_revision()
    page.refresh_from_db()
    return page
