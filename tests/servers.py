"""Helpers for tests that start real server processes (Daphne, redis-server) beside the test database."""
import socket
from pathlib import Path

from django.db import connections


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
