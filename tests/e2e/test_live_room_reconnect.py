"""The room page's reconnecting, in Chromium with the page's clock under the test's control: after a lost
connection whose reconnects keep failing (the host is gone), room.js waits 1-2 s, then 2-4, 4-8, 8-16 s (doubling,
capped at 30 s, plus a random jitter of up to the same again), and resumes with the last seq and epoch it saw; a
server that answers "busy" (4503) is tried again when it says, without growing that back-off."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import PHONE, log_in
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db(transaction=True)

STEP_MS = 100


class RoutedRoom:
    """A phone in a new room whose WebSocket attempts go through the test, on the page's clock (the test's): each
    attempt is recorded in `attempts` as (the clock's `now` in ms, its URL) and gets what `answer` says: "server"
    (the real server), "gone" (1001, what a page sees when nginx has no host left for it) or "busy" (4503, what a
    process over its bound on joins answers)."""

    def __init__(self, browser, server, username, real_name, title):
        user = UserFactory(username=username, real_name=real_name, role="social_worker")
        session = make_live_session(title=title)
        self.context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        self.page = self.context.new_page()
        log_in(self.page, server, user.username, DEFAULT_PASSWORD)
        self.attempts, self.routes, self.now, self.answer = [], [], 0, "server"
        self.page.clock.install()
        self.page.route_web_socket(re.compile(r"/ws/live/\d+/"), self._route)
        self.page.goto(f"{server}{session.url}room/")
        self.page.wait_for_selector("[data-connection].is-ok")

    def _route(self, ws):
        self.attempts.append((self.now, ws.url))
        if self.answer == "gone":
            ws.close(code=1001)
        elif self.answer == "busy":
            ws.close(code=4503, reason="busy: retry after 20 s")
        else:
            ws.connect_to_server()
            self.routes.append(ws)

    def lose_connection(self, answer: str) -> int:
        """The open connection drops; from now on attempts get `answer`. Returns the index of the next attempt."""
        self.answer, self.now = answer, 0
        started = len(self.attempts)
        self.routes[-1].close(code=1001)
        return started

    def run(self, seconds: float) -> None:
        for _ in range(int(seconds * 1000) // STEP_MS):
            self.page.clock.run_for(STEP_MS)
            self.now += STEP_MS


def test_failed_reconnects_back_off_doubling_with_jitter_and_resume_from_the_last_seq(asgi_server, browser):
    room = RoutedRoom(browser, asgi_server, "e2e-reconnect", "吴晓晴", "直播课:断线重连")
    # The connection stays open 15 s (longer than the 10 s after which the back-off starts again), then is lost and
    # every reconnect fails for a minute.
    room.page.clock.run_for(15_000)
    started = room.lose_connection("gone")
    room.run(60)
    failed = room.attempts[started:]
    times = [ms / 1000 for ms, _ in failed]
    waits = [b - a for a, b in zip([0.0] + times, times)]
    # 1-2, 2-4, 4-8, 8-16, 16-32 s: four or five attempts in a minute (without the doubling: thirty or more).
    assert 4 <= len(waits) <= 5, waits
    for k, wait in enumerate(waits[:4]):
        assert 2 ** k - 0.2 <= wait <= 2 ** (k + 1) + 0.2, waits
    # Jitter: the waits are not the bare powers of two (their random parts add up to far more than 0.3 s).
    assert sum(waits[:4]) > 1 + 2 + 4 + 8 + 0.3, waits
    # Every reconnect resumes from what the page had: ?since=<seq>&epoch=<epoch>.
    for _, url in failed:
        query = parse_qs(urlsplit(url).query)
        assert query["since"] == ["0"] and query["epoch"][0], url  # a new room: its snapshot's seq is 0
    room.context.close()


def test_a_busy_server_is_retried_when_it_says_without_growing_the_back_off(asgi_server, browser):
    room = RoutedRoom(browser, asgi_server, "e2e-busy", "郑晓燕", "直播课:服务器忙")
    room.page.clock.run_for(15_000)  # open longer than 10 s: the next drop starts the back-off at 1-2 s
    started = room.lose_connection("busy")
    room.run(75)  # the first reconnect after 1-2 s, then busy three times: each retried after 20-30 s
    busy = [ms for ms, _ in room.attempts[started:]]
    waits = [(b - a) / 1000 for a, b in zip(busy, busy[1:])]
    assert 1 <= busy[0] / 1000 <= 2.2, busy
    assert len(waits) >= 2, busy
    for wait in waits:
        assert 20 - 0.2 <= wait <= 30 + 0.2, waits  # as told, plus up to half again; never 2, 4, 8 …
    assert sum(waits) > 20 * len(waits) + 0.3, waits  # jittered: not the bare 20 s
    # Then the host is gone: the back-off goes on from where the one real failure left it (2-4 s), not from a
    # count grown by the busy answers.
    room.answer = "gone"
    last = room.attempts[-1][0]
    room.run(40)  # the busy retry still pending (within 30 s) fails; the next comes 2-4 s later
    after = [ms for ms, _ in room.attempts if ms > last]
    assert len(after) >= 2, room.attempts
    assert 2 - 0.2 <= (after[1] - after[0]) / 1000 <= 4 + 0.2, (last, after)
    room.context.close()
