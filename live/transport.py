"""Direct WebSocket writes and bounded output for Daphne connections (the live room's hot path).

Daphne hands every outgoing WebSocket frame to autobahn, which calls Twisted's `transport.write`. Twisted only
buffers the bytes: it registers the socket for writing and sends them from a later reactor callback, then
unregisters it — two `epoll_ctl` calls and one callback per message, about half of a broadcast's CPU at 20,000
connections. When Twisted holds nothing unsent for a connection, nothing has to go out first, so the frame can go
straight to the socket. Whatever the kernel does not take (a partial write, EAGAIN) goes to `transport.write` as
before, which keeps the bytes in order; a failing or closed socket goes the same way, so that Twisted notices and
closes the connection as it always does.

The same hook bounds what one connection may hold: when a client stops reading and the bytes waiting for it in
Twisted's buffer pass `LIVE_SEND_BUFFER_LIMIT`, the connection is aborted (the client reconnects and resumes from
its last sequence number) instead of growing the server's memory without end.

This reaches below Daphne's public interface (autobahn's `sendData`, the buffer fields of Twisted's
`FileDescriptor`), so it engages only on the exact versions it was tested with (`PINNED`) and only on plain TCP and
Unix-socket transports (never TLS). `LIVE_DIRECT_WRITE=0` turns the direct write off; the output bound stays.
`install()` is called by academy/asgi.py before Daphne builds its WebSocket factory.

For broadcasts, `frame(text)` builds a WebSocket text frame once per event and `writer_for(send)` returns a `Writer`
that writes such a frame to the Daphne connection behind an ASGI `send` (through the same bounded, direct path),
skipping the per-connection ASGI round trip, UTF-8 encoding and frame building. It returns None wherever that does
not apply (another server, a test communicator, compression negotiated, not engaged): callers then use `send`.
`fan_out(writers, frame)` writes one frame to a whole room's writers, calling the sockets' `send` in one loop in C
for every connection that has nothing waiting (live/outlet.py's Roster uses it for events and `counts`).
"""
from __future__ import annotations

import asyncio
import collections
import errno
import functools
import inspect
import itertools
import logging
import operator
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger(__name__)

# The versions whose internals this module was written and tested against (requirements.txt pins the same).
PINNED = {"daphne": "4.2.3", "autobahn": "26.10.2", "twisted": "26.10.0"}

# autobahn's WebSocketProtocol.STATE_OPEN (protocol_class checks it).
_STATE_OPEN = 3

# Errors after which a send simply did not happen yet: leave the bytes to Twisted's buffer.
_RETRY_LATER = {errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR}

_plain_transports: tuple[type, ...] = ()
_protocol_class = None
_engaged = False


def installed_versions() -> dict[str, str | None]:
    found = {}
    for name in PINNED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def versions_supported() -> bool:
    return installed_versions() == PINNED


def _plain_transport_types() -> tuple[type, ...]:
    global _plain_transports
    if not _plain_transports:
        from twisted.internet import tcp, unix

        _plain_transports = (tcp.Server, unix.Server)
    return _plain_transports


