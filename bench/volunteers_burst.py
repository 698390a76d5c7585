#!/usr/bin/env python
"""Benchmark: a burst of volunteer applications through HTTP, then one reviewer deciding through the review pages.

    .venv/bin/python bench/volunteers_burst.py [--count 10000] [--processes 4] [--concurrency 64]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_volunteers] [--review-seconds 30]

What it does (bounded: every phase has a deadline and --max-seconds stops the whole run; loopback only):
1. (re)creates its own PostgreSQL database (the name in --database-url; never an existing site's), migrates it,
   builds a campaign with two categories and four screening questions, creates --count applicants and a reviewer
   and signs them all in (session rows);
2. collects the static files and starts `python -m academy.serve --processes N` (several Daphne processes on one
   port) as production runs it: DEBUG off, the PostgreSQL connection pool (DATABASE_POOL_SIZE per process);
3. burst: --concurrency keep-alive connections submit every applicant's complete application at once
   (POST /volunteers/<slug>/apply/, form-encoded, as a browser without JavaScript would), and a sample of
   applicants submits a second time (a double click);
4. checks in the database: one submitted application per applicant (none lost), no duplicate per person and
   campaign, one "submitted" audit row each;
5. review: one reviewer works through the queue for --review-seconds the way the keyboard flow does it
   (claim the next one, read its page, "approve, then next"), and the figure is decisions per minute;
6. prints submit latency p50/p99, submissions per second, errors, and the review throughput.

REDIS_URL, when set in the environment, is passed on (shared cache for the Daphne processes).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.httpclient import Connection  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bench_volunteers"

SETUP = r"""
import json, secrets, sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.conf import settings
from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from academy.accounts.backends import SESSION_BACKEND
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from wagtail.models import Locale, Page, Site
from academy.models import HomePage
from courses.models import CourseIndexPage, CoursePage
from volunteers.builders import make_campaign, make_volunteers_index

count = int(sys.argv[1])
Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
home = HomePage.objects.first()
if home is None:
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="联动学堂", slug="home"))
Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "127.0.0.1", "port": 80, "root_page": home})
index = CourseIndexPage.objects.first() or home.add_child(instance=CourseIndexPage(title="课程", slug="courses"))
course = CoursePage.objects.filter(slug="bench-onboarding").first()
if course is None:
    course = index.add_child(instance=CoursePage(title="上岗培训（压测）", slug="bench-onboarding", summary="压测用课程"))
    course.save_revision().publish()
make_volunteers_index(home)
campaign = make_campaign(title="压测招募", slug="bench-burst", needs=[("物资配送", count, [course]), ("信息登记", count, [course])],
    questions=[
        {"type": "question", "value": {"text": "为什么报名？", "kind": "text", "choices": [], "required": True}},
        {"type": "question", "value": {"text": "会用微信吗？", "kind": "single", "choices": ["会", "不会"], "required": True}},
        {"type": "question", "value": {"text": "做过什么？", "kind": "multiple", "choices": ["防控", "配送"], "required": False}},
        {"type": "question", "value": {"text": "体力", "kind": "scale", "choices": [], "required": True}},
    ])
User = get_user_model()
existing = set(User.objects.filter(username__startswith="burst-").values_list("username", flat=True))
User.objects.bulk_create([
    User(username=f"burst-{i:06d}", real_name=f"压测{i}", phone=f"+86137{i:08d}", password="!")
    for i in range(count) if f"burst-{i:06d}" not in existing
], batch_size=2000)
reviewer, _ = User.objects.get_or_create(username="burst-reviewer", defaults={"real_name": "压测审核", "password": "!"})
reviewer.groups.set([Group.objects.get(name="Reviewers")])
users = list(User.objects.filter(username__startswith="burst-").exclude(pk=reviewer.pk).order_by("username")[:count])
expiry = timezone.now() + timezone.timedelta(days=1)
store = SessionStore()
rows, keys = [], []
for user in users + [reviewer]:
    key = secrets.token_hex(16)
    data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: SESSION_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash()}
    rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expiry))
    keys.append(key)
