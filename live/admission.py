"""A join's database work: admission, the snapshot's parts and the attendance span, as ONE item of the group commit.

A connect (live/consumers.py `_join`) hands a `JoinRequest` to this process's group commit (live/batching.py), the
same batches that carry votes, poll answers and attendance spans. Each batch is one thread hop and one transaction
(live.services.room_batch.room_batch_write), which calls `joins_read` for the batch's joins:
- the users of the connections' session keys (live/auth.py's `load_users`: two queries for the batch; academy/asgi.py
  defers the look-up from the middleware to here, so a connect costs one batch, not two);
- the room's shared admission facts (live.selectors.access.RoomFacts: the published session, its view restrictions,
  bans, named moderators, who holds the moderators' permission) come from the room's `Entrance` on the hub, read
  only when missing or older than `LIVE_ENTRANCE_TTL` (5 s), once per room and batch;
- per batch, what is each user's own: their registrations (one query), their view restrictions (per user, only on
  restricted pages), then live.selectors.access's rules decide;
- the shared part of the snapshot comes from the Entrance when it is still current (same hub `version`), else it is
  read once per room, audience and batch; the admitted users' personal parts take three or four queries per audience;
- the admitted users' attendance spans are inserted with the batch's other spans.

Why the group commit rather than a batcher of its own: under a join burst the room asks the database for the user
look-ups (live/auth.py), admissions, snapshots and spans, and during a session for votes and answers too. With one
mechanism, everything asked during a few milliseconds shares one round trip, one batch is in flight at a time (so
the database sees a steady stream of large batches, not many small competing ones), and there is one place to look
when a join is slow.

The cache follows the facts: a `live.kick` (a ban, a lost moderator role) or a `live.entrance` message (a ban or a
session's moderator saved or deleted: `entrance_changed` below, sent through live.events) makes every process's hub
forget the room's facts; what no signal reports (a permission granted, a page's view restrictions edited, the page
unpublished) is seen within LIVE_ENTRANCE_TTL.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from live.auth import ANONYMOUS, load_users
from live.models import Ban, SessionModerator
from live.selectors.access import RoomFacts, join_facts, may_join, may_moderate, registered_among, room_facts
from live.selectors.room import (
    CLOSE_BANNED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_PRIVATE, CLOSE_UNAUTHENTICATED, room_personal_states,
    room_restrictions_pass, room_shared_state,
)


def entrance_ttl() -> float:
    return getattr(settings, "LIVE_ENTRANCE_TTL", 5.0)


def audience(moderator: bool) -> str:
    return "moderator" if moderator else "participant"


class Entrance:
    """What every join of one room reads alike, cached on the room's hub (`RoomHub.entrance`)."""

    __slots__ = ("facts", "facts_read", "generation", "shared")

    def __init__(self):
        self.facts: RoomFacts | None = None
        self.facts_read = 0.0
        self.generation = 0  # bumped by `forget`: facts read before it are not stored
        self.shared: dict = {}  # audience ("participant", "moderator") -> (hub version, shared snapshot part)

    def current_facts(self) -> RoomFacts | None:
        if self.facts is not None and time.monotonic() - self.facts_read < entrance_ttl():
            return self.facts
        return None

    def keep_facts(self, facts: RoomFacts, *, generation: int, read_at: float) -> None:
        if generation == self.generation:
            self.facts, self.facts_read = facts, read_at

    def forget(self) -> None:
        """The room's admission facts changed (a ban, a moderator named or removed, a role lost)."""
        self.facts = None
        self.generation += 1

    def current_shared(self, version: int) -> dict:
        return {audience: state for audience, (seen, state) in self.shared.items() if seen == version}


@dataclass
class Joined:
    """What a join learnt in its batch."""

    refusal: int | None = None  # a close code when refused
    user: object = None  # the connection's user (looked up in the batch when the request had only a session key)
    undecided: bool = False  # the batch could not decide the session key's user: Channels' get_user must
    left: bool = False  # the client had gone when the batch ran: nothing was read or written for it
    session: object = None
    moderator: bool = False
    shared: dict | None = None  # the snapshot's shared part (None when no snapshot was asked for)
    personal: dict | None = None


