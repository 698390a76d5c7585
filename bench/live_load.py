#!/usr/bin/env python
"""Load benchmark of the live room: N participants in one session, K broadcasts, an upvote storm.

    python bench/live_load.py --participants N --broadcasts K [--system academy|stock|both] [--processes P] [--json]
    python bench/live_load.py --participants N --broadcasts 1 --system academy --tracemalloc   (where memory goes)

It starts what it measures: the project as production runs it, the documented command `python -m academy.serve
--processes P -b 127.0.0.1 -p PORT` (P Daphne processes sharing one port, Daphne's time-outs and access log as
academy/serve.py sets them), and the baseline, a stock Channels consumer on channels_redis's core layer
(bench/stock/) in P plain `daphne -v 0` processes on one port, in the same run. With REDIS_URL and DATABASE_URL set
it runs against Redis and PostgreSQL; without them against a SQLite file and the in-memory layer, with one process and
no baseline (the baseline needs Redis).

It prepares its own data (bench users with real Django sessions, one live session per system, K pending questions
and one question to vote on), drives the servers with its own load generator (asyncio, several processes, the
hand-written client in bench/wsclient.py, source addresses spread over 127.0.0.2-127.0.0.x) and measures:
- connects/s: participants connected (snapshot received) ÷ the time from the first connect to the last snapshot;
- KB per participant: the servers' RSS after the joins minus before, per participant;
- broadcast latency: receipt time on each participant minus the event's `ts` (when the server accepted the
  moderator's approve); p50, p99 and the last delivery of all broadcasts;
- CPU ms per delivery: the server processes' CPU time during the broadcasts ÷ messages delivered;
- the generator's CPU ms per frame: the load generator's own CPU time over the same phase ÷ the text frames it
  received (it shares the cores with the servers: a share of every latency);
- lost and duplicate messages by `seq`;
- the upvote storm: every participant votes for one question within --storm-seconds; acks counted; the database
  checked afterwards (votes counted, no user twice).
It prints a table and, with --json, one JSON object as its last line. It stops by itself (--timeout).
With --tracemalloc ours runs under bench/live_memory.py, which takes a census of each server process before and
after the joins (object kinds, tracemalloc's allocations by file) and prints the difference per participant; its
figures are for the breakdown, not for the other figures (tracemalloc slows and grows the servers).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import json
import multiprocessing
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from academy.serve import worker_pids  # noqa: E402
from bench.wsclient import BUSY, BlockingClient, ClientProtocol, busy_delay, handshake_request  # noqa: E402

SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-live-load-not-a-production-key-" + "x" * 20,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "ACCESS_LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
    # Persistent database connections: with CONN_MAX_AGE=0 every database_sync_to_async call opens a new one.
    "CONN_MAX_AGE": "300",
}
SYSTEMS = {
    "academy": {"app": "academy.asgi:application", "settings": "academy.settings", "path": "/ws/live/{pk}/",
                "launcher": "serve"},
    "stock": {"app": "bench.stock.asgi:application", "settings": "bench.stock.settings", "path": "/ws/stock/{pk}/",
              "launcher": "daphne"},
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def log(*parts):
    print(time.strftime("%H:%M:%S", time.gmtime()), *parts, file=sys.stderr, flush=True)


# === Load generator (worker processes) =========================================================================

class Participant(ClientProtocol):
    __slots__ = ("worker", "last_seq", "joined", "vote_sent", "vote_done")

    def __init__(self, request, opened, worker):
        super().__init__(request, opened)
        self.worker = worker
        self.last_seq = None
        self.joined = None
        self.vote_sent = 0.0
        self.vote_done = False

    def on_text(self, payload, now_ms):
        w = self.worker
        w.frames += 1
        if b'"counts"' in payload[:20]:
            w.counts += 1
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "event":
            seq = message["seq"]
            if self.last_seq is None or seq > self.last_seq:
                if self.last_seq is not None:
                    w.gaps += seq - self.last_seq - 1
                self.last_seq = seq
                w.deliveries += 1
                if w.recording:
                    w.latencies.append(now_ms - message["ts"])
            else:
                w.duplicates += 1
        elif kind == "snapshot" or kind == "resumed":
            self.last_seq = message["seq"]
            if self.joined is not None and not self.joined.done():
                self.joined.set_result(True)
        elif kind == "ack":
            if self.vote_sent and not self.vote_done:
                self.vote_done = True
                w.acks += 1
                w.counted += bool(message.get("counted"))
                w.ack_latencies.append(now_ms - self.vote_sent)
                w.last_ack = max(w.last_ack, now_ms)
        elif kind == "error":
            w.errors[message.get("code", "?")] += 1
            if self.vote_sent and not self.vote_done:
                self.vote_done = True

    def on_close(self):
        w = self.worker
        w.closed += self.close_code != BUSY  # a refused connect (tried again) is not a connection lost
        w.close_codes[self.close_code or 1006] += 1
        if self.joined is not None and not self.joined.done():
            self.joined.set_result(False)


class Worker:
    def __init__(self, config):
        self.config = config
        self.participants: list[Participant] = []
        self.counts = self.deliveries = self.gaps = self.duplicates = self.closed = self.frames = 0
        self.cpu_start = 0.0
        self.acks = self.counted = 0
        self.last_ack = 0.0
        self.recording = False
        self.latencies: list[float] = []
        self.ack_latencies: list[float] = []
        self.errors = collections.Counter()
        self.close_codes = collections.Counter()
        self.failures = collections.Counter()
        self.busy = 0  # connects refused with 4503 (and tried again when told)

    async def connect_all(self, cookies, start_at, path, port, origin):
        cfg = self.config
        cfg.update(path=path, port=port, origin=origin)
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        semaphore = asyncio.Semaphore(cfg["concurrency"])
        sources = [f"127.0.0.{2 + (cfg['index'] * 7 + i) % cfg['sources']}" for i in range(cfg["sources"])]
        first, last = [None], [None]

        async def one(i, cookie):
            # As room.js: a connect refused with 4503 (the process is busy with other joins) comes back after the
            # time the close reason gives, without holding a place among the concurrent connects meanwhile.
            rng = random.Random(i)
            while True:
                participant = await attempt(i, cookie)
                if participant is None or participant.close_code != BUSY:
                    return
                self.busy += 1
                await asyncio.sleep(busy_delay(participant.close_reason, rng))

        async def attempt(i, cookie):
            async with semaphore:
                if first[0] is None:
                    first[0] = time.time()
                opened = loop.create_future()
                request = handshake_request(cfg["path"], f"127.0.0.1:{cfg['port']}", cfg["origin"],
                                            f"sessionid={cookie}")
                participant = Participant(request, opened, self)
                participant.joined = loop.create_future()
                try:
                    await asyncio.wait_for(loop.create_connection(
                        lambda: participant, "127.0.0.1", cfg["port"], local_addr=(sources[i % len(sources)], 0)),
                        cfg["connect_timeout"])
                    if not await asyncio.wait_for(opened, cfg["connect_timeout"]):
                        self.failures[f"http {participant.close_code}"] += 1
                        return None
                    if not await asyncio.wait_for(participant.joined, cfg["connect_timeout"]):
                        if participant.close_code != BUSY:
                            self.failures[f"closed {participant.close_code}"] += 1
                        return participant
                except asyncio.TimeoutError:
                    self.failures["timeout"] += 1
                    if participant.transport is not None:
                        participant.transport.abort()
                    return None
                except OSError as error:
                    self.failures[type(error).__name__] += 1
                    return None
                participant.joined = None
                self.participants.append(participant)
                last[0] = time.time()
                return None

        await asyncio.gather(*(one(i, cookie) for i, cookie in enumerate(cookies)))
        return {"connected": len(self.participants), "failures": dict(self.failures), "busy": self.busy,
                "first": first[0],
                "last": last[0]}

    def start_recording(self):
        self.recording = True
        self.latencies = []
        self.deliveries = self.gaps = self.duplicates = self.frames = 0
        self.cpu_start = time.process_time()
        return {"ok": True}

    async def collect(self, final_seq, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.last_seq is not None and p.last_seq >= final_seq for p in self.participants if not p.closed):
                break
            await asyncio.sleep(0.05)
        self.recording = False
        cpu = time.process_time() - self.cpu_start
        behind = sum(max(0, final_seq - (p.last_seq or 0)) for p in self.participants)
        return {"latencies": self.latencies, "deliveries": self.deliveries, "lost": self.gaps + behind,
                "cpu_s": cpu, "frames": self.frames,
                "duplicates": self.duplicates, "closed": self.closed, "counts": self.counts,
                "close_codes": dict(self.close_codes)}

    async def storm(self, question_id, start_at, spread, timeout):
        loop = asyncio.get_running_loop()
        rng = random.Random(self.config["index"])
        live = [p for p in self.participants if not p.closed]
        sent = 0

        def vote(p, i):
            nonlocal sent
            if p.closed:
                return
            p.vote_sent = time.time() * 1000.0
            p.send_text(json.dumps({"type": "question.vote", "id": f"v{i}", "question": question_id},
                                   separators=(",", ":")))
            sent += 1

        offset = loop.time() - time.time()
        for i, p in enumerate(live):
            loop.call_at(start_at + rng.random() * spread + offset, vote, p, i)
        await asyncio.sleep(max(0.0, start_at + spread - time.time()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(p.vote_sent and not p.vote_done and not p.closed for p in live):
            await asyncio.sleep(0.05)
        first_sent = min((p.vote_sent for p in live if p.vote_sent), default=0.0)
        return {"sent": sent, "acks": self.acks, "counted": self.counted, "errors": dict(self.errors),
                "ack_latencies": self.ack_latencies, "first_sent": first_sent, "last_ack": self.last_ack,
                "closed": self.closed}

    def close_all(self):
        for p in self.participants:
            if p.transport is not None:
                p.transport.abort()
        return {"closed": len(self.participants)}


def command_loop(conn, commands_of, final: str) -> None:
    """A load generator's process: answers its parent's commands over `conn` (a multiprocessing Pipe) until
    `final`. `commands_of()`, called inside the process's event loop, gives {name: function}; a command is
    (name, *args), and its answer what the function returns (awaited when it is a coroutine)."""
    raise_file_limit()
    asyncio.run(_command_loop(conn, commands_of, final))


async def _command_loop(conn, commands_of, final: str) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: queue.put_nowait(conn.recv()))
    commands = commands_of()
    while True:
        name, *args = await queue.get()
        function = commands.get(name)
        result = function(*args) if function else {"error": f"unknown command {name}"}
        if inspect.isawaitable(result):
            result = await result
        if name == final:
            await asyncio.sleep(0.2)  # the last frames leave before the process ends
            conn.send(result)
            return
        conn.send(result)


def worker_main(conn, config):
    def commands():
        worker = Worker(config)
        return {"connect": worker.connect_all, "record": worker.start_recording, "collect": worker.collect,
                "storm": worker.storm, "close": worker.close_all}

    command_loop(conn, commands, final="close")


# === Servers ====================================================================================================

def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Servers:
    """A system's P Daphne processes on one shared port (SO_REUSEPORT).

    Ours is started with the documented production command, `python -m academy.serve --processes P -b 127.0.0.1
    -p PORT` (docs/deployment.md; its workers are its child processes), and nothing else: it writes no access log
    and sets Daphne's time-outs itself. The baseline is P plain `daphne` processes, as the Channels documentation
    starts it, with -v 0 so that it does not spend its time on an access log on stdout either."""

    def __init__(self, system: str, processes: int, port: int, daphne_args: list[str], log_dir: Path,
                 memory: bool = False):
        self.system, self.port, self.expected, self.log_dir = system, port, processes, log_dir
        self.launched: list[subprocess.Popen] = []
        self.processes: list[int] = []  # the Daphne processes' pids, once they answer
        spec = SYSTEMS[system]
        env = {**os.environ, **SERVER_ENV, "DJANGO_SETTINGS_MODULE": spec["settings"]}
        self.memory_dir = None
        if memory and spec["launcher"] == "serve":
            self.memory_dir = log_dir / f"memory-{system}"
            self.memory_dir.mkdir(parents=True, exist_ok=True)
            env["BENCH_MEMORY_DIR"] = str(self.memory_dir)
        if spec["launcher"] == "serve" and self.memory_dir is None:
            with open(log_dir / f"{system}-0.log", "wb") as log_file:
                self.launched.append(subprocess.Popen(
                    [sys.executable, "-m", "academy.serve", "--processes", str(processes), "-b", "127.0.0.1",
                     "-p", str(port), *daphne_args, spec["app"]],
                    cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                ))
            return
        for index in range(processes):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(4096)
            # The baseline as the Channels documentation starts it (plain `daphne`, -v 0: no access log on stdout);
            # with --tracemalloc ours runs academy.serve's worker under bench/live_memory.py (the census hook).
            launcher = ["bench.live_memory", "--worker"] if self.memory_dir is not None else ["daphne", "-v", "0"]
            with open(log_dir / f"{system}-{index}.log", "wb") as log_file:
                self.launched.append(subprocess.Popen(
                    [sys.executable, "-m", *launcher, "--fd", str(sock.fileno()), *daphne_args, spec["app"]],
                    cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, pass_fds=[sock.fileno()],
                    start_new_session=True,
                ))
            sock.close()

    def daphne_pids(self) -> list[int]:
        if SYSTEMS[self.system]["launcher"] == "serve" and self.memory_dir is None:
            return worker_pids(self.launched[0].pid)
        return [p.pid for p in self.launched]

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.launched):
                break
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
            except urllib.error.HTTPError:
                pass  # it answers: 503 for the static files this WebSocket benchmark does not collect
            except Exception:
                time.sleep(0.3)
                continue
            if len(self.daphne_pids()) < self.expected:
                time.sleep(0.3)
                continue
            time.sleep(1.5)  # every process has had time to load the application
            self.processes = self.daphne_pids()
            return
        logs = "\n".join((self.log_dir / f"{self.system}-{i}.log").read_text()[-2000:]
                         for i in range(len(self.launched)))
        raise RuntimeError(f"{self.system} servers did not start:\n{logs}")

    def cpu_seconds(self) -> float:
        return sum(proc_cpu_seconds(pid) for pid in self.processes if pid_alive(pid))

    def rss_bytes(self) -> int:
        return sum(proc_rss_bytes(pid) for pid in self.processes if pid_alive(pid))

    def alive(self) -> int:
        """How many of the processes that started the run are still running (academy.serve restarts one that
        died under a new pid: it does not count)."""
        return sum(pid_alive(pid) for pid in self.processes)

    def census(self, timeout=300) -> dict | None:
        """Each process's memory census (bench/live_memory.py, on SIGUSR1), merged; None without --tracemalloc."""
        if self.memory_dir is None:
            return None
        from bench.live_memory import merge

        expected = {}
        for pid in self.processes:
            expected[pid] = len(list(self.memory_dir.glob(f"{pid}-*.json")))
            os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        paths = [self.memory_dir / f"{pid}-{n}.json" for pid, n in expected.items()]
        while not all(path.exists() for path in paths):
            if time.monotonic() > deadline:
                raise TimeoutError("the servers' memory census did not come")
            time.sleep(0.2)
        return merge([json.loads(path.read_text()) for path in paths])

    def stop(self):
        for p in self.launched:
            if p.poll() is None:
                p.terminate()  # academy.serve stops its workers
        deadline = time.monotonic() + 20
        for p in self.launched:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Profiler:
    """py-spy (pip install py-spy) recording the server processes during one phase, as collapsed stacks."""

    def __init__(self, servers: Servers, phase: str, out_dir: Path):
        self.records = []
        for index, pid in enumerate(servers.processes):
            path = out_dir / f"{servers.system}-{phase}-{index}.txt"
            self.records.append((path, subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--nonblocking",
                 "--output", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        time.sleep(0.5)

    def stop(self):
        for path, process in self.records:
            process.send_signal(signal.SIGINT)
        for path, process in self.records:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            log(f"profile: {path}")


def maybe_profile(args, servers, phase, log_dir):
    return Profiler(servers, phase, log_dir) if args.profile == phase else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# === Data =======================================================================================================

def setup_django():
    os.environ["DJANGO_SETTINGS_MODULE"] = "academy.settings"
    import django

    django.setup()


def migrate():
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings"})


def prepare_people(n: int):
    """N participants and a moderator, each with a fresh Django session (the cookie is the session key)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from academy.accounts.models import User
    from tests.factories.accounts import ensure_groups

    ensure_groups()
    usernames = [f"bench-{i:06d}" for i in range(n)]
    existing = set(User.objects.filter(username__startswith="bench-").values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=u, real_name=f"压测学员{u[-6:]}", password=unusable) for u in usernames if u not in existing],
        batch_size=2000,
    )
    moderator, _ = User.objects.get_or_create(username="bench-moderator", defaults={"real_name": "压测主持",
                                                                                     "password": unusable})
    from django.contrib.auth.models import Group

    moderator.groups.add(Group.objects.get(name="Moderators"))
    users = list(User.objects.filter(username__in=usernames).order_by("username").only("pk", "password"))
    from academy.accounts.backends import SESSION_BACKEND as backend
    expire = timezone.now() + timezone.timedelta(days=1)
    store = SessionStore()
    rows, keys = [], []
    for user in users + [moderator]:
        key = secrets.token_hex(16)
        data = {"_auth_user_id": str(user.pk), "_auth_user_backend": backend,
                "_auth_user_hash": user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys.append(key)
    Session.objects.bulk_create(rows, batch_size=2000)
    return users, moderator, keys[:-1], keys[-1]


def prepare_room(moderator, broadcasts: int, system: str):
    """A live session for this system with `broadcasts` pending questions and one approved question to vote on."""
    from live.models import Question
    from tests.factories.live import make_live_session

    session = make_live_session(title=f"压测直播 {system} {time.strftime('%H:%M:%S')}", moderators=[moderator])
    pending = Question.objects.bulk_create([
        Question(session=session, author=moderator, text=f"压测问题 {i + 1}:社区志愿者如何分工?",
                 status=Question.Status.PENDING)
        for i in range(broadcasts)
    ])
    target = Question.objects.create(session=session, author=moderator, text="压测点赞:这个问题值得回答吗?",
                                     status=Question.Status.APPROVED)
    return session, [q.pk for q in pending], target.pk


def count_votes(question_id: int):
    from django.db import connections
    from django.db.models import Count

    from live.models import Question, Vote

    connections.close_all()
    votes = Vote.objects.filter(question_id=question_id)
    counted = votes.count()
    users_twice = votes.values("user").annotate(n=Count("id")).filter(n__gt=1).count()
    return counted, users_twice, Question.objects.get(pk=question_id).vote_count


def cleanup_sessions(keys):
    from django.contrib.sessions.models import Session

    for start in range(0, len(keys), 5000):
        Session.objects.filter(session_key__in=keys[start:start + 5000]).delete()


# === One system's run ===========================================================================================

def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rounded(value, digits=1):
    return None if value is None else round(value, digits)


class Moderator:
    """The moderator's connection: approves questions and notes the seq of each resulting event."""

    def __init__(self, port, path, origin, cookie):
        self.client = BlockingClient("127.0.0.1", port, path, origin, f"sessionid={cookie}", timeout=30,
                                     source="127.0.0.1")
        snapshot = json.loads(self.client.recv_text(timeout=30))
        assert snapshot["type"] == "snapshot", snapshot
        self.seq = snapshot["seq"]

    def approve(self, question_id, request_id, timeout=60):
        """Send the approve; return (seq of the question.approved event, ack received)."""
        self.client.send_text(json.dumps({"type": "question.approve", "id": request_id, "question": question_id}))
        seq = acked = None
        deadline = time.monotonic() + timeout
        while (seq is None or not acked) and time.monotonic() < deadline:
            raw = self.client.recv_text(timeout=max(0.01, deadline - time.monotonic()))
            if raw is None:
                break
            message = json.loads(raw)
            if message.get("type") == "event" and message.get("name") == "question.approved" \
                    and message["data"]["question"]["id"] == question_id:
                seq = message["seq"]
            elif message.get("id") == request_id:
                if message["type"] != "ack":
                    raise RuntimeError(f"approve refused: {message}")
                acked = True
        return seq, bool(acked)

    def drain(self):
        while self.client.recv_text(timeout=0.01) is not None:
            pass

    def close(self):
        self.client.close()


def run_system(system, args, workers, cookies, moderator_user, moderator_cookie, log_dir):
    port = free_port()
    spec = SYSTEMS[system]
    log(f"[{system}] starting {args.processes} Daphne process(es) on 127.0.0.1:{port}")
    servers = Servers(system, args.processes, port, args.daphne_args, log_dir, memory=args.tracemalloc)
    result = {"system": system}
    try:
        servers.wait_ready()
        session, pending, target = prepare_room(moderator_user, args.broadcasts, system)
        path = spec["path"].format(pk=session.pk)
        origin = f"http://127.0.0.1:{port}"
        # A first connection warms the servers up (imports, caches) before the baseline is taken; the moderator
        # connects again after the joins (an idle client that is not read during a long join phase would miss
        # Daphne's pings and be dropped).
        Moderator(port, path, origin, moderator_cookie).close()
        time.sleep(1)
        census_before = servers.census()
        rss_before, cpu_start = servers.rss_bytes(), servers.cpu_seconds()

        # --- joins
        profiler = maybe_profile(args, servers, "joins", log_dir)
        start_at = time.time() + 0.3
        shares = [cookies[i::len(workers)] for i in range(len(workers))]
        for (conn, _), share in zip(workers, shares):
            conn.send(("connect", share, start_at, path, port, origin))
        joined = [conn.recv() for conn, _ in workers]
        if profiler:
            profiler.stop()
        connected = sum(j["connected"] for j in joined)
        firsts = [j["first"] for j in joined if j["first"]]
        lasts = [j["last"] for j in joined if j["last"]]
        join_seconds = (max(lasts) - min(firsts)) if firsts and lasts else None
        failures = collections.Counter()
        for j in joined:
            failures.update(j["failures"])
        busy = sum(j["busy"] for j in joined)
        log(f"[{system}] {connected}/{len(cookies)} connected in {join_seconds and round(join_seconds, 2)} s"
            + (f"; failures {dict(failures)}" if failures else "") + (f"; refused busy {busy}" if busy else ""))
        time.sleep(args.settle)
        rss_after = servers.rss_bytes()
        census_after = servers.census()
        if census_before is not None and connected:
            from bench.live_memory import diff_table

            result["memory_breakdown"] = diff_table(census_before, census_after, connected)
            print(f"[{system}] memory per participant, {connected} participants:\n{result['memory_breakdown']}",
                  flush=True)
        moderator = Moderator(port, path, origin, moderator_cookie)
        cpu_joins = servers.cpu_seconds() - cpu_start

        # --- broadcasts
        for conn, _ in workers:
            conn.send(("record",))
        for conn, _ in workers:
            conn.recv()
        profiler = maybe_profile(args, servers, "broadcasts", log_dir)
        cpu_before = servers.cpu_seconds()
        final_seq, approved = None, 0
        started = time.monotonic()
        for k, question_id in enumerate(pending):
            delay = started + k * args.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            seq, acked = moderator.approve(question_id, f"b{k}")
            approved += acked
            final_seq = seq if seq is not None else final_seq
        for conn, _ in workers:
            conn.send(("collect", final_seq or 0, args.collect_timeout))
        collected = [conn.recv() for conn, _ in workers]
        cpu_broadcast = servers.cpu_seconds() - cpu_before
        if profiler:
            profiler.stop()
        latencies = [x for c in collected for x in c["latencies"]]
        deliveries = sum(c["deliveries"] for c in collected)
        lost = sum(c["lost"] for c in collected)
        if final_seq is None or approved < len(pending):
            lost += (len(pending) - approved) * connected
        duplicates = sum(c["duplicates"] for c in collected)
        generator_cpu, frames = sum(c["cpu_s"] for c in collected), sum(c["frames"] for c in collected)
        log(f"[{system}] {len(pending)} broadcasts: {deliveries} deliveries, p99 "
            f"{rounded(percentile(latencies, 0.99))} ms, lost {lost}, duplicates {duplicates}")

        # --- upvote storm
        moderator.drain()
        profiler = maybe_profile(args, servers, "storm", log_dir)
        storm_start = time.time() + 0.5
        for conn, _ in workers:
            conn.send(("storm", target, storm_start, args.storm_seconds, args.storm_timeout))
        storms = [conn.recv() for conn, _ in workers]
        if profiler:
            profiler.stop()
        votes_sent = sum(s["sent"] for s in storms)
        votes_acked = sum(s["acks"] for s in storms)
        ack_latencies = [x for s in storms for x in s["ack_latencies"]]
        errors = collections.Counter()
        for s in storms:
            errors.update(s["errors"])
        last_ack = max((s["last_ack"] for s in storms), default=0)
        storm_seconds = (last_ack / 1000.0 - storm_start) if last_ack else None
        votes_counted, users_twice, vote_count_field = count_votes(target)
        log(f"[{system}] storm: {votes_sent} sent, {votes_acked} acked in {rounded(storm_seconds, 2)} s, "
            f"{votes_counted} in the database" + (f", errors {dict(errors)}" if errors else ""))
        closed_during = max((s["closed"] for s in storms), default=0)

        result.update({
            "connected": connected,
            "connects_per_s": rounded(connected / join_seconds if join_seconds else None),
            "kb_per_participant": rounded((rss_after - rss_before) / 1024 / connected if connected else None, 2),
            "broadcast_p50_ms": rounded(percentile(latencies, 0.50)),
            "broadcast_p99_ms": rounded(percentile(latencies, 0.99)),
            "broadcast_last_ms": rounded(max(latencies) if latencies else None),
            "cpu_ms_per_delivery": rounded(cpu_broadcast * 1000 / deliveries if deliveries else None, 4),
            # The load generator's own CPU over the same phase, per text frame it received (events and counts): it
            # shares the cores with the servers, so it is part of every latency above.
            "generator_cpu_ms_per_frame": rounded(generator_cpu * 1000 / frames if frames else None, 4),
            "generator_cpu_s_broadcasts": rounded(generator_cpu, 2),
            "server_cpu_s_broadcasts": rounded(cpu_broadcast, 2),
            "lost": lost,
            "duplicates": duplicates,
            "votes_sent": votes_sent,
            "votes_counted": votes_counted,
            # Further detail (not part of the contract's required keys).
            "join_seconds": rounded(join_seconds, 2),
            "join_failures": dict(failures), "joins_refused_busy": busy,
            "server_cpu_s_joins": rounded(cpu_joins, 2),
            "deliveries": deliveries,
            "broadcasts": len(pending),
            "votes_acked": votes_acked,
            "votes_counted_once": users_twice == 0 and vote_count_field == votes_counted,
            "vote_ack_p50_ms": rounded(percentile(ack_latencies, 0.50)),
            "vote_ack_p99_ms": rounded(percentile(ack_latencies, 0.99)),
            "storm_seconds": rounded(storm_seconds, 2),
            "vote_errors": dict(errors),
            "disconnected": closed_during,
            "server_processes_alive": servers.alive(),
        })
        moderator.close()
    except Exception as error:  # noqa: BLE001 - a failed phase is reported, the run goes on and cleans up
        log(f"[{system}] run failed: {error!r}")
        result["error"] = repr(error)
    finally:
        for conn, _ in workers:
            try:
                conn.send(("close",))
                conn.recv()
            except (OSError, EOFError):
                pass
        servers.stop()
    return result


# === Main =======================================================================================================

def print_table(report):
    keys = ["connected", "connects_per_s", "kb_per_participant", "broadcast_p50_ms", "broadcast_p99_ms",
            "broadcast_last_ms", "cpu_ms_per_delivery", "generator_cpu_ms_per_frame", "lost", "duplicates",
            "votes_sent", "votes_counted", "vote_ack_p99_ms", "storm_seconds"]
    results = report["results"]
    width = max(len(k) for k in keys) + 2
    print(f"live room, {report['participants']} participants, {report['broadcasts']} broadcasts, "
          f"{report['processes']} process(es), {report['database']} + {report['channel_layer']}")
    print("".ljust(width) + "".join(r["system"].rjust(14) for r in results)
          + ("".rjust(16) + "stock/academy" if report.get("ratios") else ""))
    for key in keys:
        row = key.ljust(width) + "".join(str(r.get(key)).rjust(14) for r in results)
        ratio = report.get("ratios", {}).get(key)
        if ratio is not None:
            row += str(ratio).rjust(29)
        print(row)


def ratios(academy, stock):
    out = {}
    for key in ["broadcast_p50_ms", "broadcast_p99_ms", "broadcast_last_ms", "cpu_ms_per_delivery",
                "kb_per_participant", "vote_ack_p99_ms", "storm_seconds"]:
        a, s = academy.get(key), stock.get(key)
        if a and s:
            out[key] = round(s / a, 1)
    if academy.get("connects_per_s") and stock.get("connects_per_s"):
        out["connects_per_s"] = round(stock["connects_per_s"] / academy["connects_per_s"], 2)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=10)
    parser.add_argument("--system", choices=["academy", "stock", "both"], default="both")
    parser.add_argument("--processes", type=int, default=2, help="Daphne processes per system (1 without Redis)")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--concurrency", type=int, default=500, help="connects in flight, all workers together")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between broadcasts")
    parser.add_argument("--storm-seconds", type=float, default=8.0, help="votes are spread over this many seconds")
    parser.add_argument("--storm-timeout", type=float, default=60.0)
    parser.add_argument("--collect-timeout", type=float, default=60.0)
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between the joins and the broadcasts")
    parser.add_argument("--sources", type=int, default=50, help="source addresses 127.0.0.2 …")
    parser.add_argument("--timeout", type=int, default=1800, help="hard limit for the whole run, seconds")
    parser.add_argument("--daphne-arg", dest="daphne_args", action="append", default=[],
                        help="an extra Daphne option, e.g. --daphne-arg=--ping-interval=60 (repeatable)")
    parser.add_argument("--plain-daphne", action="store_true",
                        help="start ours with plain `daphne` too (without academy/serve.py's tuning)")
    parser.add_argument("--profile", choices=["joins", "broadcasts", "storm"],
                        help="record the server processes with py-spy during this phase (collapsed stacks)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="run ours under bench/live_memory.py and print where the joins' memory went")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    def on_alarm(signum, frame):
        raise TimeoutError(f"bench/live_load.py: hard timeout of {args.timeout} s reached")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    limit = raise_file_limit()
    os.environ.update(SERVER_ENV)
    if args.plain_daphne:
        SYSTEMS["academy"]["launcher"] = "daphne"
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not redis_url or not database_url:
        if args.processes != 1:
            log("no REDIS_URL/DATABASE_URL: one process, SQLite, in-memory layer")
        args.processes = 1
        if not database_url:
            os.environ["DATABASE_URL"] = f"sqlite:///{Path(os.environ.get('TMPDIR', '/tmp')) / 'linkage-bench-live.sqlite3'}"
        systems = ["academy"]
        if args.system in ("stock", "both"):
            log("the stock baseline needs Redis (channels_redis core layer): skipped")
    else:
        systems = ["academy", "stock"] if args.system == "both" else [args.system]
    per_worker = -(-args.participants // args.workers)
    if per_worker > limit - 100:
        parser.error(f"{per_worker} connections per worker exceed the file limit {limit}: add --workers")

    log(f"preparing {args.participants} participants ({os.environ['DATABASE_URL'].split('@')[-1]})")
    migrate()
    setup_django()
    users, moderator_user, cookies, moderator_cookie = prepare_people(args.participants)
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-live-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)

    from django.db import connections

    context = multiprocessing.get_context("spawn")
    results = []
    try:
        for system in systems:
            connections.close_all()
            workers = []
            for index in range(args.workers):
                parent_end, child_end = context.Pipe()
                config = {"index": index, "concurrency": max(1, args.concurrency // args.workers),
                          "sources": args.sources, "connect_timeout": args.connect_timeout}
                process = context.Process(target=worker_main, args=(child_end, config), daemon=True)
                process.start()
                workers.append((parent_end, process))
            try:
                results.append(run_system(system, args, workers, cookies, moderator_user, moderator_cookie,
                                          log_dir))
            finally:
                for _, process in workers:
                    process.join(timeout=5)
                    if process.is_alive():
                        process.kill()
    finally:
        signal.alarm(0)
        cleanup_sessions(cookies + [moderator_cookie])

    report = {"participants": args.participants, "broadcasts": args.broadcasts, "processes": args.processes,
              "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
              "channel_layer": "redis" if redis_url else "in-memory", "results": results}
    by_system = {r["system"]: r for r in results}
    if "academy" in by_system and "stock" in by_system:
        report["ratios"] = ratios(by_system["academy"], by_system["stock"])
    print_table(report)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
