"""The room page's reconnecting, in Chromium with the page's clock under the test's control: after a lost
connection whose reconnects keep failing (the host is gone), room.js waits 1-2 s, then 2-4, 4-8, 8-16 s (doubling,
capped at 30 s, plus a random jitter of up to the same again), and resumes with the last seq and epoch it saw."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import PHONE, log_in
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db(transaction=True)

STEP_MS = 100


def test_failed_reconnects_back_off_doubling_with_jitter_and_resume_from_the_last_seq(asgi_server, browser):
    user = UserFactory(username="e2e-reconnect", real_name="吴晓晴", role="social_worker")
    session = make_live_session(title="直播课:断线重连")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, asgi_server, user.username, DEFAULT_PASSWORD)

    attempts = []  # (the page clock's time in ms when the attempt was made, its URL)
    routes = []
    now = {"ms": 0}
    host_gone = {"value": False}

    def route(ws):
        attempts.append((now["ms"], ws.url))
        if host_gone["value"]:
            ws.close(code=1001)  # what a page sees when nginx has no host left for it
        else:
            ws.connect_to_server()
            routes.append(ws)

    page.clock.install()
    page.route_web_socket(re.compile(r"/ws/live/\d+/"), route)
    page.goto(f"{asgi_server}{session.url}room/")
    page.wait_for_selector("[data-connection].is-ok")
    # The connection stays open 15 s (longer than the 10 s after which the back-off starts again), then is lost and
    # every reconnect fails for a minute.
    page.clock.run_for(15_000)
    host_gone["value"] = True
    started = len(attempts)
    now["ms"] = 0
    routes[-1].close(code=1001)
    for _ in range(60_000 // STEP_MS):
        page.clock.run_for(STEP_MS)
        now["ms"] += STEP_MS
    failed = attempts[started:]
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
    context.close()


def test_a_busy_server_is_retried_when_it_says_without_growing_the_back_off(asgi_server, browser):
    user = UserFactory(username="e2e-busy", real_name="郑晓燕", role="social_worker")
    session = make_live_session(title="直播课:服务器忙")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, asgi_server, user.username, DEFAULT_PASSWORD)

    attempts = []  # the page clock's time in ms of each attempt
    routes = []
    now = {"ms": 0}
    answer = {"value": "server"}

    def route(ws):
        attempts.append(now["ms"])
        if answer["value"] == "busy":
            ws.close(code=4503, reason="busy: retry after 20 s")  # what a process over its bound on joins answers
        elif answer["value"] == "gone":
            ws.close(code=1001)
        else:
            ws.connect_to_server()
            routes.append(ws)

    page.clock.install()
    page.route_web_socket(re.compile(r"/ws/live/\d+/"), route)
    page.goto(f"{asgi_server}{session.url}room/")
    page.wait_for_selector("[data-connection].is-ok")
    page.clock.run_for(15_000)  # open longer than 10 s: the next drop starts the back-off at 1-2 s
    answer["value"] = "busy"
    started = len(attempts)
    now["ms"] = 0
    routes[-1].close(code=1001)

    def run(seconds):
        for _ in range(seconds * 1000 // STEP_MS):
            page.clock.run_for(STEP_MS)
            now["ms"] += STEP_MS

    run(75)  # the first reconnect after 1-2 s, then busy three times: each retried after 20-30 s
    busy = attempts[started:]
    waits = [(b - a) / 1000 for a, b in zip(busy, busy[1:])]
    assert 1 <= busy[0] / 1000 <= 2.2, busy
    assert len(waits) >= 2, busy
    for wait in waits:
        assert 20 - 0.2 <= wait <= 30 + 0.2, waits  # as told, plus up to half again; never 2, 4, 8 …
    assert len(set(round(w, 1) for w in waits)) > 1 or len(waits) == 1, waits  # jittered
    # Then the host is gone: the back-off goes on from where the one real failure left it (2-4 s), not from a
    # count grown by the busy answers.
    answer["value"] = "gone"
    last = attempts[-1]
    run(40)  # the busy retry still pending (within 30 s) fails; the next comes 2-4 s later
    after = [ms for ms in attempts if ms > last]
    assert len(after) >= 2, attempts
    assert 2 - 0.2 <= (after[1] - after[0]) / 1000 <= 4 + 0.2, (last, after)
    context.close()
