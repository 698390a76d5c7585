#!/usr/bin/env python
"""Benchmark: N registrants tap their personal join link within --window seconds; how long until all are in the room?

    python bench/live_join_links.py --participants N [--window 60] [--processes P] [--baseline B] [--profile] [--json]

It starts what it measures: `academy.serve`'s workers (DEBUG off, collected static files, P processes on one port,
bench/live_load.py's `Servers`), PostgreSQL and Redis from DATABASE_URL and REDIS_URL (without them: SQLite, the
in-memory layer, one process). It prepares N registrants of one live session (registration required) with their
personal links (live/links.py) and B more with a password, then runs two phases in the same run:

1. baseline, "the old way", B clients spread over the window: GET the log-in page, POST the password (PBKDF2, the
   production hasher), follow the redirect to the room page rendered for each request (LIVE_ROOM_SHELL_SECONDS=0),
   then the WebSocket with the session cookie until the snapshot;
2. links, N clients spread uniformly over the window: GET the link (it signs in and serves the cached room shell in
   one response), then the WebSocket with the cookie it set, until the snapshot.

The clients behave as a phone's browser and room.js do: a 503 page (academy/gate.py: the process is full) is loaded
again after its Retry-After, from its `<meta http-equiv="refresh">` address (which carries its appointment back),
and a WebSocket that closes or fails before its snapshot is opened again after room.js's back-off (1, 2, 4 … 30 s,
plus up to as much jitter; 4401/4403/4404/4410/4411 end the visit), until --give-up seconds after the tap. Each client's time-to-in runs from its scheduled tap to
its snapshot. Printed per phase: in (and in within 90 s of the tap), p50/p90/p99 time-to-in, the time at which the
last one was in (from the window's start), 503 pages and WebSocket retries, failures, the servers' CPU seconds and
CPU ms per participant, the load generator's CPU seconds; then the ratios (baseline ÷ links) per participant. The load generator (--workers processes, asyncio,
bench/httpclient.py and bench/wsclient.py, source addresses 127.0.0.2 …) shares the cores. Loopback only; every
phase has a deadline and --timeout stops the whole run.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import html
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.httpclient import Connection  # noqa: E402
from bench.live_load import (  # noqa: E402
    SERVER_ENV, Profiler, Servers, free_port, log, migrate, percentile, raise_file_limit, rounded,
    setup_django,
)
from bench.wsclient import ClientProtocol, handshake_request  # noqa: E402

PASSWORD = "bench-join-password-2026"  # noqa: S105 - the baseline's bench accounts only
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
REFRESH = re.compile(rb'http-equiv="refresh" content="(\d+)(?:; url=([^"]+))?"')
FINAL_CLOSE_CODES = {4401, 4403, 4404, 4410, 4411}  # room.js ends the visit on these; it retries on any other
IN_WITHIN_S = 90  # the target: in the room within 90 s


# === Load generator (worker processes) =========================================================================

class Entrant(ClientProtocol):
    """A WebSocket client that only waits for its first message (the snapshot), then stays connected."""

    def __init__(self, request, opened, joined):
        super().__init__(request, opened)
        self.joined = joined

    def on_text(self, payload, now_ms):
        if not self.joined.done() and b'"snapshot"' in payload[:40]:
            self.joined.set_result(True)

    def on_close(self):
        if not self.joined.done():
            self.joined.set_result(False)


def _cookies(fields: dict, jar: dict) -> dict:
    for line in fields.get("set-cookie", "").split("\n"):
        name, _, rest = line.partition("=")
        if name.strip() and rest:
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def _cookie_header(jar: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


class Busy(Exception):
    """A 503 page: the browser loads it again after `seconds`."""

    def __init__(self, seconds: float, url: str | None = None):
        self.seconds = seconds
        self.url = url  # the refresh address (with the appointment the busy page gave, academy/gate.py)


async def _enter_by_link(http: Connection, job: dict, jar: dict) -> str | None:
    status, fields, body = await http.get(job.get("again") or job["link"])
    if status == 503:
        refresh = REFRESH.search(body)
        url = html.unescape(refresh.group(2).decode()) if refresh and refresh.group(2) else None
        raise Busy(float(fields.get("retry-after") or (refresh.group(1) if refresh else 5)), url)
    _cookies(fields, jar)
    if status != 200 or "sessionid" not in jar:
        return f"link http {status}"
    return None


async def _enter_by_password(http: Connection, job: dict, jar: dict) -> str | None:
    status, fields, body = await http.get(f"/accounts/login/?next={urllib.parse.quote(job['room'])}")
    _cookies(fields, jar)
    token = CSRF_INPUT.search(body)
    if status != 200 or not token:
        return f"login page http {status}"
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "username": job["username"],
                                   "password": PASSWORD, "next": job["room"]}).encode()
    status, fields, _ = await http.request("POST", "/accounts/login/", cookie=_cookie_header(jar), body=form,
                                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                                    "Referer": f"http://127.0.0.1:{http.port}/accounts/login/"})
    _cookies(fields, jar)
    if status != 302 or "sessionid" not in jar:
        return f"login post http {status}"
    status, fields, _ = await http.get(fields.get("location", job["room"]), cookie=_cookie_header(jar))
    _cookies(fields, jar)
    return None if status == 200 else f"room http {status}"


async def run_clients(config: dict, jobs: list[dict], start_at: float, window: float, way: str) -> dict:
    loop = asyncio.get_running_loop()
    rng = random.Random(config["index"])
    sources = [f"127.0.0.{2 + (config['index'] * 7 + i) % config['sources']}" for i in range(config["sources"])]
    times, failures, counts, last_in = [], collections.Counter(), collections.Counter(), [0.0]
    sockets = []
    enter = _enter_by_link if way == "links" else _enter_by_password

    async def page(http, job, jar, give_up_at):
        """The page, loaded again after each 503 as its meta refresh does."""
        while True:
            try:
                return await asyncio.wait_for(enter(http, job, jar), config["timeout"])
            except Busy as busy:
                counts["503"] += 1
                await http.close()
                job["again"] = busy.url  # as a browser follows the meta refresh's url
                if time.time() + busy.seconds > give_up_at:
                    return "gave up (503)"
                await asyncio.sleep(busy.seconds)

    async def socket(job, jar, source) -> str | None:
        """One WebSocket attempt until its snapshot: None when in, else what went wrong."""
        opened, joined = loop.create_future(), loop.create_future()
        request = handshake_request(job["ws"], f"127.0.0.1:{config['port']}", f"http://127.0.0.1:{config['port']}",
                                    _cookie_header(jar))
        entrant = Entrant(request, opened, joined)
        await asyncio.wait_for(loop.create_connection(lambda: entrant, "127.0.0.1", config["port"],
                                                      local_addr=(source, 0)), config["timeout"])
        sockets.append(entrant)
        if not await asyncio.wait_for(opened, config["timeout"]):
            # No status: the server closed the connection before its 101 (Daphne's handshake timeout).
            return f"ws http {entrant.close_code}" if entrant.close_code else "ws closed before 101"
        if not await asyncio.wait_for(joined, config["timeout"]):
            return f"ws closed {entrant.close_code}"
        return None

    async def one(i, job):
        due = start_at + rng.random() * window
        give_up_at = due + config["give_up"]
        await asyncio.sleep(max(0.0, due - time.time()))
        source = sources[i % len(sources)]
        http = Connection(config["port"], source=source)
        jar: dict = {}
        try:
            problem = await page(http, job, jar, give_up_at)
            await http.close()
            if problem:
                failures[problem] += 1
                return
            attempt = 0
            while True:  # room.js: back-off 1, 2, 4 … 30 s plus up to as much jitter, until a final close code
                try:
                    problem = await socket(job, jar, source)
                except (asyncio.TimeoutError, OSError) as error:
                    problem = "ws timeout" if isinstance(error, asyncio.TimeoutError) else type(error).__name__
                if problem is None:
                    break
                code = sockets[-1].close_code if sockets else None
                base = min(30, 2 ** attempt)
                delay = base + rng.random() * base
                attempt += 1
                if code in FINAL_CLOSE_CODES or time.time() + delay > give_up_at:
                    failures[problem] += 1
                    return
                counts["ws retries"] += 1
                await asyncio.sleep(delay)
        except asyncio.TimeoutError:
            failures["timeout"] += 1
            return
        except OSError as error:
            failures[type(error).__name__] += 1
            return
        finally:
            await http.close()
        now = time.time()
        times.append((now - due) * 1000.0)
        last_in[0] = max(last_in[0], now)

    await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs)))
    for entrant in sockets:
        if entrant.transport is not None:
            entrant.transport.abort()
    return {"times": times, "failures": dict(failures), "counts": dict(counts), "last_in": last_in[0]}


def worker_main(conn, config):
    raise_file_limit()
    jobs, start_at, window, way = conn.recv()
    cpu = time.process_time()
    result = asyncio.run(run_clients(config, jobs, start_at, window, way))
    conn.send({**result, "cpu_s": time.process_time() - cpu})


# === Data =======================================================================================================

def prepare(n: int, baseline: int):
    """One live session (registration required, live now), N registrants with links, B registrants with a password,
    plus the moderator the session needs; returns the session and the jobs of both phases."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from academy.accounts.models import User
    from live.links import link_path
    from live.models import Registration
    from tests.factories.accounts import ensure_groups
    from tests.factories.live import make_live_session

    ensure_groups()
    now = timezone.now()
    session = make_live_session(title=f"入场压测 {time.strftime('%H:%M:%S')}", registration_required=True,
                                start=now - timezone.timedelta(minutes=5), end=now + timezone.timedelta(hours=2))
    unusable, hashed = make_password(None), make_password(PASSWORD)  # one PBKDF2 hash, checked per log-in
    names = {"links": [f"join-{i:06d}" for i in range(n)], "baseline": [f"joinpw-{i:06d}" for i in range(baseline)]}
    existing = set(User.objects.filter(username__startswith="join").values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=u, real_name=f"入场{u[-6:]}", password=unusable) for u in names["links"] if u not in existing]
        + [User(username=u, real_name=f"密码{u[-6:]}", password=hashed) for u in names["baseline"]
           if u not in existing], batch_size=2000)
    User.objects.filter(username__in=names["baseline"]).update(password=hashed)
    users = {way: list(User.objects.filter(username__in=usernames).order_by("username"))
             for way, usernames in names.items()}
    Registration.objects.bulk_create([Registration(session=session, user=user)
                                      for way in users for user in users[way]], batch_size=2000)
    registrations = {r.user_id: r for r in Registration.objects.filter(session=session).select_related("user")}
    room, ws = session.url + "room/", session.websocket_path
    jobs = {
        "links": [{"link": link_path(registrations[u.pk]), "ws": ws, "room": room} for u in users["links"]],
        "baseline": [{"username": u.username, "ws": ws, "room": room} for u in users["baseline"]],
    }
    return session, jobs


