"""The room's event path: the ONLY module that talks to the channel layer.

A service that changes room state calls `emit(...)` inside its transaction. After the commit the event is built
once, serialised once per audience (participants, and moderators when they must see more), given the room's next
`seq` together with its entry in the history (live/history.py), and published ONCE to the group
`live-session-<pk>`, where each process's hub (live/hub.py) picks it up and fans it out.

Audiences: `public=SAME` (everyone gets the same text), `public=HIDDEN` (participants get a `hidden` placeholder with
the seq, moderators the event) or `public=<dict>` (participants get that data instead, e.g. an anonymous question
without its author).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from live.history import Entry, get_history
from live.hub import CLOSE_BANNED, group_name

logger = logging.getLogger(__name__)

SAME = "same"
HIDDEN = "hidden"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _rest(ts: int, name: str, data: dict) -> str:
    """An event's JSON without its opening brace and seq: `"ts":…,"name":…,"data":…}` (the history adds the seq)."""
    return dumps({"ts": ts, "name": name, "data": data})[1:]


def emit(*, session_id: int, name: str, data: dict, public=SAME) -> None:
    """Publish an event once the current transaction commits (at once outside a transaction)."""
    ts = now_ms()
    transaction.on_commit(partial(_publish_from_thread, session_id, name, data, public, ts))


def _publish_from_thread(session_id, name, data, public, ts) -> None:
    # Services run in a worker thread (database_sync_to_async); async_to_sync runs the publish on the server's loop.
    # The change is already committed: if Redis is unreachable the event is logged, not raised, so the sender still
    # gets its ack. No seq was taken, so no client sees a gap: the room resynchronises instead (`_resync`).
    try:
        async_to_sync(publish)(session_id=session_id, name=name, data=data, public=public, ts=ts)
    except Exception:  # noqa: BLE001
        logger.exception("live room %s: publishing %s failed; the room resynchronises once Redis answers",
                         session_id, name)
        try:
            async_to_sync(_resync_soon)(session_id)
        except Exception:  # noqa: BLE001
            logger.exception("live room %s: could not schedule the resynchronisation", session_id)


# A committed change whose event never got a seq (Redis did not answer) would stay unseen by every connected client
# (with a Redis that keeps its data the epoch does not change, so nothing tells them): once Redis answers again the
# room's history starts a new epoch, and every hub sends each of its connections a fresh snapshot in place.
RESYNC_FIRST_DELAY = 0.5
RESYNC_MAX_DELAY = 15.0
RESYNC_GIVE_UP = 600.0
_resyncs: set = set()  # the running tasks (the event loop keeps only weak references)


async def _resync_soon(session_id: int) -> None:
    task = asyncio.get_running_loop().create_task(_resync(session_id))
    _resyncs.add(task)
    task.add_done_callback(_resyncs.discard)


async def _resync(session_id: int) -> None:
    delay, waited = RESYNC_FIRST_DELAY, 0.0
    while True:
        try:
            epoch = await get_history().restart(session_id)
        except Exception:  # noqa: BLE001 - Redis still away: try again later
            if waited >= RESYNC_GIVE_UP:
                logger.error("live room %s: Redis did not answer for %d s; not resynchronised", session_id, waited)
                return
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, RESYNC_MAX_DELAY)
        else:
            logger.warning("live room %s: history restarted as epoch %s after a lost event", session_id, epoch)
            return


async def publish(*, session_id: int, name: str, data: dict, public=SAME, ts: int | None = None) -> Entry:
    ts = ts or now_ms()
    rest_moderator = _rest(ts, name, data)
    if public == SAME:
        rest_public, rest_moderator = rest_moderator, None
    elif public == HIDDEN:
        rest_public = _rest(ts, "hidden", {})
    else:
        rest_public = _rest(ts, name, public)
    entry, epoch = await get_history().append(session_id, rest_public, rest_moderator)
    await get_channel_layer().group_send(group_name(session_id), {
        "type": "live.event", "seq": entry.seq, "epoch": epoch, "p": entry.public,
        "m": entry.moderator if rest_moderator is not None else None,
    })
    return entry


async def publish_dirty(*, session_id: int, questions=(), polls=()) -> None:
    """Tell every process's hub which counters changed (sent as `counts` at the next tick)."""
    await get_channel_layer().group_send(group_name(session_id), {
        "type": "live.dirty", "q": sorted(questions), "p": sorted(polls),
    })


def kick(*, session_id: int, user_id: int, code: int = CLOSE_BANNED, session_key: str | None = None,
         moderators_only: bool = False) -> None:
    """After the commit, close every connection of `user_id` in the room, in every process (only those signed in
    with the Django session `session_key`, or only those with the moderators' stream, when given)."""
    message = {"type": "live.kick", "user": user_id, "code": code}
    if session_key is not None:
        message["session_key"] = session_key
    if moderators_only:
        message["moderators_only"] = True
    transaction.on_commit(partial(_kick_from_thread, session_id, user_id, message))


def _kick_from_thread(session_id, user_id, message) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group_name(session_id), message)
    except Exception:  # noqa: BLE001 - the ban stands: the user is refused on their next connect
        logger.exception("live room %s: disconnecting user %s failed", session_id, user_id)


def entrance_changed(*, session_id: int) -> None:
    """After the commit, have every process's hub forget the room's cached admission facts (live/admission.py)."""
    transaction.on_commit(partial(_entrance_from_thread, session_id))


def _entrance_from_thread(session_id) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group_name(session_id), {"type": "live.entrance"})
    except Exception:  # noqa: BLE001 - the cached facts expire within LIVE_ENTRANCE_TTL anyway
        logger.exception("live room %s: announcing changed admission facts failed", session_id)
