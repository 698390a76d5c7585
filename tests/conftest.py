"""Shared fixtures.

Users and what they may do:
- `volunteer`: a signed-in volunteer; may read, study and join open live sessions.
- `socialworker`: a signed-in social worker; same rights as a volunteer.
- `moderator`: member of Moderators; may moderate live sessions.
- `organiser`: member of Organisers; may use the Wagtail admin, publish pages, read reports, manage certificates.
- `outsider`: a signed-in user with no role in anything under test; must be refused where others are allowed.
"""
import os
import shutil
import threading

import pytest
from django.core.cache import cache

from live import room_views
from tests.factories import UserFactory, make_home


def pytest_configure(config):
    # CI runs the suite against PostgreSQL and Redis: a missing server must fail the run, never fall back.
    if os.environ.get("CI") and os.environ.get("EXPECT_SERVICES"):
        assert os.environ.get("DATABASE_URL", "").startswith("postgres"), "CI expects DATABASE_URL for PostgreSQL"
        assert os.environ.get("REDIS_URL", "").startswith("redis"), "CI expects REDIS_URL for Redis"


def pytest_collection_modifyitems(config, items):
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main thread while a browser
    # is open, and the async (WebSocket) tests that pytest-asyncio runs cannot start their own loop inside it.
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # A session that ends reports its attendance in a thread of its own (live/services/attendance.py), which may
    # still be writing (facts, completions, a certificate) when the test's last assertion passes. It finishes before
    # any fixture's teardown: on PostgreSQL, the flush of a transactional test deadlocked with it once.
    for thread in threading.enumerate():
        if thread.name.startswith("live-attendance-"):
            thread.join(timeout=60)


@pytest.fixture(scope="session", autouse=True)
def _flush_postgresql_by_delete():
    """A transactional test ends with Django's flush: on PostgreSQL one TRUNCATE of every table (110), which makes new
    files for each table and index and took 0.3-1.1 s a test here; DELETE FROM each table takes 0.06-0.12 s on the
    suite's small tables. The tables end as empty either way (SQLite's flush is DELETE already). Django's foreign
    keys are DEFERRABLE INITIALLY DEFERRED and the flush is one transaction, so the order does not matter. TRUNCATE
    stays where the caller asks for more than emptying (resetting sequences, cascading)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # The browser tests' server process uses the same hasher (tests/e2e/server_settings.py).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    room_views.forget_shells()  # the room shells live in process memory (SQLite reuses the pages' ids)
    yield
    cache.clear()


@pytest.fixture
def home(db):
    return make_home()


@pytest.fixture
def volunteer(db):
    return UserFactory(username="volunteer", real_name="王志愿")


@pytest.fixture
def socialworker(db):
    return UserFactory(username="socialworker", real_name="李社工", role="social_worker")


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", real_name="赵主持", role="social_worker", groups=["Moderators"])


@pytest.fixture
def organiser(db):
    return UserFactory(username="organiser", real_name="钱组织", role="organiser", groups=["Organisers"])


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", real_name="孙路人")


@pytest.fixture
def redis_server():
    """A redis-server of the test's own, on a free port (tests that restart or count its connections)."""
    from tests.live.test_faults import RedisServer
    from tests.servers import free_port

    if not shutil.which("redis-server"):
        if os.environ.get("EXPECT_SERVICES") == "1":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.kill()
