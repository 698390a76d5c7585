"""Run Daphne in production: several processes on one port, tuned for a live room of tens of thousands.

    python -m academy.serve --processes 2 -b 0.0.0.0 -p 8000 [other Daphne options] [academy.asgi:application]

`daphne academy.asgi:application` works as well (one process, and what `make run` uses). This wrapper adds:
- Daphne's time-outs set for a room of tens of thousands of phones (DAPHNE_TIMEOUTS, each an option of the same
  name that takes another value): above all the time a WebSocket may wait for its accept, 30 s instead of 5;
- one rule for the access log: it is Django's `django.channels.server` logger at ACCESS_LOG_LEVEL, as under
  `manage.py runserver` (INFO: a line per request and per WebSocket connect and disconnect; WARNING, the default
  with DEBUG off: only 4xx and 5xx answers), or Daphne's own lines in a file with `--access-log FILE`. Daphne's
  `-v` no longer writes it to stdout (plain Daphne does at its default -v 1: a line per connect and disconnect);
- N Daphne processes, each with its own listening socket on the same port (SO_REUSEPORT: the kernel spreads new
  connections over them, no nginx stickiness needed) and a listen backlog of 4,096 (Twisted's default of 50
  overflows in a join burst, and the dropped SYNs are retried by clients only after a second or more); a process
  that dies is started again, and its share of new connections goes to the others meanwhile;
- in each process (`--worker`): `gc.freeze()` once the application is loaded and after each burst of joins, so that
  full garbage collections no longer walk every connection's objects (with 10,000-20,000 connections open they
  took 0.6-1.2 s, inside broadcasts); and Daphne's two per-connection checker loops every 5 and 10 s rather than
  every 1 and 2 s (they walk every connection; time-outs are in tens of seconds anyway). The loops stay Daphne's
  own code: only how often they run changes.
The Daphne-specific part engages only on the Daphne it was written for: the version (DAPHNE_VERSION, the pin in
requirements.txt) and the source of the methods it builds on (DAPHNE_SOURCES); otherwise Daphne runs unchanged,
with a warning. tests/academy/test_serve.py fails when the installed Daphne differs from either.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import time

logger = logging.getLogger("academy.serve")

DAPHNE_VERSION = "4.2.3"
DEFAULT_APPLICATION = "academy.asgi:application"
BACKLOG = 4096
# A worker freezes the heap when its connections grew by this many since the last freeze, and thaws it (so that
# the garbage of closed connections can be collected) when they fell below half of what was frozen.
FREEZE_STEP = 200
FREEZE_CHECK_SECONDS = 1.0
APPLICATION_CHECK_SECONDS = 5.0
TIMEOUT_CHECK_SECONDS = 10.0

# Daphne's time-outs for a room of tens of thousands of phones, each an academy.serve option of Daphne's name (so
# `--ping-interval 60` still works as with plain Daphne), in seconds. The accept time-out is the WebSocket library's
# opening-handshake timer (it drops the connection; the deadline is rounded down to the second); the others act when
# Daphne's per-connection loop passes, every TIMEOUT_CHECK_SECONDS (APPLICATION_CHECK_SECONDS for the application
# close), so they may act up to 10 s late.
# docs/deployment.md gives the reasons at length.
DAPHNE_TIMEOUTS = {
    # From the WebSocket's TCP connection to the consumer's accept. Daphne's 5 s failed 83 joins of 50,000 in a burst
    # (issue 16): the consumer accepts before admission's slow part, so what remains is the wait in a loaded
    # process's queue. 30 s covers that several times over; a client that waits longer is better served by its own
    # reconnect with back-off (live/static/live/room.js: 1, 2, 4 … 30 s plus jitter).
    "--websocket_connect_timeout": 30,
    # A ping to every WebSocket whose client sent nothing for this long (a phone that only listens: nearly all), and a
    # close when its pong does not come within --ping-timeout. Together they bound how long a phone that vanished
    # without a FIN (lift, tunnel, flat battery) counts as present: about a minute. 30 s keeps mobile NAT and
    # nginx's 120 s WebSocket read timeout open at two thirds the cost of Daphne's 20 s (20,000 phones: ~670 pings a
    # second rather than 1,000).
    "--ping-interval": 30,
    "--ping-timeout": 30,
    # How long a consumer may take to finish after its client left (leaving the room, the attendance span's end)
    # before Daphne cancels it. A mass disconnect (a proxy restart, a lost network) queues tens of thousands of
    # these at once behind one group commit: 30 s rather than 10 s, at no cost when consumers finish quickly.
    "--application-close-timeout": 30,
    # An HTTP request the application has not answered within this gets Daphne's 503 (Daphne's default: never).
    # Below nginx's 60 s proxy_read_timeout even when the loop passes 10 s late, so the application is stopped
    # rather than left working for a client nginx has already answered with 504.
    "--http-timeout": 45,
    # Any WebSocket is closed after this; the client resumes without a gap. A session lasts hours: Daphne's day.
    "--websocket_timeout": 86400,
}


# --- worker: one Daphne process ---------------------------------------------------------------------------------

# What the tuning assumes of Daphne, checked before it engages (and by tests/academy/test_serve.py): the version,
# and the source of the three methods it builds on. `Server.run` schedules `application_checker` after 1 s and
# `timeout_checker` after 2 s; each walks every connection and then reschedules itself with
# `reactor.callLater(DAPHNE_TICKS[name], self.<name>)`.
DAPHNE_SOURCES = {
    "run": "447c6bd42c62e98c",
    "application_checker": "ccb688341a7d0bc1",
    "timeout_checker": "6b70373a3a77cb2b",
}
DAPHNE_TICKS = {"application_checker": 1, "timeout_checker": 2}


def daphne_source_hashes() -> dict[str, str | None]:
    """sha256 (first 16 hex digits) of the installed Daphne's methods named in DAPHNE_SOURCES."""
    import hashlib
    import inspect

    from daphne.server import Server

    hashes = {}
    for name in DAPHNE_SOURCES:
        try:
            source = inspect.getsource(getattr(Server, name))
        except (AttributeError, OSError, TypeError):
            hashes[name] = None
        else:
            hashes[name] = hashlib.sha256(source.encode()).hexdigest()[:16]
    return hashes


