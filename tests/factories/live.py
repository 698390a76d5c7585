"""Live-session builders shared by the tests and by `load_demo`.

make_live_index(parent=None)            the /live/ index under the home page (created once)
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

from live.models import AgendaTopic, LiveIndexPage, LiveSessionPage, Panelist, SessionModerator, SessionPanelist
from tests.factories.pages import add_child_once, make_home

_counter = itertools.count(1)

DEFAULT_AGENDA = [
    {"title": "开场:本次直播的安排", "detail": "主持人介绍嘉宾和提问方式。"},
    {"title": "问答:一线经验交流", "detail": "嘉宾回答学员的提问。"},
]


def make_live_index(parent=None) -> LiveIndexPage:
    existing = LiveIndexPage.objects.first()
    if existing is not None:
        return existing
    parent = parent or make_home()
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


# --- demo content ------------------------------------------------------------------------------------------------
def _shanghai(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


def ensure_panelists() -> dict:
    from live import demo_content

    panelists = {}
    for item in demo_content.PANELISTS:
        values = {k: item[k] for k in ("title", "organisation", "city", "bio")}
        panelist, _ = Panelist.objects.get_or_create(name=item["name"], defaults=values)
        panelists[item["key"]] = panelist
    return panelists


def demo_recap_body(session: LiveSessionPage) -> list:
    """The past panel's recap: the five topics with their summaries and the answered questions with replies."""
    from live import demo_content
    from live.services.recap import AnsweredQuestion, recap_body

    data = demo_content.PAST_PANEL
    names = {p["key"]: p["name"] for p in demo_content.PANELISTS}
    topic_ids = [topic.pk for topic in session.agenda_topics.all()]
    topics = [
        {"id": topic_ids[i], "title": item["title"], "summary": data["topic_summaries"][i]}
        for i, item in enumerate(data["agenda"])
    ]
    answers = [
        AnsweredQuestion(
            text=q["text"], asked_by="" if q["anonymous"] else q["author"], reply=q["reply"],
            replied_by=names[q["reply_by"]], topic_id=topic_ids[q["topic"]],
        )
        for q in sorted(data["questions"], key=lambda q: -q["votes"])
        if q["answered"]
    ]
    return recap_body(topics=topics, answers=answers, other_heading="其他问题")


def make_demo_past_panel(*, index=None, moderator=None) -> LiveSessionPage:
    from live import demo_content
    from live.models import LiveRecapPage

    data = demo_content.PAST_PANEL
    index = index or make_live_index()
    session = LiveSessionPage.objects.child_of(index).filter(slug=data["slug"]).first()
    if session is None:
        panelists = ensure_panelists()
        session = make_live_session(
            parent=index, slug=data["slug"], title=data["title"], kind=data["kind"],
            start=_shanghai(data["start"]), end=_shanghai(data["end"]), host_organisation=data["host_organisation"],
            description=data["description"], agenda=data["agenda"],
            panelists=[panelists[key] for key in data["panelists"]],
            moderators=[moderator] if moderator else [], registration_required=False, registration_open=False,
            moderation_mode=LiveSessionPage.ModerationMode.PRE,
        )
    if not LiveRecapPage.objects.child_of(session).exists():
        recap = LiveRecapPage(title=f"回顾：{data['title']}", slug="recap", intro=data["recap_intro"],
                              body=demo_recap_body(session))
        session.add_child(instance=recap)
        recap.save_revision().publish()
    return session


def _next_evening(days: int = 3):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    day = (timezone.now().astimezone(shanghai) + timedelta(days=days)).date()
    return datetime.combine(day, time(19, 30), tzinfo=shanghai)


def make_demo_upcoming_class(*, index=None, moderator=None, attendees=()) -> LiveSessionPage:
    from live import demo_content
    from live.models import Registration

    data = demo_content.UPCOMING_CLASS
    index = index or make_live_index()
    session = LiveSessionPage.objects.child_of(index).filter(slug=data["slug"]).first()
    if session is None:
        panelists = ensure_panelists()
        start = _next_evening()
        session = make_live_session(
            parent=index, slug=data["slug"], title=data["title"], kind=data["kind"], start=start,
            end=start + timedelta(minutes=data["duration_minutes"]), host_organisation=data["host_organisation"],
            description=data["description"], agenda=data["agenda"],
            panelists=[panelists[key] for key in data["panelists"]],
            moderators=[(moderator, "host")] if moderator else [], registration_required=False,
            registration_open=True, capacity=0, moderation_mode=LiveSessionPage.ModerationMode.PRE,
        )
    elif session.is_past:  # a demo site loaded long ago: move the class to a few days from now again
        start = _next_evening()
        session.start, session.end = start, start + timedelta(minutes=data["duration_minutes"])
        session.save_revision().publish()
    for user in attendees:
        if not Registration.objects.active().filter(session=session, user=user).exists():
            Registration.objects.create(session=session, user=user)
    return session


def load_demo(*, users, log):
    from live.models import LiveRecapPage

    before = (LiveSessionPage.objects.count(), LiveRecapPage.objects.count())
    index = make_live_index()
    past = make_demo_past_panel(index=index, moderator=users.get("demo-moderator"))
    upcoming = make_demo_upcoming_class(
        index=index, moderator=users.get("demo-moderator"),
        attendees=[users[name] for name in ("demo-volunteer", "demo-socialworker") if name in users],
    )
    if (LiveSessionPage.objects.count(), LiveRecapPage.objects.count()) != before:
        log(f"live sessions: {past.url} (with recap), {upcoming.url}")
