"""A Redis outage while a moderator acts, with a Redis that keeps its data (append-only file): the change is
committed and acknowledged but its event cannot be numbered. Its epoch unchanged, nothing would tell connected
clients; the room must resynchronise them (a new epoch, and a snapshot in place that shows the change)."""
import asyncio
import shutil

import pytest

from live.models import Question
from tests.live.test_faults import (REDIS_URL, RedisServer, approve, build_room, connect_all,  # noqa: F401
                                    everyone_caught_up, start_room)
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_approval_acknowledged_while_redis_was_down_reaches_every_client(start_room, tmp_path):
    if not shutil.which("redis-server"):
        if REDIS_URL:
            pytest.fail("REDIS_URL is set, so this test needs redis-server (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (and REDIS_URL is not set)")
    redis = RedisServer(free_port(), "--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path))
    redis.start()
    try:
        session, moderator_cookie, people, pending, votable = build_room(participants=4, questions=4)
        room = start_room(2, REDIS_URL=f"redis://127.0.0.1:{redis.port}/0")
        path = f"/ws/live/{session.pk}/"

        async def scenario():
            moderator, clients = await connect_all(room.port, path, moderator_cookie, people)
            await approve(moderator, pending[0])
            first_epoch = moderator.epoch
            redis.kill()
            answer = await moderator.request({"type": "question.approve", "question": pending[1]}, attempts=1)
            redis.start()  # the same data: the same epoch
            acknowledged = {pending[0]} | ({pending[1]} if answer and answer["type"] == "ack" else set())
            for question_id in pending[2:]:
                await approve(moderator, question_id)
            approved = acknowledged | set(pending[2:])
            await everyone_caught_up(moderator, clients, approved)
            for client in [moderator, *clients]:
                await client.stop()
            return moderator, clients, acknowledged, approved, first_epoch

        moderator, clients, acknowledged, approved, first_epoch = asyncio.run(scenario())
    finally:
        redis.kill()
    assert pending[1] in acknowledged  # the approval during the outage was committed and acknowledged …
    assert approved <= set(Question.objects.filter(pk__in=pending, status="approved").values_list("pk", flat=True))
    assert moderator.epoch != first_epoch  # … so the room started a new epoch …
    for client in clients:
        assert approved <= client.approved and client.duplicates == 0, client.name  # … and everyone has seen it …
        assert client.resets >= 1 and client.connections == 1, (client.name, client.trail)  # … without reconnecting