def pending_bytes(transport) -> int:
    """Bytes that Twisted holds for this transport and has not handed to the kernel yet."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


def write(transport, data: bytes) -> bool:
    """Write `data` to a plain Twisted socket transport, straight to the socket when nothing is waiting before it.

    Returns True when the kernel took all of `data` at once; False when (some of) it went through Twisted's buffer,
    or was dropped because the connection is already closed for writing (as `transport.write` itself does).
    """
    if not transport.connected or transport._writeDisconnected:
        return False
    if transport.disconnecting or pending_bytes(transport):
        transport.write(data)
        return False
    try:
        sent = transport.socket.send(data)
    except OSError as error:
        if error.errno not in _RETRY_LATER:
            # A broken or closed socket: Twisted's own write attempt finds it and closes the connection.
            transport.write(data)
            return False
        sent = 0
    if sent < len(data):
        transport.write(data[sent:])
        return False
    return True


def protocol_class():
    """Daphne's WebSocket protocol with direct writes and a bounded output buffer (built lazily: imports Twisted)."""
    global _protocol_class
    if _protocol_class is not None:
        return _protocol_class

    from daphne.http_protocol import WebRequest as http_request
    from daphne.ws_protocol import WebSocketProtocol

    plain = _plain_transport_types()
    state_open = WebSocketProtocol.STATE_OPEN
    if state_open != _STATE_OPEN:  # fan_out and Writer test the state against the number itself
        raise RuntimeError(f"autobahn's STATE_OPEN is {state_open}, not {_STATE_OPEN}")

    class LiveWebSocketProtocol(WebSocketProtocol):
        # Set by install() from the settings; class attributes so that a connection costs no extra memory.
        direct_write = True
        send_buffer_limit = 0
        # The factory whose options (autobahn's CONFIG_ATTRS) this class holds: see _connectionMade.
        options_factory = None

        def _connectionMade(self):
            # Autobahn copies its ~30 options from the factory onto every connection, unless the protocol already
            # has them. Daphne sets them once per server, so they are kept here, on the class, for the factory of
            # the first connection: a connection's attribute dictionary holds only its own state (about 1.5 KB
            # less per idle connection). Connections of another factory in the same process get their own copy.
            cls = LiveWebSocketProtocol
            if cls.options_factory is None:
                for name in self.CONFIG_ATTRS:
                    value = getattr(self.factory, name)
                    # A function kept on a class would become a method (perMessageCompressionAccept is one).
                    setattr(cls, name, staticmethod(value) if inspect.isfunction(value) else value)
                cls.options_factory = self.factory
            elif cls.options_factory is not self.factory:
                for name in self.CONFIG_ATTRS:
                    setattr(self, name, getattr(self.factory, name))
            super()._connectionMade()
            # Autobahn's deque for chopped or synchronised sends (never used by Daphne's sends): one shared empty
            # deque until sendData takes autobahn's queued path, which gives the connection its own (0.75 KB less).
            if type(self.send_queue) is collections.deque and not self.send_queue:
                self.send_queue = _NO_SENDS

        # Set on a handshake refused because this process has too many joins in flight (live/limits.py
        # JoinGate): the close reason. Such a socket gets no ASGI application at all: the handshake completes (so
        # that the client can read a close code, which a browser cannot do for an HTTP 503) and the connection is
        # closed at once with 4503 and the time to come back.
        busy_reason = None

        def onConnect(self, request):
            from live.limits import gate

            if gate.full():
                self.busy_reason = gate.refusal_reason()
                return None
            return super().onConnect(request)

        def onMessage(self, payload, isBinary):
            if self.busy_reason is None:
                super().onMessage(payload, isBinary)

        def onClose(self, wasClean, code, reason):
            if self.busy_reason is None:  # a refused socket was never known to Daphne's server
                super().onClose(wasClean, code, reason)

        def handle_reply(self, message):
            # Daphne drops a close message's reason; the room's 4503 carries the time to come back in it.
            if (message.get("type") == "websocket.close" and message.get("reason")
                    and self.state == self.STATE_OPEN):
                self.sendClose(code=message.get("code") or 1000, reason=message["reason"])
                return
            super().handle_reply(message)

        def onOpen(self):
            if self.busy_reason is not None:
                from live.limits import CLOSE_BUSY

                self.sendClose(code=CLOSE_BUSY, reason=self.busy_reason)
                return
            super().onOpen()
            # Twisted's HTTP channel that carried the upgrade stays the transport's registered producer for the
            # connection's life, and holds the upgrade request (a request that never finishes: the channel's flow
            # control does not use it), its headers and body: about 2 KB per connection. Let the request go.
            requests = getattr(getattr(self.transport, "producer", None), "requests", None)
            if isinstance(requests, list) and all(isinstance(r, http_request) for r in requests):
                requests.clear()
            # Autobahn keeps the handshake's raw bytes and parsed headers after the handshake (Daphne has built
            # the ASGI scope from them already, and only reads `request.path` later): about 1 KB per connection.
            self.http_request_data = None
            if isinstance(self.http_headers, dict):
                self.http_headers.clear()  # the same dictionary as self.request.headers

        def sendData(self, data, sync=False, chopsize=None):
            transport = self.transport
            if sync or chopsize or self.send_queue or transport.__class__ not in plain:
                if self.send_queue is _NO_SENDS:  # autobahn's own queued path: the connection's own deque now
                    self.send_queue = collections.deque()
                return super().sendData(data, sync, chopsize)
            pending = pending_bytes(transport)
            if pending and self.send_buffer_limit and pending > self.send_buffer_limit:
                if not transport._aborting:
                    logger.info("Disconnecting a WebSocket client that stopped reading (%d bytes unsent)", pending)
                    transport.abortConnection()
                return None
            if self.direct_write and not pending:
                write(transport, data)
            else:
                transport.write(data)
            if self.state == state_open:
                self.trafficStats.outgoingOctetsWireLevel += len(data)
            else:
                self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)
            if self.logOctets:
                self.logTxOctets(data, False)
            return None

    _protocol_class = LiveWebSocketProtocol
    return _protocol_class


def install(*, direct_write: bool | None = None, send_buffer_limit: int | None = None) -> bool:
    """Make Daphne build its WebSocket connections from `LiveWebSocketProtocol`. Returns whether it engaged.

    Arguments default to the settings LIVE_DIRECT_WRITE and LIVE_SEND_BUFFER_LIMIT. Must run before Daphne's
    server starts (academy/asgi.py is imported before that). On other versions than PINNED it changes nothing.
    """
    found = installed_versions()
    if found != PINNED:
        logger.warning(
            "live.transport not engaged: it is tested with %s, found %s (Daphne's normal writes are used, "
            "and slow clients are not disconnected)", PINNED, found,
        )
        return False
    if direct_write is None or send_buffer_limit is None:
        from django.conf import settings

        direct_write = settings.LIVE_DIRECT_WRITE if direct_write is None else direct_write
        send_buffer_limit = settings.LIVE_SEND_BUFFER_LIMIT if send_buffer_limit is None else send_buffer_limit
    from daphne import ws_protocol

    global _engaged
    cls = protocol_class()
    cls.direct_write = bool(direct_write)
    cls.send_buffer_limit = int(send_buffer_limit)
    ws_protocol.WebSocketFactory.protocol = cls
    _engaged = True
    return True


