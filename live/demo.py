"""The live app's demo step, from live/demo_content.py with live/builders.py (idempotent):

- `sessions_load_demo`: the past expert panel with its recap page, and the upcoming class a few evenings from now
  (demo-volunteer and demo-socialworker registered);
- `room_load_demo`: the past panel's questions, its audience's votes and the panelists' replies;
- `load_demo`: both, in that order.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from academy.accounts.models import User
from live import demo_content
from live.builders import make_live_index, make_live_session
from live.demo_content import PANELISTS, PAST_PANEL
from live.models import LiveRecapPage, LiveSessionPage, Panelist, Question, Registration, Vote
from live.services.recap import AnsweredQuestion, recap_body


def _shanghai(value: str):
    return datetime.fromisoformat(value)


def ensure_panelists() -> dict:
    panelists = {}
    for item in demo_content.PANELISTS:
        values = {k: item[k] for k in ("title", "organisation", "city", "bio")}
        panelist, _ = Panelist.objects.get_or_create(name=item["name"], defaults=values)
        panelists[item["key"]] = panelist
    return panelists


def demo_recap_body(session: LiveSessionPage) -> list:
    """The past panel's recap: the five topics with their summaries and the answered questions with replies."""
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
    shanghai = ZoneInfo("Asia/Shanghai")
    day = (timezone.now().astimezone(shanghai) + timedelta(days=days)).date()
    return datetime.combine(day, time(19, 30), tzinfo=shanghai)


def make_demo_upcoming_class(*, index=None, moderator=None, attendees=()) -> LiveSessionPage:
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


def sessions_load_demo(*, users, log):
    """The past panel (with its recap) and the upcoming class; idempotent."""
    before = (LiveSessionPage.objects.count(), LiveRecapPage.objects.count())
    index = make_live_index()
    past = make_demo_past_panel(index=index, moderator=users.get("demo-moderator"))
    upcoming = make_demo_upcoming_class(
        index=index, moderator=users.get("demo-moderator"),
        attendees=[users[name] for name in ("demo-volunteer", "demo-socialworker") if name in users],
    )
    if (LiveSessionPage.objects.count(), LiveRecapPage.objects.count()) != before:
        log(f"live sessions: {past.url} (with recap), {upcoming.url}")


# --- the past panel's room -----------------------------------------------------------------------------------
def _fictional_user(username: str, real_name: str, role: str = User.Role.VOLUNTEER) -> User:
    """A fictional member of the past panel's audience (names from live/demo_content.py). They never log in: no
    usable password (which also keeps load_demo from hashing dozens of them)."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"real_name": real_name, "role": role, "email": f"{username}@example.org"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _participant(name: str, index: int) -> User:
    return _fictional_user(f"panel-guest-{index:02d}", name, User.Role.SOCIAL_WORKER)


def room_load_demo(*, users, log):
    """The past expert panel's questions, votes and panelists' replies; idempotent (a second run changes nothing)."""
    session = LiveSessionPage.objects.filter(slug=PAST_PANEL["slug"]).first()
    if session is None:
        log("live room: the past panel does not exist yet; questions skipped")
        return
    if Question.objects.filter(session=session).exists():
        return
    names = {p["key"]: p["name"] for p in PANELISTS}
    topics = list(session.agenda_topics.order_by("sort_order", "pk"))
    authors = {}
    for item in PAST_PANEL["questions"]:
        if item["author"] not in authors:
            authors[item["author"]] = _participant(item["author"], len(authors) + 1)
    voters = list(authors.values())
    # Votes beyond the named participants come from quiet audience members (fictional too).
    audience_size = max(item["votes"] for item in PAST_PANEL["questions"])
    audience = [_fictional_user(f"panel-audience-{i:03d}", f"听众{i}") for i in range(1, audience_size + 1)]
    moderator = users.get("demo-moderator")
    for item in PAST_PANEL["questions"]:
        question = Question.objects.create(
            session=session, author=authors[item["author"]], text=item["text"], anonymous=item["anonymous"],
            status=Question.Status.ANSWERED if item["answered"] else Question.Status.APPROVED,
            topic=topics[item["topic"]] if item["topic"] < len(topics) else None,
            reply=(f"{names[item['reply_by']]}：{item['reply']}" if item["reply"] else ""),
            replied_by=moderator if item["reply"] else None,
        )
        pool = (voters + audience)
        chosen = [u for u in pool if u.pk != question.author_id][: item["votes"]]
        Vote.objects.bulk_create([Vote(question=question, user=u) for u in chosen])
        question.vote_count = len(chosen)
        question.save(update_fields=["vote_count"])
    log(f"live room: {len(PAST_PANEL['questions'])} questions of the past panel with votes and replies")


def load_demo(*, users, log):
    sessions_load_demo(users=users, log=log)
    room_load_demo(users=users, log=log)