# === Phases =====================================================================================================

def run_phase(way: str, jobs: list[dict], args, env_extra: dict, log_dir: Path) -> dict:
    os.environ.update(env_extra)
    port = free_port()
    servers = Servers("academy", args.processes, port, [], log_dir)
    try:
        servers.wait_ready()
        context = multiprocessing.get_context("spawn")
        workers = []
        for index in range(args.workers):
            parent_end, child_end = context.Pipe()
            config = {"index": index, "port": port, "sources": args.sources, "timeout": args.client_timeout,
                      "give_up": args.give_up}
            process = context.Process(target=worker_main, args=(child_end, config), daemon=True)
            process.start()
            workers.append((parent_end, process))
        start_at = time.time() + 2.0
        for index, (conn, _) in enumerate(workers):
            conn.send((jobs[index::args.workers], start_at, args.window, way))
        cpu_before = servers.cpu_seconds()
        profiler = Profiler(servers, way, log_dir) if args.profile else None
        log(f"{way}: {len(jobs)} clients over {args.window:.0f} s")
        results = []
        deadline = time.monotonic() + args.window + args.give_up + args.client_timeout * 3 + 30
        for conn, process in workers:
            if not conn.poll(max(1.0, deadline - time.monotonic())):
                raise TimeoutError(f"{way}: a load generator did not finish")
            results.append(conn.recv())
            process.join(timeout=5)
        cpu = servers.cpu_seconds() - cpu_before
        if profiler:
            profiler.stop()
    finally:
        servers.stop()
    times = sorted(t for r in results for t in r["times"])
    failures, counts = collections.Counter(), collections.Counter()
    for r in results:
        failures.update(r["failures"])
        counts.update(r.get("counts", {}))
    last_in = max((r["last_in"] for r in results), default=0.0)
    return {
        "way": way, "clients": len(jobs), "in": len(times),
        f"in_within_{IN_WITHIN_S}s": sum(1 for t in times if t <= IN_WITHIN_S * 1000.0),
        "failures": dict(failures), "http_503": counts["503"], "ws_retries": counts["ws retries"],
        "p50_ms": rounded(percentile(times, 0.50)), "p90_ms": rounded(percentile(times, 0.90)),
        "p99_ms": rounded(percentile(times, 0.99)),
        "max_ms": rounded(times[-1] if times else None),
        "all_in_s": rounded(last_in - start_at, 2) if last_in else None,
        "server_cpu_s": rounded(cpu, 2), "cpu_ms_per_participant": rounded(cpu * 1000.0 / max(1, len(times)), 2),
        "generator_cpu_s": rounded(sum(r["cpu_s"] for r in results), 2),
    }


