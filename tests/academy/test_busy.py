"""academy/busy.py: the wait grows with the refusals a process gives per admission, past a target that is the
price of a refusal (5 for the 503 page, 1 for a WebSocket whose handshake is already paid)."""
import time

from academy.busy import Busy


def test_the_wait_grows_past_the_target_refusals_per_admission_and_not_below_it():
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
    assert dear.wait > 3.0  # above 1 per admission: grown by half each window (1.5, 2.25, 3.375)