def daphne_matches() -> str | None:
    """None when the installed Daphne is the one the tuning was written for; otherwise what differs."""
    import daphne

    if daphne.__version__ != DAPHNE_VERSION:
        return f"Daphne {daphne.__version__}, not {DAPHNE_VERSION}"
    changed = sorted(name for name, digest in daphne_source_hashes().items() if digest != DAPHNE_SOURCES[name])
    if changed:
        return f"Daphne's Server.{', Server.'.join(changed)} changed"
    return None


def tuned_server_class():
    """Daphne's Server, with its two per-connection loops run every 5 and 10 s rather than every 1 and 2 s, and the
    heap frozen after joins. The loops' bodies stay Daphne's own: a tuned checker that is not due only reschedules
    itself (as Daphne's would), and one that is due calls Daphne's method, which does the walk and reschedules."""
    from daphne.server import Server

    mismatch = daphne_matches()
    if mismatch:
        logger.warning("academy.serve: %s: running Daphne's own server loop unchanged", mismatch)
        return Server

    from twisted.internet import reactor

    class TunedServer(Server):
        frozen_at = 0
        next_application_check = 0.0
        next_timeout_check = 0.0

        def run(self):
            reactor.callLater(FREEZE_CHECK_SECONDS, self.freeze_checker)
            super().run()

        def freeze_checker(self):
            connections = len(self.connections)
            if not self.frozen_at or connections - self.frozen_at >= FREEZE_STEP:
                gc.freeze()
                self.frozen_at = max(1, connections)
            elif connections < self.frozen_at // 2:
                gc.unfreeze()
                self.frozen_at = max(1, connections)
            reactor.callLater(FREEZE_CHECK_SECONDS, self.freeze_checker)

        def application_checker(self):
            now = time.monotonic()
            if now < self.next_application_check:
                reactor.callLater(DAPHNE_TICKS["application_checker"], self.application_checker)
                return
            self.next_application_check = now + APPLICATION_CHECK_SECONDS
            super().application_checker()

        def timeout_checker(self):
            now = time.monotonic()
            if now < self.next_timeout_check:
                reactor.callLater(DAPHNE_TICKS["timeout_checker"], self.timeout_checker)
                return
            self.next_timeout_check = now + TIMEOUT_CHECK_SECONDS
            super().timeout_checker()

    return TunedServer


JOIN_LINK_PREFIX = "/live/join/"  # live/links.py PATH_PREFIX (the base of academy does not import live)


def access_logger(http_timeout: float | None = None):
    """Daphne's action logger under academy.serve: the lines of `manage.py runserver` (Daphne's own runserver
    command), written to the `django.channels.server` logger (ACCESS_LOG_LEVEL): INFO for successful requests and
    WebSocket connects and disconnects, WARNING for 4xx, ERROR for 5xx, except the join storm's busy pages (INFO:
    the gate sums them up in one WARNING line every few seconds). None when that logger writes nothing at all, so
    a quiet server does not even build the lines."""
    from daphne.management.commands.runserver import Command

    from academy.gate import STORM_PATHS

    logger = logging.getLogger("django.channels.server")
    if not logger.isEnabledFor(logging.ERROR):
        return None
    log_action = Command().log_action

    def log_without_link_tokens(protocol, action, details):
        path = details.get("path") or ""  # with its query string
        if path.startswith(JOIN_LINK_PREFIX):
            # A personal join link signs its registrant in: its token never goes into a log.
            details = {**details, "path": JOIN_LINK_PREFIX + "…/"}
        if (protocol == "http" and action == "complete" and details.get("status") == 503
                and STORM_PATHS.search(path.partition("?")[0])
                and (http_timeout is None or details.get("time_taken", 0) < http_timeout)):
            # academy/gate.py's busy page: an answer given on purpose, with an appointment, thousands of them in a
            # storm at 19:30; academy.gate writes how many in a WARNING every few seconds. Daphne's own 503 (the
            # application did not answer within --http-timeout) stays an ERROR.
            logger.info("HTTP %(method)s %(path)s 503 busy [%(time_taken).2f, %(client)s]", details)
            return None
        return log_action(protocol, action, details)

    return log_without_link_tokens


