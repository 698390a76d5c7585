"""A minimal WebSocket client for the load generator and the fault tests: the handshake, text frames, pings.

Hand-written rather than the `websockets` library because the load generator shares two cores with the server it
measures: this client parses a frame with a few slice operations, sends with a zero masking key (the payload is then
sent as it is: the RFC asks browsers for random keys, servers must accept any key) and keeps one small object per
connection. No TLS, no extensions, no fragmentation: enough for Daphne on loopback.
"""
from __future__ import annotations

import asyncio
import base64
import collections
import os
import re
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The room's "busy" close code (live/admission.py): come back after the seconds its reason gives.
BUSY = 4503
_RETRY_AFTER = re.compile(r"retry after (\d+)")


def busy_delay(reason: str | None, rng) -> float:
    """room.js's wait after a 4503 ("busy: retry after N s"): N s plus a jitter of up to half again."""
    match = _RETRY_AFTER.search(reason or "")
    seconds = min(300, max(1, int(match.group(1)))) if match else 5
    return seconds + rng.random() * seconds / 2


def handshake_request(path: str, host: str, origin: str, cookie: str | None) -> bytes:
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET {path} HTTP/1.1".encode(), f"Host: {host}".encode(), b"Upgrade: websocket", b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + key, b"Sec-WebSocket-Version: 13", f"Origin: {origin}".encode(),
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def encode_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame with a zero masking key."""
    length = len(payload)
    if length < 126:
        head = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + struct.pack("!H", length)
    else:
        head = bytes((0x80 | opcode, 0xFF)) + struct.pack("!Q", length)
    return head + b"\0\0\0\0" + payload


def parse_frames(buffer: bytearray):
    """Yield (opcode, payload) for each whole frame at the start of `buffer` and remove them from it."""
    pos = 0
    size = len(buffer)
    frames = []
    while size - pos >= 2:
        opcode = buffer[pos] & 0x0F
        length = buffer[pos + 1] & 0x7F
        start = pos + 2
        if length == 126:
            if size - pos < 4:
                break
            length = (buffer[pos + 2] << 8) | buffer[pos + 3]
            start = pos + 4
        elif length == 127:
            if size - pos < 10:
                break
            length = struct.unpack_from("!Q", buffer, pos + 2)[0]
            start = pos + 10
        end = start + length
        if end > size:
            break
        frames.append((opcode, bytes(buffer[start:end])))
        pos = end
    if pos:
        del buffer[:pos]
    return frames


# Every ClientProtocol of a process reads into this one buffer (asyncio's BufferedProtocol): a read is handled
# whole before the event loop makes the next, so connections never see each other's bytes, and no read allocates
# asyncio's 256 KiB `recv` buffer or copies the bytes into a connection's own buffer first.
_INBOX = bytearray(256 * 1024)
_INBOX_VIEW = memoryview(_INBOX)


class ClientProtocol(asyncio.BufferedProtocol):
    """One WebSocket connection. Subclasses override `on_text(payload: bytes, now_ms: float)` and `on_close()`.

    `opened` is a future set to True when the server answered 101, or to an exception/False otherwise. Whole frames
    are taken straight from the read; only a frame cut across reads (and the handshake) waits in `buffer`.
    """

    __slots__ = ("transport", "request", "opened", "buffer", "upgraded", "close_code", "close_reason", "closed")

    def __init__(self, request: bytes, opened: asyncio.Future):
        self.transport = None
        self.request = request
        self.opened = opened
        self.buffer = bytearray()
        self.upgraded = False
        self.close_code = None
        self.close_reason = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def get_buffer(self, sizehint):
        return _INBOX_VIEW

    def buffer_updated(self, nbytes):
        if self.buffer or not self.upgraded:
            self.data_received(bytes(_INBOX_VIEW[:nbytes]))
            return
        inbox, now_ms, pos = _INBOX, time.time() * 1000.0, 0
        while nbytes - pos >= 2:  # as parse_frames, on the shared buffer
            opcode, length, start = inbox[pos] & 0x0F, inbox[pos + 1] & 0x7F, pos + 2
            if length == 126:
                if nbytes - pos < 4:
                    break
                length, start = (inbox[pos + 2] << 8) | inbox[pos + 3], pos + 4
            elif length == 127:
                if nbytes - pos < 10:
                    break
                length, start = struct.unpack_from("!Q", inbox, pos + 2)[0], pos + 10
            end = start + length
            if end > nbytes:
                break
            self.on_frame(opcode, bytes(_INBOX_VIEW[start:end]), now_ms)
            pos = end
        if pos < nbytes:
            self.buffer += _INBOX_VIEW[pos:nbytes]

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:12])
            del self.buffer[:end + 4]
            if status[9:12] != b"101":
                if not self.opened.done():
                    self.opened.set_result(False)
                self.close_code = int(status[9:12] or 0)
                self.transport.close()
                return
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(True)
        now_ms = time.time() * 1000.0
        for opcode, payload in parse_frames(self.buffer):
            self.on_frame(opcode, payload, now_ms)

    def on_frame(self, opcode: int, payload: bytes, now_ms: float):
        if opcode == 1:
            self.on_text(payload, now_ms)
        elif opcode == 9:
            self.transport.write(encode_frame(payload, 10))
        elif opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.close_reason = bytes(payload[2:]).decode(errors="replace")
            self.transport.close()

    def send_text(self, text: str | bytes):
        if self.transport is not None and not self.closed:
            self.transport.write(encode_frame(text.encode() if isinstance(text, str) else text))

    def connection_lost(self, exc):
        self.closed = True
        if not self.opened.done():
            self.opened.set_result(False)
        self.on_close()

    def on_text(self, payload: bytes, now_ms: float):
        pass

    def on_close(self):
        pass


class BlockingClient:
    """A blocking client for one connection (the benchmark's moderator, tests)."""

    def __init__(self, host: str, port: int, path: str, origin: str, cookie: str | None = None, timeout: float = 10,
                 source: str | None = None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.sendall(handshake_request(path, f"{host}:{port}", origin, cookie))
        self.buffer = bytearray()
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        end = self.buffer.find(b"\r\n\r\n")
        self.status = int(bytes(self.buffer[9:12]))
        del self.buffer[:end + 4]
        if self.status != 101:
            raise ConnectionError(f"handshake answered {self.status}")
        self.close_code = self.close_reason = None
        self.pending = collections.deque(parse_frames(self.buffer))

    def send_text(self, text: str):
        self.sock.sendall(encode_frame(text.encode()))

    def recv_text(self, timeout: float | None = None) -> bytes | None:
        """The next text message; None on timeout. Raises ConnectionError when the connection closes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            while self.pending:
                opcode, payload = self.pending.popleft()
                if opcode == 1:
                    return payload
                if opcode == 9:
                    self.sock.sendall(encode_frame(payload, 10))
                elif opcode == 8:
                    self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.close_reason = payload[2:].decode(errors="replace")
                    raise ConnectionError(f"closed (code {self.close_code})")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError(f"closed (code {self.close_code})")
            self.buffer += chunk
            self.pending.extend(parse_frames(self.buffer))

    def close(self):
        try:
            self.sock.sendall(encode_frame(struct.pack("!H", 1000), 8))
        except OSError:
            pass
        self.sock.close()
