"""After the session: draft the recap page from the agenda and the answered questions.

The draft is a LiveRecapPage under the session page, left unpublished for the organiser to edit and publish in
Wagtail. One recap per session (max_count_per_parent = 1): asking again returns the existing one.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.html import escape
from django.utils.translation import gettext as _

from live.models import LiveRecapPage, LiveSessionPage


@dataclass
class AnsweredQuestion:
    text: str
    asked_by: str  # empty for an anonymous question
    reply: str
    replied_by: str
    topic_id: int | None


def answered_questions(session: LiveSessionPage) -> list[AnsweredQuestion]:
    """The room's answered questions with their replies (authors of anonymous ones stay hidden)."""
    from live.selectors.room import answered_questions as room_answered_questions

    return [
        AnsweredQuestion(
            text=q.text,
            asked_by="" if q.anonymous else q.author.display_name,
            reply=q.reply,
            replied_by=q.replied_by.display_name if q.replied_by else "",
            topic_id=q.topic_id,
        )
        for q in room_answered_questions(session)
    ]


def recap_body(*, topics: list[dict], answers: list[AnsweredQuestion], other_heading: str) -> list[tuple]:
    """StreamField data: each topic (title, summary HTML) followed by its answers; unassigned answers last."""
    body: list[tuple] = []
    by_topic: dict[int | None, list[AnsweredQuestion]] = {}
    for answer in answers:
        by_topic.setdefault(answer.topic_id, []).append(answer)
    known = {topic.get("id") for topic in topics}
    for topic in topics:
        body.append(("topic", {"title": topic["title"], "summary": topic.get("summary", "")}))
        for answer in by_topic.get(topic.get("id"), []):
            body.append(("answer", _answer_value(answer)))
    rest = [a for key, items in by_topic.items() if key not in known or key is None for a in items]
    if rest:
        body.append(("topic", {"title": other_heading, "summary": ""}))
        body.extend(("answer", _answer_value(a)) for a in rest)
    return body


def _answer_value(answer: AnsweredQuestion) -> dict:
    return {"question": answer.text, "asked_by": answer.asked_by, "reply": answer.reply, "replied_by": answer.replied_by}


def recap_draft_create(*, session: LiveSessionPage, user) -> tuple[LiveRecapPage, bool]:
    """Create the draft recap of `session` (or return the one that exists); returns (page, created)."""
    with transaction.atomic():
        session = LiveSessionPage.objects.select_for_update(of=("self",)).get(pk=session.pk)
        existing = LiveRecapPage.objects.child_of(session).first()
        if existing is not None:
            return existing, False
        topics = [
            {"id": topic.pk, "title": topic.title, "summary": f"<p>{escape(topic.detail)}</p>" if topic.detail else ""}
            for topic in session.agenda_topics.all()
        ]
        body = recap_body(topics=topics, answers=answered_questions(session), other_heading=_("Other questions"))
        recap = LiveRecapPage(
            title=_("Recap: %(title)s") % {"title": session.title},
            slug="recap",
            intro="",
            body=body,
            live=False,
            owner=user,
        )
        session.add_child(instance=recap)
        recap.save_revision(user=user, log_action=True)
    return recap, True