def server_class(*, access_log_file: bool):
    """The Server class Daphne's command line builds: tuned when Daphne is the pinned one, and with the access log
    of the rule above unless the operator named a file with `--access-log` (then Daphne's own lines go there)."""
    base = tuned_server_class()
    if access_log_file:
        return base

    class AcademyServer(base):
        def __init__(self, *args, **kwargs):
            # Built after Daphne's command line loaded the application, so the settings' LOGGING is in force.
            kwargs["action_logger"] = access_logger(kwargs.get("http_timeout"))
            super().__init__(*args, **kwargs)

    return AcademyServer


def run_worker(daphne_argv: list[str]) -> None:
    from daphne.cli import CommandLineInterface

    cli = CommandLineInterface()
    access_log = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    access_log.add_argument("--access-log")
    cli.server_class = server_class(access_log_file=bool(access_log.parse_known_args(daphne_argv)[0].access_log))
    cli.run(daphne_argv)


# --- supervisor: N workers on one port --------------------------------------------------------------------------

def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def start_worker(host, port, backlog, daphne_args, application) -> subprocess.Popen:
    sock = listening_socket(host, port, backlog)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "academy.serve", "--worker", "--fd", str(sock.fileno()), *daphne_args, application],
            pass_fds=[sock.fileno()],
        )
    finally:
        sock.close()  # the worker holds the only copy: when it dies, the kernel stops routing to its socket


def worker_pids(supervisor: int) -> list[int]:
    """The Daphne workers of the academy.serve running as process `supervisor`: its child processes, read from /proc
    (Linux). For whoever watches a running server from outside: the tests and the benchmarks."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == supervisor:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass  # the process ended meanwhile
    return found


def supervise(args, daphne_args: list[str]) -> int:
    workers = [start_worker(args.bind, args.port, args.backlog, daphne_args, args.application)
               for _ in range(args.processes)]
    logger.warning("academy.serve: %d Daphne process(es) on %s:%d (pids %s)", len(workers), args.bind, args.port,
                   ", ".join(str(w.pid) for w in workers))
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    restarts: list[float] = []
    while True:
        time.sleep(0.5)
        if stopping:
            deadline = time.monotonic() + 15
            for worker in workers:
                try:
                    worker.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    worker.kill()
            return 0
        for index, worker in enumerate(workers):
            if worker.poll() is not None:
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > 10 * args.processes:
                    logger.error("academy.serve: workers keep dying; giving up")
                    stop(None, None)
                    break
                logger.warning("academy.serve: process %d exited (%s); starting it again", worker.pid,
                               worker.returncode)
                workers[index] = start_worker(args.bind, args.port, args.backlog, daphne_args, args.application)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if argv[:1] == ["--worker"]:
        run_worker(argv[1:])
        return 0
    args, daphne_args = parse_arguments(argv)
    return supervise(args, daphne_args)


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """academy.serve's own options, and the Daphne options each worker gets: DAPHNE_TIMEOUTS (with the values
    given here) first, then every option academy.serve does not know, passed through as given."""
    # No abbreviations: an option academy.serve does not know goes to Daphne as it was written.
    parser = argparse.ArgumentParser(prog="python -m academy.serve", description=__doc__.split("\n")[0],
                                     allow_abbrev=False)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--backlog", type=int, default=BACKLOG)
    for option, seconds in DAPHNE_TIMEOUTS.items():
        parser.add_argument(option, type=int, default=seconds, metavar="SECONDS",
                            help=f"Daphne's {option} (default here: {seconds})")
    args, passed_through = parser.parse_known_args(argv)
    args.application = DEFAULT_APPLICATION
    if passed_through and ":" in passed_through[-1] and not passed_through[-1].startswith("-"):
        args.application = passed_through.pop()
    daphne_args = []
    for option in DAPHNE_TIMEOUTS:
        daphne_args += [option, str(getattr(args, option.lstrip("-").replace("-", "_")))]
    return args, daphne_args + passed_through


if __name__ == "__main__":
    sys.exit(main())
