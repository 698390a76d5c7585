"""Sequence numbers and the bounded history: gap-free seq, resume after a reconnect, snapshot when too old, the
hub's ordering, bans, and the bound on a slow client's queue."""
import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from live import events
from live.history import get_history
from live.hub import get_hub
from live.models import Question
from tests.factories.live import make_live_session
from tests.factories.live_room import (
    answers, barrier, command, event_numbered, make_question, receive, receive_through, receive_until,
    room_communicator, room_fixture, send_command,
)

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


@pytest.fixture
def session(moderator):
    return make_live_session(moderators=[moderator])


async def join(session, user, **kwargs):
    communicator, connected, _ = await room_communicator(session, user, **kwargs)
    assert connected
    return communicator


def events_of(messages):
    return [m for m in messages if m["type"] == "event"]


async def announce(mod, n, prefix="通知"):
    for i in range(n):
        assert (await command(mod, "announce", f"{prefix}{i}", text=f"{prefix}{i}"))["type"] == "ack"


async def until_seq(comm, seq):
    """Read `comm`'s messages until the event numbered `seq`: this process's hub has then fanned it out (with Redis,
    events come back through pub/sub some time after the acknowledgements)."""
    return await receive_until(comm, lambda message: message.get("type") == "event" and message["seq"] >= seq)


async def test_seq_has_no_gaps_when_several_moderators_act_at_once(session, moderator, organiser, volunteer):
    participant = await join(session, volunteer)
    snapshot = await receive(participant)
    mods = [await join(session, moderator), await join(session, organiser)]
    for mod in mods:
        await receive(mod)
    questions = await database_sync_to_async(lambda: [make_question(session, volunteer, f"问{i}")
                                                      for i in range(6)])()
    for i, q in enumerate(questions):
        await send_command(mods[i % 2], "question.pin", f"p{i}", question=q.pk, pinned=True)
    await asyncio.gather(*[answers(mods[k], [f"p{i}" for i in range(6) if i % 2 == k]) for k in range(2)])
    received = await receive_through(participant, event_numbered(snapshot["seq"] + 6))
    received += await barrier(participant, mods[0])  # and nothing after them
    seqs = [e["seq"] for e in events_of(received)]
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 7))
    for communicator in [participant] + mods:
        await communicator.disconnect()


async def test_resume_replays_exactly_the_missed_events(session, moderator, volunteer):
    mod = await join(session, moderator)
    await receive(mod)
    participant = await join(session, volunteer)
    await receive(participant)
    await announce(mod, 2, "早")
    seen = events_of(await receive_through(participant, event_numbered(2)))
    seen += events_of(await barrier(participant, mod))  # seq 3: nothing else came before it
    assert [e["seq"] for e in seen] == [1, 2]
    epoch = (await get_history().current(session.pk))[1]
    await participant.disconnect()
    await announce(mod, 3, "晚")
    back = await join(session, volunteer, since=3, epoch=epoch)
    replay = [await receive(back) for _ in range(4)]
    assert [m.get("seq") for m in replay] == [4, 5, 6, 6]
    assert [m["type"] for m in replay] == ["event", "event", "event", "resumed"]
    assert [m["data"]["announcement"]["text"] for m in replay[:3]] == ["晚0", "晚1", "晚2"]
    await announce(mod, 1, "新")
    after = events_of(await receive_through(back, event_numbered(7)))
    after += events_of(await barrier(back, mod))
    assert [e["seq"] for e in after] == [7]  # no duplicates of 4-6
    await back.disconnect()
    await mod.disconnect()


async def test_resume_with_nothing_missed_says_resumed_at_once(session, moderator, volunteer):
    mod = await join(session, moderator)
    await receive(mod)
    await announce(mod, 1)
    back = await join(session, volunteer, since=1)
    assert await receive(back) == {"type": "resumed", "seq": 1, "epoch": (await get_history().current(session.pk))[1]}
    await back.disconnect()
    await mod.disconnect()


