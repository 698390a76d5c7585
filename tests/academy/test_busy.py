"""academy/busy.py: the wait follows the refusals a process gives per piece of work it finishes, against a target
that is the price of a refusal (5 for the 503 page, 1 for a WebSocket whose handshake is already paid)."""
import time

from academy.busy import Busy


def test_the_wait_grows_past_the_target_refusals_per_piece_done_and_not_below_it():
    cheap = Busy(1, retry_min=1, retry_max=30, jitter=(1.0, 1.0))  # the 503 page's target: 5
    dear = Busy(1, retry_min=1, retry_max=30, jitter=(1.0, 1.0), target_refusals=1)  # the WebSocket joins'
    for _ in range(4):  # four one-second windows of the same crowd: 3 refusals for each admission
        for gate in (cheap, dear):
            assert gate.take()
            for _ in range(3):
                assert not gate.take()
                gate.refuse()
            gate.release()
        time.sleep(1.05)  # the windows are seconds of the monotonic clock: this sleep is the test
    for gate in (cheap, dear):
        gate.take()  # the last window is counted
        gate.release()
    assert cheap.wait == 1.0  # 3 per admission is within 5: the 503 page keeps its shortest wait
    assert dear.wait > 3.0  # 3 per join done is over 1: doubled each window (2, 4, 8)


def next_second() -> None:
    """Sleep into the next second of the monotonic clock (Busy's windows): this sleep is the test."""
    time.sleep(1.0 - time.monotonic() % 1.0 + 0.01)


def test_refusals_while_nothing_finishes_double_the_wait_and_it_halves_once_they_stop():
    """After a lost host the survivors' bounds are full of slow joins: a second can end with nothing done."""
    gate = Busy(2, retry_min=1, retry_max=30, jitter=(1.0, 1.0), target_refusals=1)
    next_second()
    assert gate.take() and gate.take()  # held for the whole storm: nothing is done
    for expected in (2.0, 4.0, 8.0):
        for _ in range(10):
            assert not gate.take()
            gate.refuse()
        next_second()
        gate.refuse()  # the first refusal of the new second closes the last one's window
        assert gate.wait == expected
    gate.release()
    gate.release()
    for expected in (4.0, 2.0):  # work is done, nobody is refused: halve each second
        next_second()
        assert gate.take()
        gate.release()
        assert gate.wait == expected


async def test_the_line_is_first_come_first_served_and_each_ticket_passes_on():
    import asyncio

    gate = Busy(1, retry_min=1, retry_max=30, jitter=(1.0, 1.0))
    assert await gate.turn(5)
    order = []

    async def visitor(name):
        if await gate.turn(5):
            order.append(name)
            await asyncio.sleep(0)
            gate.release()

    waiting = [asyncio.create_task(visitor(name)) for name in "abc"]
    await asyncio.sleep(0)  # all three stand in line
    assert len(gate._line) == 3 and gate.in_flight == 1
    assert not gate.take()  # a newcomer does not pass the line
    gate.release()
    await asyncio.gather(*waiting)
    assert order == ["a", "b", "c"]
    assert gate.in_flight == 0 and gate.admitted == 4 and gate.refused == 0


async def test_a_turn_that_does_not_come_in_time_is_false_and_a_leaver_keeps_nobody_waiting():
    import asyncio

    gate = Busy(1, retry_min=1, retry_max=30, jitter=(1.0, 1.0))
    assert gate.take()
    assert not await gate.turn(0.05)  # the ticket holder does not finish in time
    leaver = asyncio.create_task(gate.turn(5))
    stayer = asyncio.create_task(gate.turn(5))
    await asyncio.sleep(0)
    leaver.cancel()  # the client went away while in line
    gate.release()
    assert await stayer  # the ticket skips the one who left
    assert gate.in_flight == 1
    gate.release()
    assert gate.in_flight == 0


async def test_a_ticket_handed_over_as_its_client_leaves_is_passed_on():
    import asyncio

    gate = Busy(1, retry_min=1, retry_max=30, jitter=(1.0, 1.0))
    assert gate.take()
    leaver = asyncio.create_task(gate.turn(5))
    await asyncio.sleep(0)
    gate.release()  # the ticket is handed to the leaver …
    leaver.cancel()  # … who leaves before its task runs again
    try:
        await leaver
    except asyncio.CancelledError:
        pass
    assert gate.in_flight == 0 and not gate._line  # passed on: nobody holds it


async def test_the_line_is_no_longer_than_the_process_can_serve_in_the_wait():
    import asyncio

    gate = Busy(2, retry_min=1, retry_max=30, jitter=(1.0, 1.0))
    assert gate.take() and gate.take()
    # Nothing finished in the last second: the line holds at most limit x seconds = 2 x 3.
    waiting = [asyncio.create_task(gate.turn(3)) for _ in range(6)]
    await asyncio.sleep(0)
    assert len(gate._line) == 6
    assert not await gate.turn(3)  # the seventh would wait longer than it may: refused at once
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