@dataclass
class JoinRequest:
    """One connect, as an item of the group commit."""

    session_id: int
    user: object  # None: look it up from `session_key` in the batch (live.auth.load_users)
    django_session: object  # the connection's own Django session (view restrictions read it)
    connection: str | None  # its attendance span is opened when admitted (None: open already)
    snapshot: bool  # read the snapshot's parts too (not for a connection resuming from the history)
    process: str = ""  # the span's process and start (set by the group commit)
    at: object = None
    facts: RoomFacts | None = None  # the hub's current facts, or None: read them in the batch
    shared: dict = field(default_factory=dict)  # audience -> the hub's current shared snapshot part
    session_key: str | None = None
    fresh_facts: RoomFacts | None = None  # facts read in the batch (to keep on the hub)
    result: Joined | None = None
    error: object = None
    left: object = None  # a function: has the client gone already? (then the batch skips this join)


def joins_read(requests: list[JoinRequest]) -> list[JoinRequest]:
    """Decide and read the batch's joins (inside the batch's transaction); returns those whose attendance span is to
    be opened (admitted, with a connection)."""
    _users_look_up([r for r in requests if r.user is None])
    by_room: dict[int, list[JoinRequest]] = {}
    for request in requests:
        if request.result is None:
            by_room.setdefault(request.session_id, []).append(request)
    opens = []
    for session_id, joins in by_room.items():
        facts = next((r.facts for r in joins if r.facts is not None), None)
        if facts is None:
            facts = room_facts(session_id=session_id)
            for request in joins:
                request.fresh_facts = facts
        opens += _room_joins_read(facts, joins)
    return opens


def _users_look_up(requests: list[JoinRequest]) -> None:
    """The users of the requests' session keys: two queries for the batch (live/auth.py's copy of Django's rules)."""
    if not requests:
        return
    users = load_users(list(dict.fromkeys(r.session_key for r in requests)))
    for request in requests:
        user = users.get(request.session_key)
        if user is None:
            request.result = Joined(undecided=True)
        elif user == ANONYMOUS:
            request.result = Joined(refusal=CLOSE_UNAUTHENTICATED)
        else:
            request.user = user


def _room_joins_read(facts: RoomFacts, joins: list[JoinRequest]) -> list[JoinRequest]:
    session = facts.session
    if session is None:
        for request in joins:
            request.result = Joined(refusal=CLOSE_NOT_FOUND, user=request.user)
        return []
    registered = set()
    if session.registration_required:
        registered = registered_among(session=session, user_ids={r.user.pk for r in joins})
    admitted: list[JoinRequest] = []
    for request in joins:
        user = request.user
        user_facts = join_facts(facts, user, registered=user.pk in registered)
        if user_facts.signed_in and user_facts.banned:
            request.result = Joined(refusal=CLOSE_BANNED, user=user, session=session)
        elif not may_join(user_facts):
            request.result = Joined(refusal=CLOSE_FORBIDDEN, user=user, session=session)
        elif facts.restrictions and not room_restrictions_pass(restrictions=facts.restrictions, user=user,
                                                               django_session=request.django_session):
            request.result = Joined(refusal=CLOSE_PRIVATE, user=user, session=session)
        else:
            request.result = Joined(user=user, session=session, moderator=may_moderate(user_facts))
            admitted.append(request)
    audiences: dict[bool, list[JoinRequest]] = {}
    for request in admitted:
        if request.snapshot:
            audiences.setdefault(request.result.moderator, []).append(request)
    for moderator, members in audiences.items():
        name = audience(moderator)
        shared = next((r.shared[name] for r in members if name in r.shared), None)
        if shared is None:
            shared = room_shared_state(session=session, moderator=moderator)
        personal = room_personal_states(session=session, members=[(r.user, moderator) for r in members],
                                        shared=shared)
        for request in members:
            request.result.shared, request.result.personal = shared, personal[request.user.pk]
    return [request for request in admitted if request.connection is not None]


# --- keeping every process's cached facts true ------------------------------------------------------------------
def _room_changed(sender, instance, **kwargs):
    from live import events

    events.entrance_changed(session_id=instance.session_id if sender is Ban else instance.page_id)


def connect_signals() -> None:
    for model in (Ban, SessionModerator):
        post_save.connect(_room_changed, sender=model, dispatch_uid=f"live.admission.{model.__name__}.saved")
        post_delete.connect(_room_changed, sender=model, dispatch_uid=f"live.admission.{model.__name__}.deleted")
