"""academy/serve.py tunes Daphne's checker loops: only on the Daphne it was written for, and with Daphne's own code.

These tests fail when the installed Daphne differs from what the tuning assumes: another version than the pin,
changed method sources, or checkers that no longer reschedule themselves with `reactor.callLater`.
"""
import re
import time
from pathlib import Path

import daphne
import pytest
from daphne.server import Server
from twisted.internet import reactor

from academy import serve

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
