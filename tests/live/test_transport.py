"""live.transport: direct socket writes under Daphne, and the bound on what a slow client may hold.

The unit tests drive a real Twisted TCP transport over a real loopback connection (a reactor object that is never
run: the tests call `doWrite` where the reactor would). The integration tests run a real Daphne process with the
module installed (tests/live/transport_app.py) and a raw WebSocket client.
"""
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.internet.selectreactor import SelectReactor
from twisted.python.failure import Failure

from live import transport
from tests.live.transport_app import flood_message

ROOT = Path(__file__).resolve().parents[2]


# --- A real Twisted transport on a real socket -----------------------------------------------------------------

class Recorder(Protocol):
    def __init__(self):
        self.lost = None

    def connectionLost(self, reason):
        self.lost = reason


@pytest.fixture
def pair():
    """(twisted transport on the server side, its protocol, the client's blocking socket, the reactor object)."""
    reactor = SelectReactor()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    server_sock, address = listener.accept()
    listener.close()
    server_sock.setblocking(False)
    server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # the kernel takes little: partial writes
    protocol = Recorder()
    server = tcp.Server(server_sock, protocol, address, None, 1, reactor)
    protocol.makeConnection(server)
    yield server, protocol, client, reactor
    client.close()
    server_sock.close()


def drain(server, client, expected_len, reactor):
    """Read everything the client should get, running Twisted's deferred writes as the reactor would."""
    client.settimeout(0.2)
    received = bytearray()
    deadline = time.monotonic() + 10
    while len(received) < expected_len and time.monotonic() < deadline:
        if server in reactor.getWriters():
            server.doWrite()
        try:
            chunk = client.recv(1 << 16)
        except socket.timeout:
            continue
        if not chunk:
            break
        received += chunk
    return bytes(received)


def test_write_goes_straight_to_the_socket_when_twisted_holds_nothing(pair):
    server, _, client, reactor = pair
    assert transport.write(server, b"hello") is True
    assert server not in reactor.getWriters()  # no deferred write was scheduled
    assert transport.pending_bytes(server) == 0
    assert client.recv(100) == b"hello"


def test_a_partial_write_leaves_the_rest_to_twisted_in_order(pair):
    server, _, client, reactor = pair
    big = random.Random(1).randbytes(3_000_000)
    assert transport.write(server, big) is False
    assert 0 < transport.pending_bytes(server) < len(big)  # the kernel took some, Twisted holds the rest
    assert server in reactor.getWriters()
    assert transport.write(server, b"after") is False  # queued behind the rest, not written ahead of it
    assert drain(server, client, len(big) + 5, reactor) == big + b"after"
    assert transport.pending_bytes(server) == 0


def test_would_block_with_an_empty_buffer_falls_back_to_twisted(pair):
    server, _, client, reactor = pair
    filler = 0
    while True:  # fill the kernel's buffers behind Twisted's back until the socket would block
        try:
            filler += server.socket.send(b"f" * 4096)
        except BlockingIOError:
            break
    assert transport.pending_bytes(server) == 0
    assert transport.write(server, b"message") is False
    assert transport.pending_bytes(server) == len(b"message")
    assert drain(server, client, filler + 7, reactor) == b"f" * filler + b"message"


def test_a_closed_peer_is_left_to_twisted_which_loses_the_connection(pair):
    server, protocol, client, reactor = pair
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # a reset, as a phone that vanishes
    waiting = select.poll()
    waiting.register(server.fileno(), select.POLLIN)
    assert waiting.poll(5000), "the reset did not reach the server's socket"  # it has (poll consumes nothing)
    results = [transport.write(server, b"x" * 1000) for _ in range(3)]  # no exception escapes
    assert results[-1] is False
    assert server in reactor.getWriters()  # what the kernel refused waits for Twisted, which then finds the loss
    outcome = server.doWrite()
    assert isinstance(outcome, Exception)
    server.connectionLost(Failure(outcome))  # what the reactor does with it
    assert protocol.lost is not None


def test_nothing_is_written_after_the_transport_is_closed(pair):
    server, _, client, reactor = pair
    server.connected = False
    assert transport.write(server, b"late") is False
    assert transport.pending_bytes(server) == 0
    client.settimeout(0.1)
    with pytest.raises(socket.timeout):
        client.recv(10)


