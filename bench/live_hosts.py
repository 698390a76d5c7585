#!/usr/bin/env python
"""Host-loss rehearsal of the live room: three "hosts" behind nginx, one killed mid-session, then Redis restarted.

    python bench/live_hosts.py [--participants 20000] [--hosts 3] [--processes 1] [--json]    (make bench-hosts)

What it starts (all on loopback, all stopped again on every way out, SIGTERM and errors included):
- its own redis-server on a free port (never the system Redis), without persistence: a restart loses the rooms'
  histories, the hard case (every client then gets a fresh snapshot); --redis-appendonly keeps them;
- its own PostgreSQL database on DATABASE_URL's server (created, migrated, dropped at the end), N bench users with
  real Django sessions and one live session (bench/live_load.py's helpers);
- H "hosts": `python -m academy.serve --processes P -b 127.0.0.1<h> -p PORT --proxy-headers`, each its own
  process group (the supervisor and its Daphne workers), DEBUG off;
- Debian's nginx with deploy/nginx-site.conf rendered by deploy/rehearsal.py (one upstream `server` line per host,
  plain HTTP on a free loopback port: the site's main server block listening without `ssl`).

The clients (asyncio, --workers load-generator processes, bench/wsclient.py, source addresses 127.0.0.2 …) behave
like live/static/live/room.js: on a close they reconnect after 1, 2, 4 … 30 s (doubling, capped) plus a random
jitter of up to the same again, the count reset once a connection stayed open 10 s, and resume with
`?since=<last seq>&epoch=<epoch>`, accepting the replayed events and `resumed`, or a `snapshot`. Every participant
tracks the `seq` of every event (lost: a seq skipped within an epoch, or missing at the end; duplicate: a seq seen
twice) and its reconnect time (close → `resumed`/`snapshot`).

The run: all join; a moderator approves a question every --interval s (the events); every participant votes once at
a random moment of the run and --askers of them ask a question (a vote whose connection dropped before its ack, or
that got `server_error`, is sent again, as a person taps again); after --steady s one whole host is killed
(SIGKILL to its process group): the reconnect storm is measured (p50/p99/max reconnect time, the survivors' CPU,
broadcast latency meanwhile); then the bench's Redis is stopped and started again on the same port and the same is
measured; at the end the acknowledged votes and questions are compared with the rows in PostgreSQL (exactly once).
Prints a table and, with --json, one JSON object as its last line. Bounded by --timeout.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import multiprocessing
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.live_load import (SERVER_ENV, command_loop, free_port, log, migrate, percentile,  # noqa: E402
                             prepare_people, prepare_room, proc_cpu_seconds, raise_file_limit, rounded,
                             setup_django)
from bench.wsclient import BUSY, ClientProtocol, busy_delay, handshake_request  # noqa: E402
from deploy.rehearsal import (ScratchDatabase, main_config, render_site, self_signed_certificate,  # noqa: E402
                              wait_or_kill)

# room.js's reconnect rule (live/static/live/room.js, docs/live-protocol.md "Reconnecting").
BACKOFF_CAP = 30.0
BACKOFF_RESET_AFTER = 10.0
# Close codes after which room.js does not reconnect.
FINAL_CODES = {4401, 4403, 4404, 4410, 4411}
AFRESH = 4412
SAMPLE = 20


def backoff_delay(attempt: int, rng: random.Random) -> float:
    base = min(BACKOFF_CAP, 2.0 ** attempt)
    return base + rng.random() * base


# === Load generator (worker processes) =========================================================================

class Link(ClientProtocol):
    """One WebSocket connection of a participant (a reconnect is a new Link)."""

    __slots__ = ("owner",)

    def __init__(self, request, opened, owner):
        super().__init__(request, opened)
        self.owner = owner

    def on_text(self, payload, now_ms):
        self.owner.on_text(self, payload, now_ms)

    def on_close(self):
        self.owner.on_link_closed(self)


class Participant:
    """A phone in the room, across its reconnects."""

    def __init__(self, worker, index, cookie, user_id, vote_at, ask_at):
        self.worker, self.index, self.cookie, self.user_id = worker, index, cookie, user_id
        self.vote_at, self.ask_at = vote_at, ask_at
        self.seq = self.epoch = None
        self.link = None
        self.ready = False  # snapshot or resumed received on the current link
        self.ready_event = None
        self.closed_event = None
        self.attempt = 0
        self.down_since = None  # when a ready connection closed, until the next resumed/snapshot
        self.tries = 0  # connection attempts since down_since
        self.opened_at = 0.0
        self.vote_state = "todo"  # todo → sent → acked
        self.vote_counted = None
        self.ask_state = "todo" if ask_at is not None else None  # todo → sent → acked | unknown
        self.ask_text = None
        self.ask_question = None
        self.stopped = False
        # One participant in SAMPLE keeps the ids of the questions it knows as approved (events and snapshots):
        # an acknowledged approval must reach everyone, even one whose event was lost without a gap in `seq`.
        self.known_approved = set() if index % SAMPLE == 0 else None

    # --- messages
    def on_text(self, link, payload, now_ms):
        if link is not self.link:
            return
        w = self.worker
        if b'"counts"' in payload[:20]:
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "event":
            seq = message["seq"]
            if self.seq is None:
                self.seq = seq
            elif seq == self.seq + 1:
                self.seq = seq
            elif seq <= self.seq:
                w.duplicates += 1
                return
            else:
                w.gaps += seq - self.seq - 1
                self.seq = seq
            w.deliveries += 1
            if self.ready:
                w.latencies[w.phase].append(now_ms - message["ts"])
            if self.known_approved is not None and message["name"] == "question.approved":
                self.known_approved.add(message["data"]["question"]["id"])
        elif kind in ("snapshot", "resumed"):
            if kind == "resumed" and self.seq is not None and message["seq"] > self.seq:
                w.gaps += message["seq"] - self.seq
            self.seq, self.epoch = message["seq"], message["epoch"]
            if message.get("reset") and self.index >= 0:
                w.resets.append(now_ms / 1000.0)
            if kind == "snapshot" and self.known_approved is not None:
                self.known_approved = {q["id"] for q in message["questions"]
                                       if q["status"] in ("approved", "answered")}
            self.ready = True
            w.answers[kind] += 1
            now = now_ms / 1000.0
            if self.down_since is not None and self.index >= 0:
                w.reconnects.append((self.down_since, now - self.down_since, kind, self.tries))
                self.down_since = None
            self.tries = 0
            if self.ready_event is not None and not self.ready_event.done():
                self.ready_event.set_result(True)
            self.send_due()
        elif kind == "ack":
            self.on_answer(message, ok=True)
        elif kind == "error":
            w.errors[message.get("code", "?")] += 1
            self.on_answer(message, ok=False)

    def on_answer(self, message, ok):
        w = self.worker
        request = message.get("id") or ""
        if request.startswith("v") and self.vote_state == "sent":
            if ok:
                self.vote_state, self.vote_counted = "acked", bool(message.get("counted"))
                w.vote_ack_ms.append(time.time() * 1000.0 - self.vote_sent_ms)
            else:  # server_error (nothing recorded) or rate_limited: tap again a little later
                self.vote_state = "todo"
                self.vote_at = time.time() + 1 + w.rng.random()
                w.loop.call_later(self.vote_at - time.time(), self.send_due)
        elif request.startswith("a") and self.ask_state == "sent":
            if ok:
                self.ask_state, self.ask_question = "acked", message["question"]["id"]
            else:
                self.ask_state = "todo"
                self.ask_at = time.time() + 1 + w.rng.random()
                w.loop.call_later(self.ask_at - time.time(), self.send_due)

    def send_due(self):
        """Send the vote and the question when their moment has come and the connection is ready."""
        if not self.ready or self.stopped or self.link is None:
            return
        now = time.time()
        if self.vote_state == "todo" and now >= self.vote_at:
            self.vote_state = "sent"
            self.vote_sent_ms = now * 1000.0
            self.link.send_text(json.dumps({"type": "question.vote", "id": f"v{self.index}",
                                            "question": self.worker.config["target"]}, separators=(",", ":")))
        if self.ask_state == "todo" and now >= self.ask_at:
            self.ask_state = "sent"
            self.ask_text = self.ask_text or f"压测提问 {self.worker.config['tag']}-{self.user_id}:断线后还能继续吗?"
            self.link.send_text(json.dumps({"type": "question.ask", "id": f"a{self.index}", "text": self.ask_text},
                                           ensure_ascii=False, separators=(",", ":")))

    def on_link_closed(self, link):
        if link is not self.link:
            return
        w = self.worker
        w.close_codes[link.close_code or 1006] += 1
        if self.ready and self.down_since is None and not self.stopped:
            self.down_since = time.time()
        self.ready = False
        if self.vote_state == "sent":  # no ack: tap again once back
            self.vote_state = "todo"
            w.votes_resent += 1
        if self.ask_state == "sent":  # not idempotent: room.js does not send it again either
            self.ask_state = "unknown"
        if self.closed_event is not None and not self.closed_event.done():
            self.closed_event.set_result(link.close_code or 1006)
        if self.ready_event is not None and not self.ready_event.done():
            self.ready_event.set_result(False)

    # --- the connection loop (room.js's connect/onclose)
    async def attempt_once(self, timeout):
        w = self.worker
        cfg = w.config
        loop = w.loop
        path = cfg["path"]
        if self.seq is not None:
            path += f"?since={self.seq}&epoch={self.epoch}"
        opened = loop.create_future()
        link = Link(handshake_request(path, cfg["host"], cfg["origin"], f"sessionid={self.cookie}"), opened, self)
        self.link, self.ready = link, False
        self.ready_event, self.closed_event = loop.create_future(), loop.create_future()
        self.tries += 1
        w.attempts += 1
        try:
            await asyncio.wait_for(loop.create_connection(lambda: link, "127.0.0.1", cfg["port"],
                                                          local_addr=(w.source(self.index), 0)), timeout)
            if await asyncio.wait_for(asyncio.shield(self.ready_event), timeout):
                self.opened_at = time.monotonic()
                return True
        except asyncio.TimeoutError:
            w.failures["timeout"] += 1
        except OSError as error:
            w.failures[type(error).__name__] += 1
            return False
        if link.transport is not None:
            link.transport.abort()
        if not opened.done() or opened.result() is False:
            w.failures[f"http {link.close_code}" if link.close_code and link.close_code < 1000 else "closed"] += 1
        return False

    async def run(self, first_gate):
        w = self.worker
        async with first_gate:
            ok = await self.attempt_once(w.config["connect_timeout"])
        if self.index < 0:
            pass  # the moderator: not a participant in the figures
        elif ok:
            w.joined += 1
        else:
            w.join_failed += 1
            self.down_since = time.time()
        while not w.stopping:
            if ok:
                code = await self.closed_event
                if w.stopping:
                    return
                if code in FINAL_CODES:
                    w.final_closes[code] += 1
                    return
                if code == AFRESH:
                    self.seq = self.epoch = None
                    self.attempt = 0
                if time.monotonic() - self.opened_at > BACKOFF_RESET_AFTER:
                    self.attempt = 0
            if self.link is not None and self.link.close_code == BUSY:  # come back when told; not a failure
                w.busy += 1
                delay = busy_delay(self.link.close_reason, w.rng)
            else:
                delay = backoff_delay(self.attempt, w.rng)
                self.attempt += 1
            await asyncio.sleep(delay)
            if w.stopping:
                return
            ok = await self.attempt_once(w.config["connect_timeout"])


class Moderator(Participant):
    """The moderator's connection (through nginx like everyone): approves the next question every interval, and
    once they are all approved makes an announcement instead (the snapshot keeps the last 20 of those, so a long
    run's snapshots do not grow)."""

    def __init__(self, worker, cookie, pending):
        super().__init__(worker, -1, cookie, None, float("inf"), None)
        self.pending = list(pending)
        self.approved = 0
        self.waiting = None
        self.finished = False
        self.approved_ids = set()

    def on_answer(self, message, ok):
        if message.get("id") == self.waiting:
            self.waiting = None
            if ok:
                self.approved += 1
                if self.pending and message.get("question", {}).get("id") == self.pending[0]:
                    self.approved_ids.add(self.pending.pop(0))

    def on_link_closed(self, link):
        if link is self.link:
            self.waiting = None  # unanswered: approved again on the next tick (a second approve is harmless)
        super().on_link_closed(link)

    async def approve_loop(self, interval):
        tick = 0
        while not self.worker.stopping and not self.finished:
            await asyncio.sleep(interval)
            if self.ready and self.waiting is None:
                tick += 1
                self.waiting = f"m{tick}"
                command = ({"type": "question.approve", "question": self.pending[0]} if self.pending
                           else {"type": "announce", "text": f"压测公告 {tick}:请保持网络畅通。"})
                self.link.send_text(json.dumps({**command, "id": self.waiting}, ensure_ascii=False))


class Worker:
    def __init__(self, config):
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.rng = random.Random(config["index"])
        self.participants: list[Participant] = []
        self.moderator = None
        self.phase = "steady"
        self.latencies = collections.defaultdict(list)
        self.reconnects: list[tuple[float, float, str, int]] = []
        self.resets: list[float] = []  # when a snapshot came in place (`reset`: the history started again)
        self.vote_ack_ms: list[float] = []
        self.deliveries = self.gaps = self.duplicates = self.attempts = self.votes_resent = self.busy = 0
        self.joined = self.join_failed = 0
        self.answers = collections.Counter()
        self.errors = collections.Counter()
        self.close_codes = collections.Counter()
        self.final_closes = collections.Counter()
        self.failures = collections.Counter()
        self.stopping = False
        self.tasks = []
        count = config["sources"]
        self.sources = [f"127.0.0.{2 + (config['index'] * 7 + i) % count}" for i in range(count)]

    def source(self, index):
        return self.sources[index % len(self.sources)]

    async def start(self, people, start_at, vote_window, askers):
        """people: [(index, cookie, user id)]; votes at random moments of vote_window, askers ask too."""
        cfg = self.config
        await asyncio.sleep(max(0.0, start_at - time.time()))
        began = time.time()
        gate = asyncio.Semaphore(cfg["concurrency"])
        for index, cookie, user_id in people:
            vote_at = vote_window[0] + self.rng.random() * (vote_window[1] - vote_window[0])
            ask_at = (vote_window[0] + self.rng.random() * (vote_window[1] - vote_window[0])
                      if index in askers else None)
            participant = Participant(self, index, cookie, user_id, vote_at, ask_at)
            self.participants.append(participant)
            self.loop.call_later(max(0.0, vote_at - time.time()), participant.send_due)
            if ask_at is not None:
                self.loop.call_later(max(0.0, ask_at - time.time()), participant.send_due)
            self.tasks.append(asyncio.ensure_future(participant.run(gate)))
        if cfg.get("moderator"):
            self.moderator = Moderator(self, cfg["moderator"], cfg["pending"])
            self.tasks.append(asyncio.ensure_future(self.moderator.run(asyncio.Semaphore(1))))
            self.tasks.append(asyncio.ensure_future(self.moderator.approve_loop(cfg["interval"])))
        deadline = time.monotonic() + cfg["connect_timeout"] + 5
        while self.joined + self.join_failed < len(people) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return {"joined": self.joined, "failed": self.join_failed, "seconds": time.time() - began,
                "failures": dict(self.failures)}

    def state(self):
        ready = sum(p.ready for p in self.participants)
        return {"ready": ready, "total": len(self.participants), "resets": len(self.resets),
                "approved": self.moderator.approved if self.moderator else None,
                "votes_acked": sum(p.vote_state == "acked" for p in self.participants)}

    async def quiet(self, timeout):
        """The moderator stops and waits for the answer to its last action; returns the questions it approved."""
        if not self.moderator:
            return []
        self.moderator.finished = True
        deadline = time.monotonic() + timeout
        while self.moderator.waiting is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return sorted(self.moderator.approved_ids)

    async def finish(self, final_seq, final_epoch, timeout):
        """Wait until everyone is at the room's last seq and every vote and question answered."""

        def done(p):
            return (p.ready and p.epoch == final_epoch and p.seq is not None and p.seq >= final_seq
                    and p.vote_state == "acked" and p.ask_state in (None, "acked", "unknown"))

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(done(p) for p in self.participants if not p.stopped):
            for p in self.participants:
                p.send_due()
            await asyncio.sleep(0.1)
        self.stopping = True
        behind = sum(max(0, final_seq - (p.seq or 0)) for p in self.participants
                     if p.epoch == final_epoch)
        other_epoch = sum(p.epoch != final_epoch for p in self.participants)
        for p in self.participants + ([self.moderator] if self.moderator else []):
            p.stopped = True
            if p.link is not None and p.link.transport is not None:
                p.link.transport.abort()
        for task in self.tasks:
            task.cancel()
        return {
            "latencies": {k: v for k, v in self.latencies.items()},
            "reconnects": self.reconnects, "resets": self.resets,
            "vote_ack_ms": self.vote_ack_ms,
            "deliveries": self.deliveries, "gaps": self.gaps, "behind": behind, "other_epoch": other_epoch,
            "duplicates": self.duplicates, "attempts": self.attempts, "votes_resent": self.votes_resent,
            "busy": self.busy,
            "answers": dict(self.answers), "errors": dict(self.errors), "close_codes": dict(self.close_codes),
            "final_closes": dict(self.final_closes), "failures": dict(self.failures),
            "not_ready": sum(not p.ready for p in self.participants),
            "votes": [(p.user_id, p.vote_state, p.vote_counted) for p in self.participants],
            "asks": [(p.user_id, p.ask_state, p.ask_question, p.ask_text) for p in self.participants
                     if p.ask_state is not None],
            "approved": self.moderator.approved if self.moderator else 0,
            "approved_known": [sorted(p.known_approved) for p in self.participants
                               if p.known_approved is not None],
        }


def worker_main(conn, config):
    def commands():
        worker = Worker(config)

        def phase(name):
            worker.phase = name
            return True

        return {"start": worker.start, "phase": phase, "state": worker.state, "quiet": worker.quiet,
                "finish": worker.finish}

    command_loop(conn, commands, final="finish")


# === The rehearsal's own services ===============================================================================

def proc_group_cpu_seconds(pgid: int) -> float:
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += proc_cpu_seconds(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return total


def wait_http(address: str, port: int, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode} before it answered")
        try:
            urllib.request.urlopen(f"http://{address}:{port}/healthz", timeout=5)
            return
        except urllib.error.HTTPError:
            return  # it answers (503: static files not collected for this WebSocket bench)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing answered on {address}:{port} within {seconds:.0f} s")


class Stage:
    """Everything the rehearsal starts, each in its own process group, and its clean-up."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="academy-hosts-"))
        self.tmp.chmod(0o755)
        self.processes: dict[str, subprocess.Popen] = {}
        self.database: ScratchDatabase | None = None
        self.redis_port = free_port()
        self.env: dict[str, str] = {}

    def start(self, name, argv, **kwargs) -> subprocess.Popen:
        out = open(self.tmp / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env or None, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, **kwargs)
        out.close()
        self.processes[name] = process
        return process

    def kill(self, name, sig=signal.SIGKILL, wait=15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        wait_or_kill(process, wait)

    # Redis
    def start_redis(self) -> None:
        process = self.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                                       "--save", "", "--appendonly", "yes" if self.args.redis_appendonly else "no",
                                       "--appendfsync", "always", "--dir", str(self.tmp),
                                       "--maxclients", "10000", "--maxmemory-policy", "noeviction"])
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.redis_port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(self.tmp / 'redis.log').read_text()[-500:]}")
                time.sleep(0.1)

    # PostgreSQL
    def create_database(self) -> str:
        self.database = ScratchDatabase("bench_hosts")
        return self.database.create()

    def drop_database(self) -> None:
        problem = self.database.drop() if self.database else None
        if problem:
            log(f"warning: {problem}")

    # nginx
    def start_nginx(self, port: int, upstreams: list[str], participants: int) -> None:
        cert, key = self_signed_certificate(self.tmp)
        site = self.tmp / "site.conf"
        site.write_text(render_site({
            "SERVER_NAME": "127.0.0.1", "HTTPS_LISTEN": f"127.0.0.1:{port}", "HTTP_LISTEN": f"127.0.0.1:{free_port()}",
            "TLS_CERTIFICATE": str(cert), "TLS_CERTIFICATE_KEY": str(key), "UPSTREAM": upstreams,
            "STATIC_ROOT": str(self.tmp / "static"), "MEDIA_ROOT": str(self.tmp / "media"),
        }))
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.tmp / "nginx" / kind).mkdir(parents=True, exist_ok=True)
        # Two descriptors per WebSocket (client and upstream), with room for the reconnect storm's half-open
        # attempts. nginx raises its workers' descriptor limit to `worker_rlimit_nofile` only where it may: in a
        # container without CAP_SYS_RESOURCE, setrlimit fails ("Operation not permitted" in its error log) and
        # each worker keeps the hard limit (20,000 here), so at 20,000 participants two workers ran out of
        # descriptors and answered a few handshakes 500. Then the same descriptors are spread over more workers.
        connections = max(4096, 3 * participants)
        descriptors = 2 * connections + 1024
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        workers = 2
        if hard != resource.RLIM_INFINITY and hard < descriptors:
            workers = max(workers, math.ceil(descriptors / hard))
        log(f"nginx: {workers} workers, up to {min(descriptors, hard)} descriptors each")
        conf = self.tmp / "nginx.conf"
        conf.write_text(main_config(self.tmp, site, as_root=os.geteuid() == 0, worker_connections=connections,
                                    rlimit_nofile=descriptors, worker_processes=workers))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [nginx, "-p", str(self.tmp), "-e", str(self.tmp / "nginx-error.log"), "-c", str(conf)]
        test = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered site:\n{test.stderr}")
        process = self.start("nginx", [*argv, "-g", "daemon off;"])
        wait_http("127.0.0.1", port, 20, process)

    def connections(self) -> dict:
        """Clients of the bench's Redis and connections to its database, now (for the sizing)."""
        import redis

        # The machine's 1-minute load average: on a shared machine the survivors' CPU share says more with it.
        found = {"load_average": round(os.getloadavg()[0], 1)}
        try:
            found["redis_clients"] = redis.Redis(port=self.redis_port).info("clients")["connected_clients"]
        except redis.RedisError:
            found["redis_clients"] = None
        found["postgresql_connections"] = self.database.connections()
        return found

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        self.drop_database()
        if self.args.keep:
            log(f"kept {self.tmp} (logs, rendered nginx configuration)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# === The run ====================================================================================================

def summary(values):
    return {"p50_ms": rounded(percentile(values, 0.50)), "p99_ms": rounded(percentile(values, 0.99)),
            "max_ms": rounded(max(values) if values else None)}


def ask_all(workers, message):
    for conn, _ in workers:
        conn.send(message)
    return [conn.recv() for conn, _ in workers]


def wait_all_ready(workers, total, seconds, started, drop_within=15.0):
    """Poll the workers until some participants dropped (within drop_within s: the servers notice a dead host at
    once, a new Redis within about a second) and then until every one is connected again; returns (seconds since
    `started`, how many are still missing)."""
    deadline = time.monotonic() + drop_within
    while True:
        if sum(s["ready"] for s in ask_all(workers, ("state",))) < total:
            break
        if time.monotonic() > deadline:
            return None, 0  # nobody was disconnected
        time.sleep(0.05)
    deadline = time.monotonic() + seconds
    missing = total
    while time.monotonic() < deadline:
        missing = max(0, total - sum(s["ready"] for s in ask_all(workers, ("state",))))
        if missing == 0:  # participants who had not joined before the fault may be back too: more is "all"
            break
        time.sleep(0.25)
    return round(time.time() - started, 2), missing


def wait_resets(workers, total, seconds, before):
    """After a Redis restart: poll until `total` more snapshots came in place than `before` (the connections
    stay open); returns how many are still missing when that happens or the time is up."""
    deadline = time.monotonic() + seconds
    missing = total
    while time.monotonic() < deadline:
        missing = max(0, total - (sum(s["resets"] for s in ask_all(workers, ("state",))) - before))
        if missing == 0:
            break
        time.sleep(0.25)
    return missing


def reset_figures(resets, since):
    """The snapshots sent in place after the Redis restart at `since`: how many, and how long after it."""
    times = [(t - since) * 1000.0 for t in resets if t >= since]
    return {"reset_in_place": len(times), **{f"reset_{k}": v for k, v in summary(times).items()}}


def storm_figures(reconnects, since, until):
    chosen = [r for r in reconnects if since <= r[0] < until]
    times = [r[1] * 1000.0 for r in chosen]
    kinds = collections.Counter(r[2] for r in chosen)
    tries = [r[3] for r in chosen]
    return {"reconnected": len(chosen), **{f"reconnect_{k}": v for k, v in summary(times).items()},
            "resumed": kinds.get("resumed", 0), "snapshots": kinds.get("snapshot", 0),
            "attempts_max": max(tries) if tries else 0,
            "reconnected_by_s": rounded(max((r[0] + r[1] for r in chosen), default=since) - since, 2)}


def check_database(session_id, target, votes, asks):
    from django.db import connections
    from django.db.models import Count

    from live.models import Question, Vote

    connections.close_all()
    rows = set(Vote.objects.filter(question_id=target).values_list("user_id", flat=True))
    twice = Vote.objects.filter(question_id=target).values("user").annotate(n=Count("id")).filter(n__gt=1).count()
    acked = {user for user, state, _ in votes if state == "acked"}
    counted_true = sum(1 for _, state, counted in votes if state == "acked" and counted)
    asked_acked = {question for _, state, question, _ in asks if state == "acked"}
    stored = set(Question.objects.filter(pk__in=asked_acked).values_list("pk", flat=True))
    unknown_texts = [text for _, state, _, text in asks if state == "unknown"]
    unknown_stored = Question.objects.filter(session_id=session_id, text__in=unknown_texts).count()
    return {
        "votes_acked": len(acked), "votes_acked_counted": counted_true, "votes_in_db": len(rows),
        "votes_acked_missing": len(acked - rows), "votes_not_acked_in_db": len(rows - acked),
        "users_voting_twice": twice, "vote_count_field": Question.objects.get(pk=target).vote_count,
        "questions_acked": len(asked_acked), "questions_acked_in_db": len(stored),
        "questions_acked_missing": len(asked_acked - stored),
        "questions_unanswered": len(unknown_texts), "questions_unanswered_stored": unknown_stored,
    }


def run(args, stage: Stage) -> dict:
    raise_file_limit()
    hosts = [f"127.0.0.{11 + h}" for h in range(args.hosts)]
    # A port free on every host address.
    while True:
        port = free_port()
        try:
            for address in hosts:
                with socket.socket() as probe:
                    probe.bind((address, port))
            break
        except OSError:
            continue
    nginx_port = free_port()

    log(f"redis-server on 127.0.0.1:{stage.redis_port} (the bench's own, "
        f"{'append-only file' if args.redis_appendonly else 'no persistence'})")
    stage.start_redis()
    database_url = stage.create_database()
    log(f"PostgreSQL database {stage.database.name}")
    redis_url = f"redis://127.0.0.1:{stage.redis_port}/0"
    server_env = {**SERVER_ENV, "ALLOWED_HOSTS": ",".join(["127.0.0.1", "localhost", *hosts]),
                  "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                  "CHANNEL_LAYER_PREFIX": f"hosts{os.getpid()}", "DATABASE_POOL_SIZE": str(args.pool),
                  "NUM_PROXIES": "1", "DJANGO_SETTINGS_MODULE": "academy.settings"}
    os.environ.update(server_env)
    stage.env = {**os.environ}
    migrate()
    setup_django()
    users, moderator_user, cookies, moderator_cookie = prepare_people(args.participants)
    broadcasts = int(args.duration / args.interval) + 10
    session, pending, target = prepare_room(moderator_user, broadcasts, "hosts")
    from django.db import connections

    connections.close_all()

    log(f"{args.hosts} hosts x {args.processes} process(es) on {', '.join(hosts)} port {port}")
    for h, address in enumerate(hosts):
        stage.start(f"host{h + 1}", [sys.executable, "-m", "academy.serve", "--processes", str(args.processes),
                                     "-b", address, "-p", str(port), "--proxy-headers"])
    for h, address in enumerate(hosts):
        wait_http(address, port, 120, stage.processes[f"host{h + 1}"])
    stage.start_nginx(nginx_port, [f"{address}:{port}" for address in hosts], args.participants)
    version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    log(f"{version} on 127.0.0.1:{nginx_port}, upstream {len(hosts)} hosts")

    context = multiprocessing.get_context("spawn")
    workers = []
    tag = secrets.token_hex(3)
    base = {"path": f"/ws/live/{session.pk}/", "host": f"127.0.0.1:{nginx_port}", "port": nginx_port,
            "origin": f"http://127.0.0.1:{nginx_port}", "target": target, "tag": tag, "sources": args.sources,
            "concurrency": max(1, args.concurrency // args.workers), "connect_timeout": args.connect_timeout,
            "interval": args.interval, "pending": pending}
    for index in range(args.workers):
        parent_end, child_end = context.Pipe()
        config = {**base, "index": index, "moderator": moderator_cookie if index == 0 else None}
        process = context.Process(target=worker_main, args=(child_end, config), daemon=True)
        process.start()
        workers.append((parent_end, process))
    result = {"participants": args.participants, "hosts": args.hosts, "processes_per_host": args.processes,
              "nginx": version}
    try:
        people = [(i, cookie, user.pk) for i, (cookie, user) in enumerate(zip(cookies, users))]
        askers = set(random.Random(7).sample(range(len(people)), min(args.askers, len(people))))
        start_at = time.time() + 0.5
        # Votes and questions spread over the part of the run after the joins (estimated) until shortly
        # before its end, so that some are in flight when the host dies and when Redis restarts.
        join_estimate = args.participants / 300.0
        vote_window = (start_at + join_estimate + 2, start_at + join_estimate + args.duration)
        for w, (conn, _) in enumerate(workers):
            conn.send(("start", people[w::len(workers)], start_at, vote_window, askers))
        joins = [conn.recv() for conn, _ in workers]
        joined = sum(j["joined"] for j in joins)
        join_seconds = max(j["seconds"] for j in joins)
        log(f"{joined}/{args.participants} joined through nginx in {join_seconds:.1f} s")
        result.update({"joined": joined, "join_seconds": rounded(join_seconds, 2),
                       "connects_per_s": rounded(joined / join_seconds if join_seconds else None)})

        time.sleep(args.steady)
        result["steady"] = stage.connections()
        # --- one whole host dies
        ask_all(workers, ("phase", "host-loss"))
        survivors = [stage.processes[f"host{h + 1}"].pid for h in range(1, args.hosts)]
        cpu_before = sum(proc_group_cpu_seconds(pgid) for pgid in survivors)
        ready_before = sum(s["ready"] for s in ask_all(workers, ("state",)))
        killed_at = time.time()
        stage.kill("host1", signal.SIGKILL)
        log(f"host 1 ({hosts[0]}) killed: supervisor and workers (SIGKILL to its process group)")
        took, missing = wait_all_ready(workers, ready_before, args.storm_timeout, killed_at)
        cpu_storm = sum(proc_group_cpu_seconds(pgid) for pgid in survivors) - cpu_before
        storm_wall = time.time() - killed_at
        log(f"after the host loss: all but {missing} ready again after {took} s")
        result["host_loss"] = {"ready_again_s": took, "not_back": missing,
                               "survivors_cpu_percent_of_a_core_per_process": rounded(
                                   100 * cpu_storm / storm_wall / (args.processes * len(survivors)))}
        result["host_loss"].update(stage.connections())
        time.sleep(args.settle)

        # --- Redis restarts
        ask_all(workers, ("phase", "redis-restart"))
        cpu_before = sum(proc_group_cpu_seconds(pgid) for pgid in survivors)
        states = ask_all(workers, ("state",))
        ready_before, resets_before = sum(s["ready"] for s in states), sum(s["resets"] for s in states)
        restarted_at = time.time()
        stage.kill("redis", signal.SIGTERM)
        time.sleep(args.redis_down)
        stage.start_redis()
        log(f"redis-server stopped and started again on port {stage.redis_port} after {args.redis_down} s")
        not_reset = wait_resets(workers, ready_before, args.storm_timeout, resets_before)
        log(f"after the Redis restart: {ready_before - not_reset} of {ready_before} got a snapshot in place")
        took, missing = wait_all_ready(workers, ready_before, args.storm_timeout, restarted_at)
        cpu_redis = sum(proc_group_cpu_seconds(pgid) for pgid in survivors) - cpu_before
        redis_wall = time.time() - restarted_at
        log(f"after the Redis restart: all but {missing} ready again after {took} s"
            if took is not None else "after the Redis restart: nobody was disconnected")
        result["redis_restart"] = {"ready_again_s": took, "not_back": missing, "not_reset_in_place": not_reset,
                                   "survivors_cpu_percent_of_a_core_per_process": rounded(
                                       100 * cpu_redis / redis_wall / (args.processes * len(survivors)))}
        result["redis_restart"].update(stage.connections())
        ask_all(workers, ("phase", "after"))
        time.sleep(max(0.0, vote_window[1] - time.time()) + 2)

        # --- the end: everyone at the room's last seq, every vote answered; then the database
        import redis

        approved_ids = {q for ids in ask_all(workers, ("quiet", 15.0)) for q in ids}
        client = redis.Redis(port=stage.redis_port, decode_responses=True)
        final_seq, final_epoch = client.hmget(f"live:{{{session.pk}}}:state", "seq", "epoch")
        final_seq = int(final_seq or 0)
        finals = ask_all(workers, ("finish", final_seq, final_epoch, args.collect_timeout))
        reconnects = [r for f in finals for r in f["reconnects"]]
        latencies = collections.defaultdict(list)
        for f in finals:
            for phase, values in f["latencies"].items():
                latencies[phase].extend(values)
        total = collections.Counter()
        for key in ("deliveries", "gaps", "behind", "other_epoch", "duplicates", "attempts", "votes_resent",
                    "not_ready", "approved", "busy"):
            total[key] = sum(f[key] for f in finals)
        merged = {key: collections.Counter() for key in ("answers", "errors", "close_codes", "final_closes",
                                                         "failures")}
        for f in finals:
            for key, counter in merged.items():
                counter.update(f[key])
        result["host_loss"].update(storm_figures(reconnects, killed_at, restarted_at))
        result["redis_restart"].update(storm_figures(reconnects, restarted_at, float("inf")))
        result["redis_restart"].update(reset_figures([t for f in finals for t in f["resets"]], restarted_at))
        for name, phase in (("steady", "steady"), ("host_loss", "host-loss"), ("redis_restart", "redis-restart"),
                            ("after", "after")):
            result.setdefault(name, {}).update({f"broadcast_{k}": v for k, v in summary(latencies[phase]).items()})
        result.update({
            "final_seq": final_seq, "approvals_acked": total["approved"], "deliveries": total["deliveries"],
            "lost": total["gaps"] + total["behind"], "duplicates": total["duplicates"],
            "left_on_an_old_epoch": total["other_epoch"], "not_connected_at_the_end": total["not_ready"],
            "connection_attempts": total["attempts"], "refused_busy": total["busy"],
            "votes_sent_again": total["votes_resent"],
            "vote_ack_p99_ms": rounded(percentile([x for f in finals for x in f["vote_ack_ms"]], 0.99)),
            "close_codes": dict(merged["close_codes"]), "errors": dict(merged["errors"]),
            "first_messages": dict(merged["answers"]), "refused_for_good": dict(merged["final_closes"]),
            "failed_attempts": dict(merged["failures"]),
        })
        known = [set(ids) for f in finals for ids in f["approved_known"]]
        result["approvals_checked"] = {"approved_acked": len(approved_ids), "participants_sampled": len(known),
                                       "approvals_not_seen": sum(len(approved_ids - k) for k in known)}
        result.update(check_database(session.pk, target, [v for f in finals for v in f["votes"]],
                                     [a for f in finals for a in f["asks"]]))
        result["exactly_once"] = (result["votes_acked_missing"] == 0 and result["votes_not_acked_in_db"] == 0
                                  and result["users_voting_twice"] == 0
                                  and result["vote_count_field"] == result["votes_in_db"]
                                  and result["questions_acked_missing"] == 0
                                  and result["approvals_checked"]["approvals_not_seen"] == 0)
    finally:
        for _, process in workers:  # after `finish` they have ended; on an error or a signal they are stopped here
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    return result


def print_table(result):
    print(f"live room across {result['hosts']} hosts x {result['processes_per_host']} process(es) behind "
          f"{result.get('nginx', 'nginx')}, {result['participants']} participants")
    rows = [("joined", "joined"), ("connects/s through nginx", "connects_per_s"),
            ("moderator's actions acked (events)", "approvals_acked"), ("deliveries", "deliveries"), ("lost", "lost"),
            ("duplicates", "duplicates"), ("votes acked / in PostgreSQL", ("votes_acked", "votes_in_db")),
            ("acked votes missing / unacked stored", ("votes_acked_missing", "votes_not_acked_in_db")),
            ("questions acked / in PostgreSQL", ("questions_acked", "questions_acked_in_db")),
            ("exactly once", "exactly_once"), ("acked approvals a sampled phone missed", "approvals_not_seen"), ("not connected at the end", "not_connected_at_the_end")]
    result = {**result, **result.get("approvals_checked", {})}
    for label, key in rows:
        value = " / ".join(str(result.get(k)) for k in key) if isinstance(key, tuple) else str(result.get(key))
        print(f"  {label:<40}{value}")
    print(f"  {'':<40}{'steady':>14}{'host loss':>14}{'Redis restart':>14}{'after':>14}")
    for label, key in [("reconnected", "reconnected"), ("reconnect p50 ms", "reconnect_p50_ms"),
                       ("reconnect p99 ms", "reconnect_p99_ms"), ("reconnect max ms", "reconnect_max_ms"),
                       ("resumed / snapshots", ("resumed", "snapshots")), ("everyone back after s", "ready_again_s"),
                       ("snapshots in place", "reset_in_place"), ("in place p50 / p99 ms", ("reset_p50_ms",
                                                                                          "reset_p99_ms")),
                       ("survivors' CPU % of a core per process", "survivors_cpu_percent_of_a_core_per_process"),
                       ("broadcast p50 ms", "broadcast_p50_ms"), ("broadcast p99 ms", "broadcast_p99_ms"),
                       ("broadcast max ms", "broadcast_max_ms"), ("Redis clients", "redis_clients"), ("machine load average (1 min)", "load_average"),
                       ("PostgreSQL connections", "postgresql_connections")]:
        cells = []
        for phase in ("steady", "host_loss", "redis_restart", "after"):
            data = result.get(phase, {})
            cells.append(" / ".join(str(data.get(k, "")) for k in key) if isinstance(key, tuple)
                         else str(data.get(key, "")))
        print(f"  {label:<40}" + "".join(c.rjust(14) for c in cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=20000)
    parser.add_argument("--hosts", type=int, default=3, help="hosts on 127.0.0.11, .12, … (at least 2)")
    parser.add_argument("--processes", type=int, default=1, help="Daphne processes per host")
    parser.add_argument("--pool", type=int, default=4, help="DATABASE_POOL_SIZE per process")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--concurrency", type=int, default=400, help="first connects in flight, all workers")
    parser.add_argument("--sources", type=int, default=50, help="client source addresses 127.0.0.2 …")
    parser.add_argument("--askers", type=int, default=200, help="participants who ask a question")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between the moderator's approvals")
    parser.add_argument("--steady", type=float, default=10.0, help="seconds between the joins and the host loss")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the storm and the Redis restart")
    parser.add_argument("--redis-down", type=float, default=2.0, help="seconds Redis stays stopped")
    parser.add_argument("--redis-appendonly", action="store_true",
                        help="Redis with its append-only file: the histories survive the restart (same epoch)")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds over which votes and questions are spread (after the joins)")
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--storm-timeout", type=float, default=180.0, help="wait this long for everyone to be back")
    parser.add_argument("--collect-timeout", type=float, default=90.0)
    parser.add_argument("--timeout", type=int, default=1200, help="hard limit for the whole run, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, nginx configuration)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    if args.hosts < 2:
        parser.error("--hosts: at least 2 (one is killed)")
    limit = raise_file_limit()
    if -(-args.participants // args.workers) > limit - 200:
        parser.error(f"more connections per load generator than the file limit {limit}: add --workers")

    stage = Stage(args)

    def stop(signum, frame):
        raise TimeoutError(f"took over {args.timeout} s" if signum == signal.SIGALRM else f"stopped by signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, stop)
    signal.alarm(args.timeout)
    try:
        result = run(args, stage)
    except BaseException as error:
        log(f"rehearsal failed: {error!r}")
        raise
    finally:
        signal.alarm(0)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # cleaning up is not interrupted
        stage.stop_all()
    print_table(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("exactly_once") and result.get("lost") == 0 and result.get("duplicates") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