_NO_PUTTERS = collections.deque()
_NO_SENDS = collections.deque()


def lighten_receive(receive) -> None:
    """Daphne's per-connection input queue (an unbounded asyncio.Queue behind ASGI `receive`) holds three deques of
    about 750 bytes each; the one for blocked `put`s can never be used by an unbounded queue (put never waits), so
    all such queues share one empty deque. Does nothing for any other `receive`."""
    queue = getattr(receive, "__self__", None)
    if (_engaged and type(queue) is asyncio.Queue and queue.maxsize <= 0 and type(queue._putters) is collections.deque
            and not queue._putters):
        queue._putters = _NO_PUTTERS


def frame(text: str) -> bytes:
    """A complete, unmasked WebSocket text frame carrying `text` (what autobahn's sendMessage would build)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


class Writer:
    """Writes ready WebSocket frames to one Daphne connection: `writer(frame) -> bool` (False when the connection is
    no longer open: nothing is written then), through the protocol's bounded, direct `sendData`.

    `send` is the connection's `socket.send` where `fan_out` may call it itself (a plain TCP or Unix transport with
    direct writes on), else None."""

    __slots__ = ("protocol", "transport", "send", "connections")

    def __init__(self, protocol, connections):
        self.protocol, self.connections = protocol, connections
        self.transport = transport = protocol.transport
        sock = getattr(transport, "socket", None)  # gone once the connection is lost
        self.send = None
        if protocol.direct_write and type(transport) in _plain_transport_types() and not protocol.logOctets and sock:
            self.send = sock.send

    def __call__(self, data: bytes) -> bool:
        protocol = self.protocol
        if protocol.state != _STATE_OPEN:
            return False
        details = self.connections.get(protocol)
        if details is None or "disconnected" in details:
            return False
        protocol.sendData(data)
        return True


def fan_out(writers: list[Writer], data: bytes) -> list[int]:
    """Write one frame to many connections (each writer with a `send`); returns the positions in `writers` of those
    no longer open.

    A connection that is open with nothing waiting before the frame (nothing in Twisted's buffer nor in autobahn's
    send queue: nearly all, nearly always) gets it from its `socket.send`, called for all of them in one loop in C
    (`map`): no Python frame per connection, no `sendData`. What such a send does not finish (a partial write,
    EAGAIN, an error) goes to Twisted's `transport.write`, as `write` above does: the rest in order, an error then
    noticed by Twisted, which closes the connection. The others (bytes already waiting, a close frame sent) take
    their writer's checked path, which also applies LIVE_SEND_BUFFER_LIMIT. (Frames sent in C are not added to
    autobahn's octet counters, which nothing here reads.)
    """
    # `3` is _STATE_OPEN written out: the comprehension runs over tens of thousands and reads no global for it.
    ready = [w for w in writers if w.protocol.state == 3 and not w.transport.dataBuffer
             and not w.transport._tempDataLen and not w.protocol.send_queue]
    sent: list[int] = []
    sends = iter([w.send for w in ready])
    while True:
        try:
            sent.extend(map(operator.call, sends, itertools.repeat(data)))
            break
        except OSError:  # this connection (the next in `sent`) is finished by Twisted below
            sent.append(-1)
    size = len(data)
    if sent.count(size) != len(sent):
        for writer, count in zip(ready, sent):
            if count != size:
                writer.transport.write(data[count:] if count > 0 else data)
    closed = []
    if len(ready) != len(writers):
        taken = set(map(id, ready))
        for index, writer in enumerate(writers):
            if id(writer) not in taken and not writer(data):
                closed.append(index)
    return closed


def writer_for(send) -> Writer | None:
    """The `Writer` for the Daphne connection behind ASGI `send`, or None."""
    if not _engaged:
        return None
    from channels.sessions import InstanceSessionWrapper
    from daphne.server import Server

    owner = getattr(send, "__self__", None)
    if isinstance(owner, InstanceSessionWrapper):  # Channels' SessionMiddleware wraps send
        send = owner.real_send
    if not (isinstance(send, functools.partial) and getattr(send.func, "__func__", None) is Server.handle_reply
            and len(send.args) == 1):
        return None
    server, protocol = send.func.__self__, send.args[0]
    cls = protocol_class()
    if not isinstance(protocol, cls) or getattr(protocol, "_perMessageCompress", None) is not None:
        return None
    return Writer(protocol, server.connections)