Session.objects.bulk_create(rows, batch_size=2000)
needs = list(campaign.needs.order_by("sort_order").values_list("pk", flat=True))
print("SETUP=" + json.dumps({"campaign_id": campaign.pk, "slug": campaign.slug, "needs": needs,
    "questions": campaign.question_list(), "sessions": keys[:-1], "reviewer_session": keys[-1],
    "user_ids": [u.pk for u in users]}, ensure_ascii=False))
"""

CHECK = r"""
import json, sys, django
django.setup()
from django.db.models import Count
from volunteers.models import Application, AuditEntry
campaign_id = int(sys.argv[1])
apps = Application.objects.filter(campaign_id=campaign_id)
print("CHECK=" + json.dumps({
    "applications": apps.count(),
    "submitted_or_decided": apps.exclude(state="draft").count(),
    "users": apps.values("user").distinct().count(),
    "duplicates": apps.values("user").annotate(n=Count("id")).filter(n__gt=1).count(),
    "submitted_audit": AuditEntry.objects.filter(application__campaign_id=campaign_id, action="submitted").count(),
    "approved": apps.filter(state="approved").count(),
}))
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"bench_[a-z0-9_]+", name):
        raise SystemExit("--database-url must name a scratch database called bench_<something>")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_python(script: str, args: list[str], env: dict, timeout: float) -> str:
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"helper failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def form_body(setup: dict, index: int, csrf: str) -> bytes:
    fields = [("csrfmiddlewaretoken", csrf), ("full_name", f"压测{index}"), ("phone", f"137{index:08d}"),
              ("district", "江汉区"), ("community", f"社区{index % 40}"), ("need_ids", str(setup["needs"][index % 2])),
              ("days", "sat"), ("days", "sun"), ("day_parts", "morning"), ("mode", "onsite"), ("consent", "on"),
              ("action", "submit")]
    for question in setup["questions"]:
        name = f"q_{question['id']}"
        if question["kind"] == "text":
            fields.append((name, "想为社区出一份力。"))
        elif question["kind"] in ("single", "multiple"):
            fields.append((name, question["choices"][0]))
        else:
            fields.append((name, str(1 + index % 5)))
    return urllib.parse.urlencode(fields).encode()


