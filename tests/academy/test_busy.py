"""academy/busy.py: a bound on work in flight; over it a line (first come, first served) for those who can wait,
and for the others an appointment on a schedule that advances at the rate the process finishes its work."""
import asyncio
import time

from academy.busy import Busy


def next_second() -> None:
    """Sleep into the next second of the monotonic clock (Busy learns once a second): this sleep is the test."""
    time.sleep(1.0 - time.monotonic() % 1.0 + 0.01)


def test_the_schedule_learns_the_rate_from_the_seconds_the_process_was_full():
    gate = Busy(4, retry_min=1)
    assert gate.rate == 4.0  # before it knows better: the limit a second
    next_second()
    for _ in range(3):  # a full second in which 20 pieces were done
        for _ in range(4):
            assert gate.take()
        assert not gate.take()
        for _ in range(4):
            gate.release()
    for _ in range(8):
        assert gate.take()
        gate.release()
    next_second()
    gate.take()
    assert gate.rate == 0.5 * 4 + 0.5 * 20
    gate.release()
    next_second()  # a second that was never full teaches nothing: demand, not capacity
    gate.take()
    assert gate.rate == 12.0
    gate.release()
    # Appointments 1/(rate x 1.25) apart, after the soonest (1 s), nobody in line.
    now = time.time()
    slots = [gate.appoint(600) for _ in range(30)]
    assert slots[0] == round(1 + 1 / 15) and slots[-1] == round(gate._next_slot - now)
    assert abs(gate._next_slot - now - (1 + 30 / 15)) < 0.1
    # The next second the process is never full while those appointments are outstanding: it can do more.
    next_second()
    gate.take()
    assert gate.rate == 12.0 * 1.25
    gate.release()


def test_a_wait_doubles_while_refusals_outnumber_the_work_done_and_halves_once_they_stop():
    """`refuse`, for clients that cannot carry an appointment back (WebSockets). After a lost host the survivors'
    bounds are full of slow joins: a second can end with nothing done."""
    gate = Busy(2, retry_min=1, retry_max=30, target_refusals=1)
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
    assert Busy(1, retry_min=1, retry_max=30, jitter=(0.5, 1.5)).refuse() in (1, 2)  # 1 s, jittered ±50 %


async def test_the_line_is_first_come_first_served_and_each_ticket_passes_on():
    gate = Busy(1, retry_min=1)
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
    gate = Busy(1, retry_min=1)
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
    gate = Busy(1, retry_min=1)
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
    gate = Busy(2, retry_min=1)
    assert gate.take() and gate.take()
    # Nothing finished in the last second: the line holds at most limit x seconds = 2 x 3.
    waiting = [asyncio.create_task(gate.turn(3)) for _ in range(6)]
    await asyncio.sleep(0)
    assert len(gate._line) == 6
    assert not await gate.turn(3)  # the seventh would wait longer than it may: refused at once
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_appointments_follow_one_another_and_returners_go_before_newcomers():
    gate = Busy(1, retry_min=1)
    assert gate.take()
    # The rate is the limit a second until a full second's work says otherwise: 1.25 appointments a second.
    assert [gate.appoint(600) for _ in range(4)] == [2, 3, 3, 4]  # 1.8, 2.6, 3.4, 4.2 s
    assert gate.appoint(3) == 3  # never later than the longest given
    assert gate.refused == 5
    returner = asyncio.create_task(gate.turn(5, returning=True))
    await asyncio.sleep(0)
    assert len(gate._first) == 1
    assert not await gate.turn(5)  # a newcomer while appointments are outstanding: refused, not in line
    gate.release()
    assert await returner and gate.in_flight == 1
