"""academy/serve.py, the production command: quiet, with deliberate time-outs, and Daphne's loops tuned.

The tuning of Daphne's checker loops engages only on the Daphne it was written for, with Daphne's own code: these
tests fail when the installed Daphne differs from what it assumes (another version than the pin, changed method
sources, or checkers that no longer reschedule themselves with `reactor.callLater`). The command itself is started
as docs/deployment.md shows it, and talked to over real sockets.
"""
import logging
import os
import re
import socket
import sys
import time
from pathlib import Path

import daphne
import pytest
from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings
from twisted.internet import reactor

from academy import serve
from bench.wsclient import BlockingClient
from tests.factories import UserFactory
from tests.factories.live import make_live_session
from tests.factories.live_room import room_cookie
from tests.servers import Serve, database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scheduled(monkeypatch):
    """What the server schedules on the reactor, instead of scheduling it."""
    calls = []
    monkeypatch.setattr(reactor, "callLater", lambda delay, function, *args, **kw: calls.append((delay, function)))
    return calls


def tuned_server():
    server_class = serve.tuned_server_class()
    assert server_class is not Server, serve.daphne_matches()
    server = server_class.__new__(server_class)  # no listening: only the loops are under test
    server.connections = {}
    server.application_close_timeout = 10
    return server


class GoneProtocol:
    """A connection that disconnected long ago and has no application left: Daphne's loop forgets it."""

    checked = 0

    def check_timeouts(self):
        self.checked += 1


