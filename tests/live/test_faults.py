"""Faults in a running live room: a Daphne process killed, Redis restarted, a client that stops reading.

Real servers (`python -m academy.serve`, the production launcher) on the test database, real clients (the load
generator's minimal WebSocket client) that reconnect with back-off and jitter and resume with `?since=&epoch=` as
docs/live-protocol.md asks. Checked: every client ends at the room's last event with no gap and no duplicate in
its sequence (or starts again from a fresh snapshot when the room's history began again), every acknowledged vote
and approval is in the database, and a client that stops reading is disconnected instead of growing the server.

With REDIS_URL set the room runs two processes sharing Redis; without it one process with the in-memory layer.
The Redis restart test starts its own redis-server on a free port (it must be installed when REDIS_URL is set).
"""
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from bench.wsclient import ClientProtocol, encode_frame, handshake_request
from live.models import Question, Vote
from tests.factories import UserFactory
from tests.factories.live import make_live_session
from tests.servers import Serve, database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.django_db(transaction=True)


# --- servers ------------------------------------------------------------------------------------------------------

def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Room(Serve):
    """`python -m academy.serve --processes N` on the test database, every worker answering."""

    def __init__(self, tmp_path, processes: int, **environ):
        env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true", "PYTHONUNBUFFERED": "1",
               "LOG_LEVEL": "WARNING", "ACCESS_LOG_LEVEL": "WARNING", **environ}
        if not environ.get("REDIS_URL", REDIS_URL):
            env.pop("REDIS_URL", None)
        super().__init__(tmp_path / f"serve-{len(list(tmp_path.glob('serve-*.log')))}.log", processes, env=env)


@pytest.fixture
def start_room(tmp_path):
    rooms = []

    def start(processes, **environ):
        room = Room(tmp_path, processes, **environ)
        rooms.append(room)
        return room

    yield start
    for room in rooms:
        room.stop()
        # Shown by pytest when the test failed: what the servers said.
        print(f"--- {room.log.name}\n{room.log.read_text(errors='replace')[-6000:]}", file=sys.stderr)


class RedisServer:
    def __init__(self, port: int, *options: str):
        self.port = port
        self.options = options  # more redis-server options (later ones win: "--appendonly", "yes")
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", *self.options],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)  # poll again until the deadline
        raise RuntimeError("redis-server did not start")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- clients ------------------------------------------------------------------------------------------------------