async def test_resume_too_old_for_the_history_gets_a_snapshot(session, moderator, volunteer, settings):
    settings.LIVE_HISTORY_SIZE = 3
    await get_history().clear()
    mod = await join(session, moderator)
    await receive(mod)
    await announce(mod, 6)
    await until_seq(mod, 6)
    back = await join(session, volunteer, since=1)
    snapshot = await receive(back)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 6
    assert [a["text"] for a in snapshot["announcements"]] == [f"通知{i}" for i in range(6)]
    await back.disconnect()
    await mod.disconnect()


async def test_resume_from_another_epoch_or_the_future_gets_a_snapshot(session, moderator, volunteer):
    mod = await join(session, moderator)
    await receive(mod)
    await announce(mod, 2)
    await until_seq(mod, 2)
    other_epoch = await join(session, volunteer, since=1, epoch="123")
    assert (await receive(other_epoch))["type"] == "snapshot"
    await other_epoch.disconnect()
    future = await join(session, volunteer, since=50)
    first = await receive(future)
    assert first["type"] == "snapshot" and first["seq"] == 2
    await future.disconnect()
    await mod.disconnect()


async def test_hub_delivers_in_seq_order_and_fills_a_gap_from_the_history(session, volunteer):
    participant = await join(session, volunteer)
    await receive(participant)
    await receive_until(participant, lambda m: m["type"] == "counts" and m["participants"] == 1, timeout=5)
    hub = get_hub(session.pk)
    history = get_history()
    entries = []
    for i in range(3):
        entry, epoch = await history.append(session.pk, events._rest(1, "announcement", {"n": i}), None)
        entries.append(entry)
    hub.on_event(entries[2], epoch)  # early: waits (had it gone out, it would come first below)
    hub.on_event(entries[0], epoch)  # 1 goes out; 2 is missing, read from the history after GAP_WAIT
    messages = [json.loads(await participant.receive_from()) for _ in range(3)]
    assert [m["seq"] for m in messages] == [1, 2, 3]
    assert [m["data"]["n"] for m in messages] == [0, 1, 2]
    entry, epoch = await history.append(session.pk, events._rest(1, "announcement", {"n": 3}), None)
    hub.on_event(entries[1], epoch)  # late duplicate: dropped
    hub.on_event(entry, epoch)  # the next event: delivered in seq order, so a duplicate would come before it
    later = await receive_through(participant, event_numbered(4))
    assert [(m["seq"], m["data"]["n"]) for m in events_of(later)] == [(4, 3)]
    await participant.disconnect()


async def test_banned_user_is_disconnected_and_cannot_come_back(session, moderator, volunteer, socialworker):
    mod = await join(session, moderator)
    await receive(mod)
    target = await join(session, volunteer)
    await receive(target)
    bystander = await join(session, socialworker)
    await receive(bystander)
    ack = await command(mod, "user.ban", "b", user=volunteer.pk, reason="发布广告")
    assert ack == {"type": "ack", "id": "b", "user": volunteer.pk}
    closed = await receive_until_close(target)
    assert closed == 4410
    to_mod = await receive_until(mod, lambda m: m.get("type") == "event")
    assert to_mod["name"] == "user.banned" and to_mod["data"]["user"]["id"] == volunteer.pk
    to_bystander = await receive_until(bystander, lambda m: m.get("type") == "event")
    assert to_bystander["name"] == "hidden" and to_bystander["seq"] == to_mod["seq"]
    again, _, _ = await room_communicator(session, volunteer)
    assert (await again.receive_output())["code"] == 4410
    assert (await command(mod, "user.ban", "c", user=moderator.pk))["code"] == "forbidden"
    await mod.disconnect()
    await bystander.disconnect()


async def receive_until_close(communicator, timeout=3):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        message = await communicator.receive_output(timeout=deadline - loop.time())
        if message["type"] == "websocket.close":
            return message.get("code")
    raise AssertionError("not closed")


class StalledClient:
    """An ASGI wrapper whose client stops reading after its first message: `send` blocks until released."""

    def __init__(self, app):
        self.app = app
        self.release = asyncio.Event()
        self.sent = 0

    async def __call__(self, scope, receive, send):
        async def slow_send(message):
            if message["type"] == "websocket.send":
                self.sent += 1
                if self.sent > 1:
                    await self.release.wait()
            await send(message)
        await self.app(scope, receive, slow_send)