def test_install_refuses_versions_it_was_not_tested_with(monkeypatch):
    from daphne import ws_protocol

    before = ws_protocol.WebSocketFactory.protocol
    monkeypatch.setitem(transport.PINNED, "twisted", "0.0.1")
    assert transport.install(direct_write=True, send_buffer_limit=1) is False
    assert ws_protocol.WebSocketFactory.protocol is before


def test_install_engages_on_the_pinned_versions(monkeypatch):
    from daphne import ws_protocol

    monkeypatch.setattr(ws_protocol.WebSocketFactory, "protocol", ws_protocol.WebSocketFactory.protocol)
    assert transport.versions_supported()
    assert transport.install(direct_write=False, send_buffer_limit=1234) is True
    assert ws_protocol.WebSocketFactory.protocol is transport.protocol_class()
    assert transport.protocol_class().send_buffer_limit == 1234
    assert transport.protocol_class().direct_write is False


def test_settings_switch_direct_writes(settings, monkeypatch):
    from daphne import ws_protocol

    monkeypatch.setattr(ws_protocol.WebSocketFactory, "protocol", ws_protocol.WebSocketFactory.protocol)
    settings.LIVE_DIRECT_WRITE = False
    settings.LIVE_SEND_BUFFER_LIMIT = 4321
    assert transport.install() is True
    assert transport.protocol_class().direct_write is False
    assert transport.protocol_class().send_buffer_limit == 4321


# --- A real Daphne process --------------------------------------------------------------------------------------