class RoomClient:
    """A participant's (or moderator's) client: reconnects with back-off and jitter, resumes from its last seq."""

    def __init__(self, port, path, cookie, name):
        self.port, self.path, self.cookie, self.name = port, path, cookie, name
        self.epoch = None
        self.last_seq = None
        self.duplicates = self.gaps = 0
        self.snapshots = self.resumes = self.connections = self.resets = 0
        self.approved: set[int] = set()
        self.replies = 0
        self.trail = []  # what happened, for the assertion messages
        self.pending: dict[str, asyncio.Future] = {}
        self.protocol = None
        self.ready = asyncio.Event()
        self.stopped = False
        self.task = asyncio.ensure_future(self.run())

    async def run(self):
        loop = asyncio.get_running_loop()
        delay = 0.2
        while not self.stopped:
            query = f"?since={self.last_seq}&epoch={self.epoch}" if self.epoch is not None else ""
            opened = loop.create_future()
            request = handshake_request(self.path + query, f"127.0.0.1:{self.port}", f"http://127.0.0.1:{self.port}",
                                        f"sessionid={self.cookie}")
            closed = loop.create_future()
            protocol = _Protocol(request, opened, self, closed)
            try:
                await loop.create_connection(lambda: protocol, "127.0.0.1", self.port)
                if await asyncio.wait_for(opened, 10):
                    self.connections += 1
                    self.protocol = protocol
                    await closed
                    if time.monotonic() - protocol.started > 5:
                        delay = 0.2
            except (OSError, asyncio.TimeoutError):
                pass
            self.protocol = None
            self.ready.clear()
            for future in self.pending.values():
                if not future.done():
                    future.set_result(None)  # outcome unknown: the caller asks again
            if self.stopped:
                return
            await asyncio.sleep(delay + random.uniform(0, delay))  # back-off with jitter
            delay = min(delay * 2, 2.0)

    def on_message(self, message):
        kind = message.get("type")
        self.trail.append((kind, self.connections, message.get("seq"), message.get("name")))
        if kind == "snapshot":
            self.snapshots += 1
            self.resets += message.get("reset", False)  # sent on the open socket: the history started again
            self.epoch, self.last_seq = message["epoch"], message["seq"]
            self.approved = {q["id"] for q in message["questions"] if q["status"] in ("approved", "answered")}
            self.ready.set()
        elif kind == "resumed":
            self.resumes += 1
            self.gaps += message["seq"] != self.last_seq  # `resumed` names the last event replayed
            self.ready.set()
        elif kind == "event":
            seq = message["seq"]
            if seq <= self.last_seq:
                self.duplicates += 1
                self.trail.append(("dup", self.connections, seq, self.last_seq, message["name"]))
                return
            self.gaps += seq - self.last_seq - 1
            self.last_seq = seq
            if message["name"] == "question.approved":
                self.approved.add(message["data"]["question"]["id"])
            elif message["name"] == "question.replied":
                self.replies += 1
        elif kind in ("ack", "error") and message.get("id") in self.pending:
            future = self.pending.pop(message["id"])
            if not future.done():
                future.set_result(message)

    async def request(self, command: dict, *, attempts: int = 30):
        """Send until acknowledged (a command lost with its connection is sent again); the ack, or None."""
        for attempt in range(attempts):
            await asyncio.wait_for(self.ready.wait(), 30)
            request_id = f"{command['type']}-{random.getrandbits(40)}"
            future = asyncio.get_running_loop().create_future()
            self.pending[request_id] = future
            self.protocol.send_text(json.dumps({**command, "id": request_id}))
            try:
                answer = await asyncio.wait_for(future, 10)
            except asyncio.TimeoutError:
                answer = None
            if answer is not None and (answer["type"] == "ack" or answer.get("code") != "server_error"):
                return answer
            await asyncio.sleep(0.3)  # the client's pause before it sends again (what a client does, not a wait)
        return None

    async def stop(self):
        self.stopped = True
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()
        await asyncio.wait([self.task], timeout=5)


class _Protocol(ClientProtocol):
    __slots__ = ("client", "closed_future", "started")

    def __init__(self, request, opened, client, closed_future):
        super().__init__(request, opened)
        self.client, self.closed_future, self.started = client, closed_future, time.monotonic()

    def on_text(self, payload, now_ms):
        self.client.on_message(json.loads(payload))

    def on_close(self):
        if not self.closed_future.done():
            self.closed_future.set_result(self.close_code)


# --- data ---------------------------------------------------------------------------------------------------------

def build_room(participants: int, questions: int):
    moderator = UserFactory(username="fault-moderator", real_name="莫主持")
    users = [UserFactory(username=f"fault-user-{i}") for i in range(participants)]
    session = make_live_session(moderators=[moderator])
    pending = [Question.objects.create(session=session, author=users[i % participants], text=f"问题{i + 1}:怎么做?",
                                       status=Question.Status.PENDING) for i in range(questions)]
    votable = Question.objects.create(session=session, author=moderator, text="大家都来投票的问题",
                                      status=Question.Status.APPROVED)

    def cookie(user):
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    return session, cookie(moderator), [(u, cookie(u)) for u in users], [q.pk for q in pending], votable.pk


async def connect_all(port, path, moderator_cookie, people):
    moderator = RoomClient(port, path, moderator_cookie, "moderator")
    clients = [RoomClient(port, path, cookie, user.username) for user, cookie in people]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in [moderator, *clients])), 30)
    return moderator, clients


async def approve(moderator, question_id):
    answer = await moderator.request({"type": "question.approve", "question": question_id})
    assert answer is not None and answer["type"] == "ack", answer
    return answer