async def test_a_client_that_stops_reading_is_disconnected_at_the_queue_bound(session, moderator, volunteer, settings):
    from academy.asgi import application

    settings.LIVE_OUTBOX_LIMIT = 5
    stalled = StalledClient(application)
    slow, connected, _ = await room_communicator(session, volunteer, application=stalled)
    assert connected
    mod = await join(session, moderator)
    await receive(mod)
    await announce(mod, 10)
    await until_seq(mod, 10)
    hub = get_hub(session.pk)
    assert all(outlet.user_id != volunteer.pk for outlet in hub.outlets)  # dropped, memory freed
    stalled.release.set()
    codes = []
    while True:
        message = await slow.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            codes.append(message["code"])
            break
    assert codes == [4408]
    await mod.disconnect()


async def test_events_that_pub_sub_lost_are_read_from_the_history(session, volunteer):
    participant = await join(session, volunteer)
    await receive(participant)
    for i in range(2):  # in the history, never published: as if pub/sub dropped them
        await get_history().append(session.pk, events._rest(1, "announcement", {"n": i}), None)
    messages = [await receive_until(participant, lambda m: m["type"] == "event", timeout=5) for _ in range(2)]
    assert [(m["seq"], m["data"]["n"]) for m in messages] == [(1, 0), (2, 1)]
    await participant.disconnect()


async def test_a_history_that_starts_again_sends_a_fresh_snapshot_on_the_open_connection(session, moderator,
                                                                                         volunteer):
    participant = await join(session, volunteer)
    await receive(participant)
    mod = await join(session, moderator)
    await receive(mod)
    await announce(mod, 1, "之前")
    await until_seq(participant, 1)
    hub = get_hub(session.pk)
    restarts = hub.restarts
    await get_history().clear()  # Redis restarted empty
    _, epoch = await get_history().append(session.pk, events._rest(2, "announcement", {}), None)
    for comm in (participant, mod):
        reset = await receive_until(comm, lambda m: m["type"] == "snapshot", timeout=5)
        assert reset["reset"] is True and reset["epoch"] == epoch
        assert [a["text"] for a in reset["announcements"]] == ["之前0"]  # the room as the database has it
    assert reset["role"] == "moderator" and "question_counts" in reset
    assert hub.restarts == restarts + 1
    # The sockets stayed open, and what follows the snapshot arrives in order, without gaps or duplicates.
    await announce(mod, 3, "之后")
    later = await receive_through(participant, lambda m: m["type"] == "event" and m["data"].get("announcement", {})
                                  .get("text") == "之后2")
    seqs = [m["seq"] for m in events_of(later)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= 3
    assert not [m for m in later if m["type"] == "snapshot"]
    assert {o.user_id for o in hub.outlets} == {volunteer.pk, moderator.pk}
    await participant.disconnect()
    await mod.disconnect()


async def test_a_join_overtaken_by_a_history_restart_reads_its_snapshot_again(session, volunteer, socialworker,
                                                                              settings):
    settings.LIVE_BATCH_DELAY = 2.5  # the join waits in the queue while the history starts again
    present = await join(session, volunteer)
    first = await receive(present)
    late = await join(session, socialworker)  # its position (seq, epoch) is read now, before its batch
    await get_history().clear()  # Redis restarted empty: the hub sees the new epoch within about a second
    _, epoch = await get_history().append(session.pk, events._rest(2, "announcement", {}), None)
    assert epoch != first["epoch"]
    snapshot = await receive_until(late, lambda m: m["type"] in ("snapshot", "event"), timeout=15)
    assert snapshot["type"] == "snapshot" and snapshot["epoch"] == epoch and "reset" not in snapshot  # not 4409
    reset = await receive_until(present, lambda m: m["type"] == "snapshot", timeout=15)
    assert reset["reset"] is True and reset["epoch"] == epoch
    await late.disconnect()
    await present.disconnect()