def test_the_pinned_daphne_is_the_one_the_tuning_was_written_for():
    pin = re.search(r"^daphne==([^\s\\]+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert daphne.__version__ == pin == serve.DAPHNE_VERSION
    assert serve.daphne_source_hashes() == serve.DAPHNE_SOURCES
    assert serve.daphne_matches() is None


def test_another_daphne_runs_unchanged(monkeypatch):
    monkeypatch.setattr(serve, "DAPHNE_SOURCES", {**serve.DAPHNE_SOURCES, "timeout_checker": "0" * 16})
    assert serve.daphne_matches() == "Daphne's Server.timeout_checker changed"
    assert serve.tuned_server_class() is Server
    monkeypatch.setattr(daphne, "__version__", "9.9.9")
    assert serve.daphne_matches().startswith("Daphne 9.9.9")


def test_daphnes_checkers_reschedule_themselves_after_their_tick(scheduled):
    server = Server.__new__(Server)
    server.connections, server.application_close_timeout = {}, 10
    server.application_checker()
    server.timeout_checker()
    assert scheduled == [(1, server.application_checker), (2, server.timeout_checker)]
    assert serve.DAPHNE_TICKS == {"application_checker": 1, "timeout_checker": 2}


def test_the_application_loop_walks_the_connections_only_every_few_seconds(scheduled):
    server = tuned_server()
    gone = GoneProtocol()
    server.connections[gone] = {"disconnected": time.time() - 100}
    server.application_checker()  # due: Daphne's own loop forgets the closed connection
    assert gone not in server.connections
    assert scheduled == [(1, server.application_checker)]

    again = GoneProtocol()
    server.connections[again] = {"disconnected": time.time() - 100}
    server.application_checker()  # a second later: not due, the loop only ticks on
    assert again in server.connections
    assert scheduled[1:] == [(1, server.application_checker)]
    assert server.next_application_check - time.monotonic() > serve.APPLICATION_CHECK_SECONDS - 1

    server.next_application_check = time.monotonic() - 0.01  # five seconds later: due again
    server.application_checker()
    assert again not in server.connections and len(scheduled) == 3


def test_the_timeout_loop_checks_the_connections_only_every_few_seconds(scheduled):
    server = tuned_server()
    protocol = GoneProtocol()
    server.connections[protocol] = {}
    server.timeout_checker()
    server.timeout_checker()
    assert protocol.checked == 1
    server.next_timeout_check = time.monotonic() - 0.01
    server.timeout_checker()
    assert protocol.checked == 2
    assert scheduled == [(2, server.timeout_checker)] * 3


# --- the command as documented ------------------------------------------------------------------------------------

# What an access log line looks like: Daphne's own (`--access-log`, or plain Daphne at -v 1) and runserver's.
DAPHNE_LINE = re.compile(r"WSCONNECTING|WSCONNECT|WSDISCONNECT|WSREJECT|\"(GET|POST) /")
RUNSERVER_LINE = re.compile(r"WebSocket (HANDSHAKING|CONNECT|DISCONNECT|REJECT)|HTTP (GET|POST) /")


@pytest.fixture
def production_env():
    """The environment of .env.example's production values, on the test database (no nginx: plain HTTP)."""
    env = {k: v for k, v in os.environ.items() if k != "ACCESS_LOG_LEVEL"}
    env.update({"DATABASE_URL": database_url(), "DEBUG": "false", "SECRET_KEY": settings.SECRET_KEY,
                "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
                "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false"})
    return env


@pytest.fixture
def start_serve(tmp_path):
    started = []

    def start(*options, env, processes=2):
        server = Serve(tmp_path / f"serve-{len(started)}.log", processes, *options, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        print(f"--- {server.log.name}\n{server.output()[-4000:]}", file=sys.stderr)  # shown when a test failed


def http_status(port: int, path: str, method: str = "GET") -> int:
    """One request through --proxy-headers as nginx sends it (HTTPS at the proxy); the answer's status."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                     f"X-Forwarded-For: 203.0.113.9\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer[9:12])


def visit_the_room(port: int, session, cookies: list[str]) -> None:
    """Some participants open the room, get their snapshot and leave; a few pages are asked for."""
    for cookie in cookies:
        client = BlockingClient("127.0.0.1", port, f"/ws/live/{session.pk}/", f"http://127.0.0.1:{port}", cookie)
        snapshot = client.recv_text(timeout=20)
        assert snapshot is not None and b'"snapshot"' in snapshot
        client.close()
    for _ in range(3):
        assert http_status(port, "/admin/") == 302  # to the log-in page


def room_and_cookies(count=4):
    session = make_live_session()
    return session, [room_cookie(UserFactory()) for _ in range(count)]


def access_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if DAPHNE_LINE.search(line) or RUNSERVER_LINE.search(line)]


@pytest.mark.django_db(transaction=True)
def test_the_documented_command_writes_no_access_log(start_serve, production_env):
    session, cookies = room_and_cookies()
    server = start_serve("--proxy-headers", env=production_env)  # docs/deployment.md's command, ACCESS_LOG_LEVEL unset
    visit_the_room(server.port, session, cookies)
    assert http_status(server.port, "/admin/login/", "POST") == 403  # no CSRF token
    server.stop()  # every worker has written what it was going to write

    output = server.output()
    # A 403 is a WARNING of the access log's logger: the logger is in force, only its INFO lines are not written.
    assert access_lines(output) == ["HTTP POST /admin/login/ 403 " + output.split("HTTP POST /admin/login/ 403 ")[1]
                                    .splitlines()[0]]


@pytest.mark.django_db(transaction=True)
def test_the_access_log_never_shows_a_join_links_token(start_serve, production_env):
    token = "zz9-" + "0123456789abcdef" * 2  # no such registration: not a 2xx, so a line of the access log
    server = start_serve("--proxy-headers", env=production_env, processes=1)
    status = http_status(server.port, f"/live/join/{token}/")
    server.stop()
    lines = access_lines(server.output())
    assert any(line.startswith(f"HTTP GET /live/join/…/ {status} ") for line in lines)
    assert not any(token in line for line in lines)


def test_the_gates_busy_pages_are_info_lines_and_every_other_5xx_stays_an_error(caplog):
    log = serve.access_logger(http_timeout=45)
    token = "abc-" + "0123456789abcdef" * 2
    busy = {"path": f"/live/join/{token}/?turn=1764500000.0123456789abcdef", "status": 503, "method": "GET",
            "client": "127.0.0.9:40000", "time_taken": 0.01, "size": 600}
    with caplog.at_level(logging.INFO, logger="django.channels.server"):
        log("http", "complete", busy)
        log("http", "complete", {**busy, "path": "/sessions/room-test/room/?turn=1764500000.0123456789abcdef"})
        log("http", "complete", {**busy, "time_taken": 45.3})  # Daphne's own 503: the application did not answer
        log("http", "complete", {**busy, "status": 500})
        log("http", "complete", {**busy, "path": "/accounts/login/"})
    lines = [(record.levelname, record.getMessage()) for record in caplog.records
             if record.name == "django.channels.server"]
    assert [level for level, _ in lines] == ["INFO", "INFO", "ERROR", "ERROR", "ERROR"]
    assert lines[0][1].startswith("HTTP GET /live/join/…/ 503 busy [0.01, 127.0.0.9:40000]")
    assert lines[1][1].startswith("HTTP GET /sessions/room-test/room/?turn=1764500000.0123456789abcdef 503 busy")
    assert not any(token in message for _, message in lines)


@pytest.mark.django_db(transaction=True)
def test_access_log_level_info_writes_the_access_log(start_serve, production_env):
    session, cookies = room_and_cookies(2)
    server = start_serve("--proxy-headers", env={**production_env, "ACCESS_LOG_LEVEL": "INFO"}, processes=1)
    visit_the_room(server.port, session, cookies)
    path = f"/ws/live/{session.pk}/"
    deadline = time.monotonic() + 20
    while server.output().count(f"WebSocket DISCONNECT {path}") < len(cookies) and time.monotonic() < deadline:
        time.sleep(0.1)  # poll the log for the condition
    output = server.output()
    assert output.count(f"WebSocket CONNECT {path}") == output.count(f"WebSocket DISCONNECT {path}") == len(cookies)
    assert output.count("HTTP GET /admin/ 302") == 3


@pytest.mark.django_db(transaction=True)
def test_an_access_log_file_gets_daphnes_lines_and_the_output_none(start_serve, production_env, tmp_path):
    session, cookies = room_and_cookies(2)
    access_log = tmp_path / "access.log"
    server = start_serve("--proxy-headers", "--access-log", str(access_log),
                         env={**production_env, "ACCESS_LOG_LEVEL": "INFO"}, processes=1)
    visit_the_room(server.port, session, cookies)
    path = f"/ws/live/{session.pk}/"
    deadline = time.monotonic() + 20
    while access_log.read_text().count(f"WSDISCONNECT {path}") < len(cookies) and time.monotonic() < deadline:
        time.sleep(0.1)  # poll the file for the condition
    written = access_log.read_text()
    assert written.count(f"WSCONNECT {path}") == written.count(f"WSDISCONNECT {path}") == len(cookies)
    assert written.count('"GET /admin/" 302') == 3
    server.stop()
    assert access_lines(server.output()) == []


# --- Daphne's time-outs -------------------------------------------------------------------------------------------

def test_the_time_outs_reach_daphnes_server():
    """The options academy.serve gives each worker, read by Daphne's own command line into its Server."""
    built = {}

    class Recording(Server):  # Daphne's Server, recording what its command line builds it with; never listens
        abort_start = False

        def __init__(self, **kwargs):
            built.update(kwargs)

        def run(self):
            pass

    args, daphne_args = serve.parse_arguments(["--processes", "2", "-p", "8000", "--proxy-headers",
                                               "--ping-interval", "60"])
    cli = CommandLineInterface()
    cli.server_class = Recording
    cli.run(["--fd", "0", *daphne_args, args.application])
    assert built["websocket_connect_timeout"] == built["websocket_handshake_timeout"] == 30
    assert (built["ping_interval"], built["ping_timeout"]) == (60, 30)  # an option given wins over the default
    assert built["application_close_timeout"] == 30
    assert built["http_timeout"] == 45
    assert built["websocket_timeout"] == 86400
    assert built["proxy_forwarded_address_header"] == "X-Forwarded-For"  # Daphne's other options pass through
    assert set(serve.DAPHNE_TIMEOUTS) == {"--websocket_connect_timeout", "--ping-interval", "--ping-timeout",
                                          "--application-close-timeout", "--http-timeout", "--websocket_timeout"}


def test_a_websocket_not_accepted_in_time_is_closed(start_serve):
    """Through the supervisor and its workers: a WebSocket the application never accepts is dropped after the
    accept time-out academy.serve was given (2 s here), not Daphne's own 5 s or academy.serve's 30 s. The WebSocket
    library's timer rounds its deadline down to a whole second: it fires up to 1 s early."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = start_serve("--websocket_connect_timeout", "2", "tests.academy.asgi_never_accepts:application",
                         env=env, processes=1)
    began = time.monotonic()
    with pytest.raises(ConnectionError):
        BlockingClient("127.0.0.1", server.port, "/ws/", f"http://127.0.0.1:{server.port}", timeout=15)
    assert 0.9 < time.monotonic() - began < 4.5


def test_the_systemd_unit_writes_out_the_time_outs_academy_serve_sets():
    unit = (ROOT / "deploy" / "academy.service").read_text().replace("\\\n", " ")
    command = re.search(r"^ExecStart=\S+ -m academy\.serve (.*)$", unit, re.M).group(1).split()
    args, _ = serve.parse_arguments(command)
    for option, seconds in serve.DAPHNE_TIMEOUTS.items():
        assert option in command
        assert getattr(args, option.lstrip("-").replace("-", "_")) == seconds
    assert "-v" not in command and "--access-log" not in command