async def burst(port: int, setup: dict, concurrency: int, deadline: float, repeat_sample: int) -> dict:
    path = f"/volunteers/{setup['slug']}/apply/"
    queue = list(enumerate(setup["sessions"]))
    queue += [(i, setup["sessions"][i]) for i in range(min(repeat_sample, len(setup["sessions"])))]  # double clicks
    latencies, statuses = [], {}
    position = 0

    async def worker():
        nonlocal position
        connection = Connection(port)
        try:
            while position < len(queue) and time.monotonic() < deadline:
                index, session = queue[position]
                position += 1
                csrf = secrets.token_hex(16)
                started = time.perf_counter()
                try:
                    status, fields, _ = await connection.request(
                        "POST", path, cookie=f"sessionid={session}; csrftoken={csrf}", body=form_body(setup, index, csrf),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    status = "connection error"
                    await connection.close()
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    first = latencies[: len(setup["sessions"])]
    return {"requests": len(latencies), "seconds": round(elapsed, 2), "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1) if latencies else None,
            "statuses": {str(k): v for k, v in statuses.items()}, "unfinished": len(queue) - position,
            "first_pass": len(first)}


async def review(port: int, setup: dict, seconds: float) -> dict:
    """One reviewer: claim the next one, read it, approve then next (the keyboard flow: n, then a, a, a …)."""
    connection = Connection(port)
    csrf = secrets.token_hex(16)
    cookie = f"sessionid={setup['reviewer_session']}; csrftoken={csrf}"
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    decisions, latencies, errors = 0, [], 0
    deadline = time.monotonic() + seconds
    status, fields, _ = await connection.request("POST", "/volunteers/review/next/", cookie=cookie, body=body, headers=form)
    location = fields.get("location", "")
    if status != 302:
        errors += 1
        print(f"review: claiming the next application answered {status}", file=sys.stderr)
    started = time.perf_counter()
    while time.monotonic() < deadline and "/volunteers/review/" in location and location.rstrip("/").split("/")[-1].isdigit():
        t0 = time.perf_counter()
        status, _, page = await connection.request("GET", location, cookie=cookie)
        if status != 200:
            errors += 1
            break
        approve = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "action": "approve", "then": "next"}).encode()
        status, fields, _ = await connection.request("POST", location, cookie=cookie, body=approve, headers=form)
        if status != 302:
            errors += 1
            break
        decisions += 1
        latencies.append(time.perf_counter() - t0)
        location = fields.get("location", "")
    elapsed = time.perf_counter() - started
    await connection.close()
    latencies.sort()
    return {"decisions": decisions, "seconds": round(elapsed, 1),
            "per_minute": round(60 * decisions / elapsed, 1) if elapsed else 0,
            "p50_ms_per_decision": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "errors": errors}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--review-seconds", type=float, default=30)
    parser.add_argument("--repeat-sample", type=int, default=100, help="applicants who submit twice")
    parser.add_argument("--max-seconds", type=float, default=1200, help="the whole run stops after this")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 100000 or not 1 <= args.processes <= 32 or not 1 <= args.concurrency <= 1000:
        raise SystemExit("count 1..100000, processes 1..32, concurrency 1..1000")
    hard_stop = time.monotonic() + args.max_seconds
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(SystemExit("--max-seconds reached")))
    signal.alarm(int(args.max_seconds) + 30)

    recreate_database(args.database_url)
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings", "DATABASE_URL": args.database_url, "STATIC_ROOT": static_root, "DEBUG": "false",
           "SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0",
           "SMS_BACKEND": "academy.notifications.backends.locmem.SmsBackend",
           "EMAIL_URL": "consolemail://", "LOG_LEVEL": "WARNING", "ACCESS_LOG_LEVEL": "WARNING",
           "PRIVATE_MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-private-")}
    t0 = time.monotonic()
    out = run_python(SETUP, [str(args.count)], env, timeout=max(60, hard_stop - time.monotonic()))
    setup = json.loads(next(line for line in out.splitlines() if line.startswith("SETUP="))[6:])
    setup_seconds = time.monotonic() - t0

    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                   check=True, timeout=max(60, hard_stop - time.monotonic()))
    port = free_port()
    log = open(Path(static_root) / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "academy.serve", "--processes", str(args.processes),
                               "-b", "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server did not start: {Path(static_root) / 'serve.log'}")
                time.sleep(0.3)
        time.sleep(1)  # let every worker process come up
        submit = asyncio.run(burst(port, setup, args.concurrency, hard_stop - 60, args.repeat_sample))
        check = json.loads(next(line for line in run_python(CHECK, [str(setup["campaign_id"])], env, 120).splitlines()
                                if line.startswith("CHECK="))[6:])
        reviewed = asyncio.run(review(port, setup, min(args.review_seconds, max(1, hard_stop - time.monotonic() - 30))))
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        signal.alarm(0)

    result = {
        "count": args.count, "processes": args.processes, "concurrency": args.concurrency,
        "setup_seconds": round(setup_seconds, 1), "submit": submit, "database": check,
        "none_lost": check["submitted_or_decided"] == args.count and check["users"] == args.count,
        "no_duplicates": check["duplicates"] == 0 and check["submitted_audit"] == args.count,
        "review": reviewed,
    }
    print(f"applications: {args.count} through {args.processes} Daphne processes, {args.concurrency} connections "
          f"({submit['requests']} POSTs incl. {submit['requests'] - submit['first_pass']} double clicks)")
    print(f"  submit latency p50 {submit['p50_ms']} ms, p99 {submit['p99_ms']} ms; "
          f"{submit['per_second']} submissions/s; statuses {submit['statuses']}")
    print(f"  in the database: {check['submitted_or_decided']} submitted, {check['users']} applicants, "
          f"{check['duplicates']} duplicates -> none lost: {result['none_lost']}, no duplicates: {result['no_duplicates']}")
    print(f"review: {reviewed['decisions']} decisions in {reviewed['seconds']} s by one reviewer = "
          f"{reviewed['per_minute']} per minute (p50 {reviewed['p50_ms_per_decision']} ms per read+decide), "
          f"errors {reviewed['errors']}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0 if result["none_lost"] and result["no_duplicates"] else 1


if __name__ == "__main__":
    sys.exit(main())
