"""Browser tests: a real Daphne process serving the test database, driven by Debian's Chromium via Playwright.

`asgi_server` starts `daphne academy.asgi:application` once per test session against the test database (SQLite
file or PostgreSQL), with the same REDIS_URL as the tests. Tests using it need committed data:
`@pytest.mark.django_db(transaction=True)` (or the `transactional_db` fixture). Mark them `e2e`.
"""
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import database_url, free_port

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between page actions are
# ordinary blocking calls, so Django's async-safety guard is switched off for the browser tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _server_media(tmp_path_factory) -> Path:
    """One MEDIA_ROOT for every server of the test session (tests that upload find it from any of them)."""
    path = tmp_path_factory.getbasetemp() / "server-media"
    path.mkdir(exist_ok=True)
    return path


@contextmanager
def _daphne(tmp_path_factory):
    """A Daphne process serving the test database until the block ends; yields its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.e2e.server_settings", "DATABASE_URL": database_url(),
           "DEBUG": "true", "SERVE_FILES": "true",
           "MEDIA_ROOT": str(_server_media(tmp_path_factory)), "LOGIN_RATE_LIMIT": "1000",
           "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "academy.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"Daphne did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    with _daphne(tmp_path_factory) as url:
        yield url


# A transactional test's flush recreates content types under new ids, while a long-running server keeps the old ones
# in Django's ContentType cache: a Wagtail admin page that writes rows naming a content type (the page editor's
# editing session) needs a server started after the last flush.
@pytest.fixture
def fresh_asgi_server(django_db_setup, tmp_path_factory):
    with _daphne(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package (needs root).")
    return path


# One Chromium for the whole run (every test opens its own context: no cookies or storage are shared). The browser
# tests run last (tests/conftest.py), so the event loop Playwright keeps in this thread meets no async test.
@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in through the real form."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
