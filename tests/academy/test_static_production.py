"""With DEBUG off, from a fresh clone: `collectstatic` with the production storage works and the pages render with it.

`collectstatic` runs once, in a subprocess with production settings (DEBUG off, so ManifestStaticFilesStorage), into a
temporary folder; the pages are then rendered in this process with that storage and folder.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import make_home
from tests.factories.courses import enrol, make_course, make_course_index, make_lesson
from tests.factories.handbook import make_chapter, make_handbook
from tests.factories.live import make_live_index, make_live_session

ROOT = Path(__file__).resolve().parents[2]
APPS = ["academy", "handbook", "courses", "live"]
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
HASHED_CSS = re.compile(r'href="/static/academy/css/site\.[0-9a-f]{12}\.css"')
SOURCE_MAP = re.compile(r"sourceMappingURL=([^\s*]+)")


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("staticfiles")
    keep = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "ENV_FILE"}}
    env = {**keep, "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "false", "SECRET_KEY": "s" * 60,
           "ALLOWED_HOSTS": "testserver", "STATIC_ROOT": str(root), "ENV_FILE": str(root / "no.env")}
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_collectstatic_with_the_production_storage_writes_a_manifest(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    assert re.fullmatch(r"academy/css/site\.[0-9a-f]{12}\.css", manifest["academy/css/site.css"])
    assert "live/vendor/hls.js-1.7.4/hls.light.min.js.map" in manifest
    assert (collected / manifest["academy/favicon.ico"]).is_file()


def test_every_source_map_a_static_file_names_is_shipped():
    missing = []
    for app in APPS:
        for path in (ROOT / app / "static").rglob("*"):
            if path.suffix in {".js", ".css"} and path.is_file():
                for name in SOURCE_MAP.findall(path.read_text(encoding="utf-8", errors="replace")):
                    if not (path.parent / name).is_file():
                        missing.append(f"{path.relative_to(ROOT)} -> {name}")
    assert not missing, missing


@pytest.fixture
def production(collected, settings):
    settings.DEBUG = False
    settings.SERVE_FILES = False
    settings.STATIC_ROOT = str(collected)
    settings.STORAGES = MANIFEST_STORAGE
    return collected


@pytest.fixture
def site(db):
    home = make_home()
    handbook = make_handbook(parent=home)
    chapter = make_chapter(handbook)
    course = make_course(parent=make_course_index(home))
    lesson = make_lesson(course)
    session = make_live_session(parent=make_live_index(home))
    return {"home": home, "handbook": handbook, "chapter": chapter, "course": course, "lesson": lesson,
            "session": session}


@pytest.mark.django_db
def test_main_pages_render_with_debug_off_and_hashed_static_names(client, production, site, volunteer):
    urls = ["/", site["handbook"].url, site["chapter"].url, "/courses/", site["course"].url, "/live/",
            site["session"].url, "/search/?q=社区", "/accounts/login/", "/accounts/signup/"]
    for url in urls:
        response = client.get(url, HTTP_HOST="testserver", secure=True)
        assert response.status_code == 200, (url, response.status_code)
        assert HASHED_CSS.search(response.content.decode()), url
    enrol(volunteer, site["course"])
    client.force_login(volunteer)
    for url in [site["lesson"].url, site["session"].url + "room/"]:
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        assert HASHED_CSS.search(response.content.decode()), url


@pytest.mark.django_db
def test_favicon_address_redirects_to_the_hashed_icon(client, production):
    response = client.get("/favicon.ico", secure=True)
    assert response.status_code == 302
    assert re.fullmatch(r"/static/academy/favicon\.[0-9a-f]{12}\.ico", response["Location"])