async def everyone_caught_up(moderator, clients, approved: set, timeout=40):
    """Wait until every client is in the moderator's epoch at its last seq, having seen every approval."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.epoch == moderator.epoch and c.last_seq == moderator.last_seq and approved <= c.approved
               and c.ready.is_set() for c in clients):
            return
        await asyncio.sleep(0.1)
    states = [(c.name, c.epoch, c.last_seq, sorted(approved - c.approved)) for c in clients]
    raise AssertionError(f"not caught up with {moderator.epoch}/{moderator.last_seq}: {states}")


def db_votes(question_id):
    return set(Vote.objects.filter(question_id=question_id).values_list("user_id", flat=True))


# --- the tests ----------------------------------------------------------------------------------------------------

def test_killing_a_daphne_process_mid_session_loses_nothing(start_room):
    processes = 2 if REDIS_URL else 1
    session, moderator_cookie, people, pending, votable = build_room(participants=8, questions=8)
    room = start_room(processes)
    path = f"/ws/live/{session.pk}/"

    async def scenario():
        moderator, clients = await connect_all(room.port, path, moderator_cookie, people)
        acked_votes = set()
        for question_id in pending[:4]:
            await approve(moderator, question_id)
        for (user, _), client in zip(people[:4], clients[:4]):
            answer = await client.request({"type": "question.vote", "question": votable})
            assert answer["type"] == "ack", answer
            acked_votes.add(user.pk)

        victim = room.workers()[0]
        os.kill(victim, signal.SIGKILL)  # mid-session, no goodbye

        for question_id in pending[4:]:
            await approve(moderator, question_id)
        for (user, _), client in zip(people[4:], clients[4:]):
            answer = await client.request({"type": "question.vote", "question": votable})
            assert answer is not None and answer["type"] == "ack", answer
            acked_votes.add(user.pk)
        await everyone_caught_up(moderator, clients, set(pending))
        for client in [moderator, *clients]:
            await client.stop()
        return moderator, clients, acked_votes

    moderator, clients, acked_votes = asyncio.run(scenario())
    assert sum(c.connections > 1 for c in [moderator, *clients]) >= 1  # someone was on the killed process
    for client in [moderator, *clients]:
        if (client.duplicates, client.gaps) != (0, 0):
            print(client.name, [t for t in client.trail if t[0] != "counts"], file=sys.stderr)
        assert (client.duplicates, client.gaps) == (0, 0), client.name
    if processes == 2:  # the history in Redis survived: the dropped clients resumed, none needed a snapshot
        assert all(c.snapshots == 1 for c in clients)
        assert sum(c.resumes for c in clients) >= 1
    assert acked_votes <= db_votes(votable)
    assert set(Question.objects.filter(pk__in=pending, status="approved").values_list("pk", flat=True)) == set(pending)


def test_restarting_redis_mid_session_loses_nothing(start_room):
    if not shutil.which("redis-server"):
        if REDIS_URL:
            pytest.fail("REDIS_URL is set, so this test needs redis-server (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (and REDIS_URL is not set)")
    redis = RedisServer(free_port())
    redis.start()
    try:
        session, moderator_cookie, people, pending, votable = build_room(participants=6, questions=6)
        room = start_room(2, REDIS_URL=f"redis://127.0.0.1:{redis.port}/0")
        path = f"/ws/live/{session.pk}/"

        async def scenario():
            moderator, clients = await connect_all(room.port, path, moderator_cookie, people)
            first_epoch = moderator.epoch
            acked_votes = set()
            for question_id in pending[:2]:
                await approve(moderator, question_id)
            answer = await clients[0].request({"type": "question.vote", "question": votable})
            assert answer["type"] == "ack"
            acked_votes.add(people[0][0].pk)

            redis.kill()  # and waited for: from here on, nothing answers on its port
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", redis.port), timeout=1).close()
            # During the outage: what is acknowledged must be in the database; what fails may be retried.
            outage = [clients[1].request({"type": "question.vote", "question": votable}, attempts=1),
                      moderator.request({"type": "question.approve", "question": pending[2]}, attempts=1)]
            vote_answer, approve_answer = await asyncio.gather(*outage)
            if vote_answer and vote_answer["type"] == "ack":
                acked_votes.add(people[1][0].pk)
            redis.start()  # an empty Redis: the room's history starts again (a new epoch)

            for question_id in pending[2:]:
                await approve(moderator, question_id)
            for (user, _), client in zip(people[2:], clients[2:]):
                answer = await client.request({"type": "question.vote", "question": votable})
                assert answer is not None and answer["type"] == "ack", answer
                acked_votes.add(user.pk)
            await everyone_caught_up(moderator, clients, set(pending))
            for client in [moderator, *clients]:
                await client.stop()
            return moderator, clients, acked_votes, first_epoch

        moderator, clients, acked_votes, first_epoch = asyncio.run(scenario())
    finally:
        redis.kill()
    assert moderator.epoch != first_epoch  # the history began again …
    for client in [moderator, *clients]:
        assert client.duplicates == 0 and client.gaps == 0, (client.name, client.trail)
        assert client.resets >= 1, (client.name, client.trail)  # … and everyone got a fresh snapshot …
        assert client.connections == 1, (client.name, client.trail)  # … on the socket it had: nobody reconnected
    assert acked_votes <= db_votes(votable)
    assert set(Question.objects.filter(pk__in=pending, status="approved").values_list("pk", flat=True)) == set(pending)


def test_a_client_that_stops_reading_is_disconnected_and_the_room_goes_on(start_room):
    session, moderator_cookie, people, pending, votable = build_room(participants=1, questions=1)
    room = start_room(1, LIVE_SEND_BUFFER_LIMIT="16384")
    path = f"/ws/live/{session.pk}/"
    replies = 40

    async def scenario():
        moderator, clients = await connect_all(room.port, path, moderator_cookie, people)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", room.port))
        stalled.sendall(handshake_request(path, f"127.0.0.1:{room.port}", f"http://127.0.0.1:{room.port}",
                                          f"sessionid={people[0][1]}"))
        stalled.settimeout(30)
        head = b""
        while b'"snapshot"' not in head:  # joined (a client sends nothing before the server's 101)
            head += stalled.recv(65536)
        # It sends and never reads: every unknown command is answered with an error naming its id (~200 bytes),
        # and every event of the room goes to it too. Loopback's kernel buffers take about 4 MB; past that the
        # answers would pile up in the server process, unless it drops the connection.
        flood = encode_frame(json.dumps({"type": "nothing", "id": "z" * 64}).encode()) * 30_000
        stalled.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 30
        while sent < len(flood) and time.monotonic() < deadline:
            try:
                sent += stalled.send(flood[sent:sent + 65536])
            except BlockingIOError:
                await asyncio.sleep(0.01)  # poll until the kernel takes more
            except OSError:
                break
        text = "长回复" * 166
        for i in range(replies):
            answer = await moderator.request({"type": "question.reply", "question": votable, "text": f"{i}{text}"})
            assert answer["type"] == "ack", answer
            await asyncio.sleep(0.06)  # under the room's per-connection message rate
        deadline = time.monotonic() + 20
        while clients[0].replies < replies and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # poll for the condition
        gone = False
        deadline = time.monotonic() + 90
        while not gone and time.monotonic() < deadline:  # look without reading: a reset shows as an error
            try:
                stalled.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                gone = stalled.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                gone = True
            if not gone:
                await asyncio.sleep(0.2)  # poll for the condition
        stalled.close()
        for client in [moderator, *clients]:
            await client.stop()
        return clients[0], gone

    reader, gone = asyncio.run(scenario())
    assert reader.replies == replies and reader.duplicates == 0 and reader.gaps == 0  # the room went on
    assert gone  # the server closed the connection that stopped reading (not holding megabytes for it)