def print_report(report: dict):
    print(f"\nJoin by personal link: {report['participants']} registrants over {report['window']} s, "
          f"{report['processes']} processes, {report['database']} + {report['cache']}")
    print(f"{'':>10} {'clients':>8} {'in':>7} {'in 90 s':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} "
          f"{'all in s':>9} {'503s':>6} {'ws re':>6} {'CPU s':>7} {'CPU ms/p':>9} {'gen CPU s':>9}  failures")
    for r in report["results"]:
        print(f"{r['way']:>10} {r['clients']:>8} {r['in']:>7} {r[f'in_within_{IN_WITHIN_S}s']:>7} "
              f"{r['p50_ms']!s:>9} {r['p90_ms']!s:>9} {r['p99_ms']!s:>9} {r['all_in_s']!s:>9} {r['http_503']:>6} "
              f"{r['ws_retries']:>6} {r['server_cpu_s']!s:>7} {r['cpu_ms_per_participant']!s:>9} "
              f"{r['generator_cpu_s']!s:>9}  "
              f"{r['failures'] or '-'}")
    for name, value in report.get("ratios", {}).items():
        print(f"  baseline ÷ links, {name}: {value}×")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=2000, help="registrants who tap their link")
    parser.add_argument("--window", type=float, default=60.0, help="the taps are spread uniformly over this many s")
    parser.add_argument("--processes", type=int, default=2, help="Daphne processes (1 without Redis)")
    parser.add_argument("--baseline", type=int, default=None,
                        help="clients that log in with a password instead (default: N/20, at most 300; 0: none)")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--sources", type=int, default=50, help="source addresses 127.0.0.2 …")
    parser.add_argument("--client-timeout", type=float, default=60.0, help="seconds per step of one client")
    parser.add_argument("--give-up", type=float, default=150.0,
                        help="seconds after its tap a client stops retrying (503 pages, WebSocket back-off)")
    parser.add_argument("--timeout", type=int, default=900, help="hard limit for the whole run, seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument("--profile", action="store_true",
                        help="record the servers with py-spy in each phase (bench/profile_top.py reads the files)")
    args = parser.parse_args(argv)
    baseline = min(300, args.participants // 20) if args.baseline is None else args.baseline

    def on_alarm(signum, frame):
        raise TimeoutError(f"bench/live_join_links.py: hard timeout of {args.timeout} s reached")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    raise_file_limit()
    os.environ.update(SERVER_ENV)  # the same SECRET_KEY here and in the servers: the links are signed here
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url or not redis_url:
        log("no REDIS_URL/DATABASE_URL: one process, SQLite, local-memory cache")
        args.processes = 1
        if not database_url:
            os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.gettempdir()) / 'linkage-bench-join.sqlite3'}"
    log_dir = Path(tempfile.mkdtemp(prefix="bench-join-"))
    static_root = log_dir / "static"
    os.environ["STATIC_ROOT"] = str(static_root)
    log(f"preparing {args.participants} + {baseline} registrants ({os.environ['DATABASE_URL'].split('@')[-1]})")
    migrate()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, check=True,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings"}, timeout=300)
    setup_django()
    from django.db import connections

    session, jobs = prepare(args.participants, baseline)
    connections.close_all()
    results = []
    started = time.time()
    try:
        if baseline:
            results.append(run_phase("baseline", jobs["baseline"], args, {"LIVE_ROOM_SHELL_SECONDS": "0"}, log_dir))
        results.append(run_phase("links", jobs["links"], args, {"LIVE_ROOM_SHELL_SECONDS": "600"}, log_dir))
    finally:
        signal.alarm(0)
        from live.models import Registration

        Registration.objects.filter(session=session).delete()  # the sign-ins' sessions expire by themselves
        log(f"logs in {log_dir} ({time.time() - started:.0f} s)")
    report = {"participants": args.participants, "baseline": baseline, "window": args.window,
              "processes": args.processes, "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
              "cache": "redis" if redis_url else "local memory", "results": results}
    by_way = {r["way"]: r for r in results}
    if "baseline" in by_way and "links" in by_way:
        old, new = by_way["baseline"], by_way["links"]
        report["ratios"] = {
            name: rounded(old[key] / new[key], 1) if old[key] and new[key] else None
            for name, key in (("CPU per participant", "cpu_ms_per_participant"), ("time-to-in p50", "p50_ms"),
                              ("time-to-in p99", "p99_ms"))
        }
    print_report(report)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
