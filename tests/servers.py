"""Helpers for tests that start real server processes (Daphne, redis-server) beside the test database."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connections

from academy.serve import worker_pids

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """A DATABASE_URL that points another process at the test database (SQLite file or PostgreSQL)."""
    settings = connections["default"].settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connection_owner(pids: list[int], client_port: int) -> int | None:
    """Which of `pids` holds the server side of the loopback TCP connection from `client_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == client_port:
                        inodes.add(f"socket:[{fields[9]}]")
        except OSError:
            pass
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                pass
    return None


class Serve:
    """`python -m academy.serve --processes N -p <free port> [options]` on the test database, its output in a file.

    Started means: every worker process has answered a request (SO_REUSEPORT spreads new connections over the
    workers; the one that answered is found from /proc), so a test never talks to a worker still loading."""

    def __init__(self, log: Path, processes: int, *options: str, env: dict, deadline: float = 60):
        self.port = free_port()
        self.log, self.processes = log, processes
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "academy.serve", "--processes", str(processes), "-b", "127.0.0.1",
                 "-p", str(self.port), *options],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        answered: set[int] = set()
        give_up = time.monotonic() + deadline
        while len(answered) < processes:
            if self.process.poll() is not None or time.monotonic() > give_up:
                self.stop()
                raise RuntimeError(f"academy.serve did not start:\n{self.output()[-3000:]}")
            worker = self.answering_worker()
            if worker is None:
                time.sleep(0.2)  # poll again
            else:
                answered.add(worker)

    def answering_worker(self) -> int | None:
        """The worker that answered one /healthz request (any answer: the application is loaded), or None."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # kept alive: still ours to find
                if not sock.recv(12).startswith(b"HTTP/1.1 "):
                    return None
                return connection_owner(self.workers(), sock.getsockname()[1])
        except OSError:
            return None

    def workers(self) -> list[int]:
        return worker_pids(self.process.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
