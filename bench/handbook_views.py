#!/usr/bin/env python
"""Benchmark: handbook chapter views under several Daphne processes, side by side in one run.

    .venv/bin/python bench/handbook_views.py [--processes 2] [--connections 32] [--seconds 5] [--rounds 2]

What it does (bounded: it stops by itself after rounds x 3 scenarios x seconds, plus start-up):
1. builds a throw-away SQLite database (or uses --database-url, e.g. a scratch PostgreSQL database), migrates it,
   loads the demo manual with the same builders as the tests and signs a reader in (a session cookie);
2. collects static files into a temporary folder and starts --processes Daphne processes (DEBUG off) on loopback
   ports; REDIS_URL, when set in the environment, gives them a shared cache, otherwise each has its local memory;
3. drives them with a pure-Python asyncio HTTP/1.1 client (keep-alive connections spread over the processes), in
   interleaved rounds of three scenarios:
     - anonymous: an anonymous chapter view, served from the page cache;
     - signed_in: the same chapter for a signed-in reader (personalised: never cached);
     - uncached:  the same chapter rendered anonymously with the cache bypassed (a query string);
4. prints requests per second, median and 95th-percentile latency for each, and the ratios between them.

The machine is shared and noisy: compare the ratios, not the absolute figures.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.httpclient import Connection  # noqa: E402
CHAPTER_SLUG = "volunteer-recruitment"
SCENARIOS = ("anonymous", "signed_in", "uncached")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Set-up -------------------------------------------------------------------------------------------------------


def prepare(database_url: str, static_root: str, base_env: dict) -> str:
    """Migrate the database, load the demo manual, sign a reader in; returns the session cookie's value."""
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0, interactive=False)\n"
        "call_command('collectstatic', verbosity=0, interactive=False)\n"
        "from tests.factories import ensure_demo_users\n"
        "from tests.factories.handbook import load_demo\n"
        "from tests.factories.pages import make_home\n"
        "make_home()\n"
        "users = ensure_demo_users('bench-pass-123')\n"
        "load_demo(users=users, log=lambda m: None)\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "client.force_login(users['demo-volunteer'])\n"
        "print('SESSION=' + client.cookies['sessionid'].value)\n"
    )
    env = {**base_env, "DATABASE_URL": database_url, "STATIC_ROOT": static_root}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"set-up failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    for line in result.stdout.splitlines():
        if line.startswith("SESSION="):
            return line.split("=", 1)[1]
    raise SystemExit("set-up did not sign the reader in")


def start_daphnes(count: int, env: dict, log_dir: Path) -> tuple[list[subprocess.Popen], list[int]]:
    processes, ports = [], []
    for index in range(count):
        port = free_port()
        log = open(log_dir / f"daphne-{index}.log", "wb")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "academy.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ))
        ports.append(port)
    deadline = time.monotonic() + 60
    for process, port in zip(processes, ports):
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    stop(processes)
                    raise SystemExit(f"Daphne on port {port} did not start: see {log_dir}")
                time.sleep(0.2)
    return processes, ports


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def drive(ports: list[int], path: str, cookie: str | None, connections: int, seconds: float,
                expect_cache: str) -> dict:
    latencies: list[float] = []
    errors = 0
    wrong_cache = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int):
        nonlocal errors, wrong_cache
        connection = Connection(ports[index % len(ports)])
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, fields, _body = await connection.get(path, cookie)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    await connection.close()
                    continue
                if status != 200:
                    errors += 1
                    continue
                if fields.get("x-handbook-cache") != expect_cache:
                    wrong_cache += 1
                latencies.append(time.perf_counter() - started)
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies), "rps": len(latencies) / elapsed, "errors": errors, "wrong_cache": wrong_cache,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else float("nan"),
    }


async def warm(ports: list[int], path: str, cookie: str | None) -> None:
    for port in ports:
        connection = Connection(port)
        for _ in range(3):
            await connection.get(path, cookie)
        await connection.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=max(2, min(4, os.cpu_count() or 2)),
                        help="Daphne processes (default: one per core, 2 to 4)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the three scenarios")
    parser.add_argument("--database-url", default="", help="a scratch database (default: a temporary SQLite file)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-handbook-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    static_root = str(workdir / "static")
    base_env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings", "PYTHONPATH": str(ROOT),
        "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0", "SERVE_FILES": "false", "LOG_LEVEL": "WARNING",
        "ACCESS_LOG_LEVEL": "WARNING", "MEDIA_ROOT": str(workdir / "media"), "STATIC_ROOT": static_root,
        "DATABASE_URL": database_url,
    }
    print(f"preparing {database_url} …", flush=True)
    session = prepare(database_url, static_root, base_env)
    processes, ports = start_daphnes(args.processes, base_env, workdir)
    path = f"/handbook/{CHAPTER_SLUG}/"
    cache = "Redis (shared)" if os.environ.get("REDIS_URL") else "local memory (per process)"
    print(f"{args.processes} Daphne processes on ports {ports}; cache: {cache}; {args.connections} connections; "
          f"{args.rounds} rounds x {args.seconds:g} s per scenario", flush=True)
    scenarios = {
        "anonymous": (path, None, "hit"),
        "signed_in": (path, f"sessionid={session}", "bypass"),
        "uncached": (path + "?nocache=1", None, "bypass"),
    }
    results: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    try:
        for name, (url, cookie, _expect) in scenarios.items():
            asyncio.run(warm(ports, url, cookie))
        for round_number in range(args.rounds):
            for name in SCENARIOS:
                url, cookie, expect = scenarios[name]
                result = asyncio.run(drive(ports, url, cookie, args.connections, args.seconds, expect))
                results[name].append(result)
                print(f"  round {round_number + 1} {name:<10} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:6.1f} ms"
                      f"  p95 {result['p95_ms']:6.1f} ms  errors {result['errors']}"
                      f"{'  (cache header unexpected: ' + str(result['wrong_cache']) + ')' if result['wrong_cache'] else ''}",
                      flush=True)
    finally:
        stop(processes)

    print("\nscenario     req/s (median of rounds)   p50 ms   p95 ms")
    summary = {}
    for name in SCENARIOS:
        rps = statistics.median(r["rps"] for r in results[name])
        summary[name] = rps
        p50 = statistics.median(r["p50_ms"] for r in results[name])
        p95 = statistics.median(r["p95_ms"] for r in results[name])
        print(f"{name:<12} {rps:12.1f}               {p50:7.1f}  {p95:7.1f}")
    print("\nratios")
    print(f"  anonymous cached / uncached render : {summary['anonymous'] / summary['uncached']:.2f}x")
    print(f"  anonymous cached / signed-in view  : {summary['anonymous'] / summary['signed_in']:.2f}x")
    print(f"  signed-in view   / uncached render : {summary['signed_in'] / summary['uncached']:.2f}x")
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