class RawClient:
    """The smallest blocking WebSocket client: enough to read what the server sends, or to stop reading."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(
            b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("closed")
        return chunk

    def send_text(self, text):
        payload = text.encode()
        assert len(payload) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)  # zero mask: payload as is

    def _need(self, size):
        while len(self.buffer) < size:
            self.buffer += self._recv()

    def read_text(self):
        while True:
            self._need(2)
            opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
            start = 2
            if length == 126:
                self._need(4)
                length, start = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif length == 127:
                self._need(10)
                length, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
            self._need(start + length)
            payload, self.buffer = self.buffer[start:start + length], self.buffer[start + length:]
            if opcode == 1:
                return payload.decode()
            if opcode == 8:
                raise ConnectionError("close frame")

    def close(self):
        self.sock.close()


def _rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@pytest.fixture
def daphne_server(tmp_path):
    started = []

    def start(**environ):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        log = open(tmp_path / f"daphne-{port}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-v", "0", "--fd", str(listener.fileno()),
             "tests.live.transport_app:application"],
            cwd=ROOT, env={**os.environ, **environ}, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
        listener.close()
        started.append(process)
        deadline = time.monotonic() + 20
        while True:
            try:
                client = RawClient(port)
                client.send_text("stats")
                stats = json.loads(client.read_text())
                client.close()
                return port, process, stats
            except (OSError, AssertionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / f"daphne-{port}.log").read_text())
                time.sleep(0.2)  # poll again until the deadline

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.mark.parametrize("direct", ["1", "0"])
def test_daphne_delivers_every_message_whole_and_in_order_to_a_slow_reader(daphne_server, direct):
    port, _, stats = daphne_server(LIVE_DIRECT_WRITE=direct, LIVE_SEND_BUFFER_LIMIT="0")
    assert stats["engaged"] is True
    client = RawClient(port, rcvbuf=8192)
    client.send_text("flood 400 7")
    rng = random.Random(7)
    for index in range(400):
        if index % 40 == 0:
            time.sleep(0.02)  # read slowly: the server's writes go partial and through Twisted's buffer
        assert client.read_text() == flood_message(index, rng)
    client.close()


def test_a_client_that_stops_reading_is_disconnected_and_server_memory_stays_bounded(daphne_server):
    limit = 256 * 1024
    port, process, _ = daphne_server(LIVE_DIRECT_WRITE="1", LIVE_SEND_BUFFER_LIMIT=str(limit))
    watcher = RawClient(port)
    watcher.send_text("stats")
    disconnects_before = json.loads(watcher.read_text())["disconnects"]
    rss_before = _rss(process.pid)
    stalled = RawClient(port, rcvbuf=4096)
    stalled.send_text("flood 3000 3")  # ~90 MB, of which the client reads nothing
    deadline = time.monotonic() + 20
    while True:  # until the server has dropped the stalled client (its memory then at its highest)
        watcher.send_text("stats")
        stats = json.loads(watcher.read_text())
        if stats["disconnects"] > disconnects_before or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # poll for the condition
    assert stats["disconnects"] == disconnects_before + 1
    assert _rss(process.pid) - rss_before < 40 * 1024 * 1024
    with pytest.raises((ConnectionError, OSError)):  # the stalled client finds its connection gone
        stalled.sock.settimeout(5)
        while True:
            stalled.read_text()
    watcher.close()


def test_prepared_frames_reach_a_slow_reader_whole_and_in_order(daphne_server):
    port, _, _ = daphne_server(LIVE_DIRECT_WRITE="1", LIVE_SEND_BUFFER_LIMIT="0")
    client = RawClient(port, rcvbuf=8192)
    client.send_text("frames 300 11")
    rng = random.Random(11)
    for index in range(300):
        if index % 30 == 0:
            time.sleep(0.02)  # read slowly: the prepared frames go partial and through Twisted's buffer
        assert client.read_text() == flood_message(index, rng)
    client.close()


def test_frames_are_what_autobahn_would_send():
    assert transport.frame("a") == b"\x81\x01a"
    assert transport.frame("好" * 50)[:4] == b"\x81\x7e\x00\x96"  # 150 bytes of UTF-8: a 16-bit length
    assert transport.frame("x" * 70_000)[:10] == b"\x81\x7f" + (70_000).to_bytes(8, "big")


async def test_no_writer_for_a_send_that_is_not_daphnes():
    async def send(message):
        pass

    assert transport.writer_for(send) is None


def _room_messages(first, count, seed):
    rng = random.Random(seed)
    return [f"{seq}:{flood_message(seq, rng)}" for seq in range(first, first + count)]


def test_a_room_broadcast_reaches_every_reader_whole_and_in_order(daphne_server):
    """The hub's way out (live.outlet.Roster → transport.fan_out) on a real Daphne: a reader that keeps up, one that
    reads slowly (its writes go partial, then through Twisted's buffer), one that leaves during the broadcast, a
    moderator (the moderators' texts), and one held while joining and then opened with a seq ahead of the broadcast
    (a replay that read the newest events from the history before the hub delivered them): it gets each later event
    once."""
    port, _, stats = daphne_server(LIVE_DIRECT_WRITE="1", LIVE_SEND_BUFFER_LIMIT="0")
    assert stats["engaged"] is True
    fast, slow, late, leaver, moderator = (RawClient(port), RawClient(port, rcvbuf=8192), RawClient(port),
                                           RawClient(port), RawClient(port))
    for client, command, answer in [(fast, "room", "in"), (slow, "room", "in"), (leaver, "room", "in"),
                                    (late, "room-joining", "joining"), (moderator, "room-moderator", "in")]:
        client.send_text(command)
        assert client.read_text() == answer
    control = RawClient(port)
    control.send_text("broadcast 1 200 5")
    expected = _room_messages(1, 200, 5)
    assert fast.read_text() == expected[0]
    leaver.close()
    assert [fast.read_text() for _ in range(199)] == expected[1:]  # the first broadcast is out
    late.send_text("open 210")
    assert late.read_text() == "open"
    control.send_text("broadcast 201 100 6")
    expected += _room_messages(201, 100, 6)
    assert [fast.read_text() for _ in range(100)] == expected[200:]
    received = []
    for index in range(300):
        if index % 30 == 0:
            time.sleep(0.02)  # read slowly
        received.append(slow.read_text())
    assert received == expected
    assert [late.read_text() for _ in range(90)] == expected[210:]
    assert [moderator.read_text() for _ in range(300)] == ["moderators " + text for text in expected]
    control.send_text("broadcast 301 1 7")  # a last one: nothing else came before it
    assert late.read_text() == _room_messages(301, 1, 7)[0]
    for client in (fast, slow, late, moderator, control):
        client.close()
