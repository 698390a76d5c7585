"""Batched room entry: the admission checks and personal snapshot parts of concurrent connects, read together.

A connect that arrives while no batch is being read goes at once (no added wait); connects that arrive meanwhile
are read together in the next batch, with live.selectors.joins's fixed number of queries. Under a join burst a
batch holds tens to hundreds of connects, so the database work per connect drops to a fraction of a query.
"""
from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async

from live.selectors.joins import room_admissions, room_personal_states


def _pick_by_user(answers, item):
    """The answer for `item` ((user, …) or a user) in answers keyed by user id."""
    return answers[_pk(item)]


class Batcher:
    """Collects (key, item) requests and answers each from one call of `load(key, items)` per key and batch;
    `pick(answers, item)` finds an item's answer. Used for every batched read of the room's connect path."""

    def __init__(self, load, pick=_pick_by_user):
        self.load = load
        self.pick = pick
        self.waiting: dict = {}
        self.running = False
        self.batches = 0

    async def ask(self, key, item):
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append((item, future))
        if not self.running:
            self.running = True
            asyncio.ensure_future(self._run())
        return await future

    async def _run(self):
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, {}
                for key, requests in batch.items():
                    self.batches += 1
                    try:
                        # Read-only, so off Channels' one database thread: the stages of a join burst overlap.
                        answers = await database_sync_to_async(self.load, thread_sensitive=False)(
                            key, [item for item, _ in requests])
                    except Exception as error:  # noqa: BLE001 - handed to every waiting connect
                        for _, future in requests:
                            if not future.done():
                                future.set_exception(error)
                        continue
                    for item, future in requests:
                        if not future.done():
                            future.set_result(self.pick(answers, item))
        finally:
            self.running = False


def _pk(item):
    user = item[0] if isinstance(item, tuple) else item
    return user.pk


def _load_admissions(session_id, users):
    return room_admissions(session_id=session_id, users=users)


def _load_personal(key, members):
    session, shared = key[1], key[2]
    return room_personal_states(session=session, members=members, shared=shared)


class _PersonalKey(tuple):
    """(session id, session, shared state): batches share a key while the shared state is the same object."""

    def __hash__(self):
        return hash((self[0], id(self[2])))

    def __eq__(self, other):
        return self[0] == other[0] and self[2] is other[2]


_batchers: dict = {}


def get_batcher(name, load, pick=_pick_by_user) -> Batcher:
    """This event loop's batcher called `name` (one loop per process in production; tests get a loop per test)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), name)
    batcher = _batchers.get(key)
    if batcher is None or batcher.loop is not loop:
        batcher = Batcher(load, pick)
        batcher.loop = loop
        _batchers[key] = batcher
    return batcher


async def admit(*, session_id: int, user):
    """The Admission `room_admission` would give, read in a batch with other connects."""
    return await get_batcher("admit", _load_admissions).ask(session_id, user)


async def personal_state(*, session, user, moderator: bool, shared: dict) -> dict:
    """What `room_personal_state` would give, read in a batch with other connects of the same room."""
    return await get_batcher("personal", _load_personal).ask(_PersonalKey((session.pk, session, shared)), (user, moderator))
