"""The room's history in Redis across a Redis restart: the pooled connections all die with the old server, and the
next commands on them (an event's append, a join's look-up) must reach the new one instead of failing."""
import asyncio

from live.history import RedisHistory

REST = '"ts":1764366301234,"name":"announcement","data":{}}'


def test_every_pooled_connection_reaches_a_restarted_redis(redis_server):
    async def scenario():
        history = RedisHistory(f"redis://127.0.0.1:{redis_server.port}/0", pool_size=4)
        # Four commands at once: four connections in the pool, each used once.
        await asyncio.gather(*(history.current(7) for _ in range(4)))
        before = await history.append(7, REST, None)
        redis_server.kill()
        redis_server.start()
        appended = await asyncio.gather(*(history.append(7, REST, None) for _ in range(4)), return_exceptions=True)
        failed = [repr(result) for result in appended if isinstance(result, BaseException)]
        assert not failed
        # A Redis without its data: the history starts again, under a new epoch.
        assert sorted(entry.seq for entry, _ in appended) == [1, 2, 3, 4]
        assert {epoch for _, epoch in appended} != {before[1]}
        assert await history.since(7, 0, None) is not None

    asyncio.run(scenario())


def test_restarting_a_rooms_history_keeps_its_seq_and_sends_resumers_to_a_snapshot(redis_server):
    async def scenario():
        history = RedisHistory(f"redis://127.0.0.1:{redis_server.port}/0", pool_size=2)
        entry, epoch = await history.append(7, REST, None)
        assert await history.since(7, 0, epoch) is not None
        new_epoch = await history.restart(7)
        assert new_epoch != epoch
        assert await history.current(7) == (entry.seq, new_epoch)
        assert await history.since(7, 0, epoch) is None  # another epoch: a snapshot
        following, same_epoch = await history.append(7, REST, None)
        assert (following.seq, same_epoch) == (entry.seq + 1, new_epoch)

    asyncio.run(scenario())


def test_resumes_of_one_room_at_one_moment_share_their_reads(redis_server):
    """A host's lost participants resume by the thousand: their `since` reads go together (one XRANGE for many),
    each still answered exactly (the events after its own seq, [] when it missed nothing, None when too old)."""
    import redis as redis_client

    async def scenario():
        history = RedisHistory(f"redis://127.0.0.1:{redis_server.port}/0", pool_size=2)
        epoch = None
        for _ in range(30):
            _, epoch = await history.append(7, REST, None)
        xranges = redis_client.Redis(port=redis_server.port).info("commandstats").get("cmdstat_xrange", {})
        before = xranges.get("calls", 0)
        asks = [(seq % 31, epoch) for seq in range(300)] + [(5, "another-epoch"), (31, epoch), (-1, epoch)]
        answers = await asyncio.gather(*(history.since(7, seq, asked_epoch) for seq, asked_epoch in asks))
        for (seq, asked_epoch), answer in zip(asks, answers):
            if asked_epoch != epoch or not 0 <= seq <= 30:
                assert answer is None, (seq, asked_epoch)
            else:
                assert [entry.seq for entry in answer] == list(range(seq + 1, 31)), seq
        xranges = redis_client.Redis(port=redis_server.port).info("commandstats")["cmdstat_xrange"]
        return xranges["calls"] - before

    assert asyncio.run(scenario()) <= 2  # 303 asks, one read (two if the first ask went alone)
