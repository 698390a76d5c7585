"""The JSON shapes of the room's objects (docs/live-protocol.md: Q, T, P, A), for events, acks and snapshots."""
from __future__ import annotations

from datetime import datetime


def ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def user_name(user) -> str:
    if user is None:
        return ""
    return getattr(user, "display_name", None) or user.get_full_name() or user.get_username()


def question(q, *, moderator: bool) -> dict:
    """Q. Participants never get the author of an anonymous question; moderators always do."""
    show_author = moderator or not q.anonymous
    return {
        "id": q.pk,
        "text": q.text,
        "author": {"id": q.author_id, "name": user_name(q.author)} if show_author else None,
        "anonymous": q.anonymous,
        "status": q.status,
        "highlighted": q.highlighted,
        "pinned": q.pinned,
        "topic": q.topic_id,
        "reply": q.reply or None,
        "replied_by": user_name(q.replied_by) if q.reply and q.replied_by_id else None,
        "votes": q.vote_count,
        "created": ms(q.created_at),
    }


def topic(t) -> dict | None:
    if t is None:
        return None
    return {"id": t.pk, "title": t.title, "detail": t.detail}


def poll(p, choices=None) -> dict | None:
    if p is None:
        return None
    choices = list(p.choices.all()) if choices is None else choices
    return {
        "id": p.pk,
        "question": p.question,
        "kind": p.kind,
        "status": p.status,
        "choices": [{"id": c.pk, "text": c.text, "votes": c.votes} for c in choices],
        "respondents": p.respondents,
    }


def announcement(a) -> dict:
    return {"id": a.pk, "text": a.text, "author": user_name(a.author), "created": ms(a.created_at)}
