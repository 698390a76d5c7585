"""Content-Security-Policy: strict on every public page type, looser only under Wagtail's admin; no inline script or
style in any public template."""
import re
from pathlib import Path

import pytest

from courses.models import LessonPage
from tests.factories.courses import enrol, make_course, make_lesson, make_video_document
from tests.factories.handbook import make_chapter, make_handbook
from tests.factories.live import make_live_session

ROOT = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_strict(response, url):
    directives = policy(response)
    assert directives, f"{url} sends no Content-Security-Policy"
    assert directives["script-src"] == ["'self'"], url
    assert directives["style-src"] == ["'self'"], url
    assert directives["object-src"] == ["'none'"], url
    assert directives["base-uri"] == ["'self'"], url
    assert directives["frame-ancestors"] == ["'self'"], url
    assert directives["default-src"] == ["'self'"], url
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], url
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"], url
    assert "ws://testserver" in directives["connect-src"], url


@pytest.fixture
def site_pages(home, volunteer):
    handbook = make_handbook()
    chapter = make_chapter(handbook)
    course = make_course(title="上岗培训", slug="csp-course")
    reading = make_lesson(course, kind=LessonPage.Kind.READING)
    video = make_lesson(course, kind=LessonPage.Kind.VIDEO, video=make_video_document())
    quiz = make_lesson(course, kind=LessonPage.Kind.QUIZ)
    enrol(volunteer, course)
    session = make_live_session()
    return {"handbook": handbook, "chapter": chapter, "course": course, "reading": reading, "video": video,
            "quiz": quiz, "session": session}


@pytest.mark.django_db
def test_every_public_page_type_sends_the_strict_policy(client, volunteer, site_pages):
    anonymous = ["/", "/search/?q=社工", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/",
                 "/accounts/password_reset/done/", "/accounts/reset/MQ/wrong-token/", "/certificates/verify/NOPE/",
                 site_pages["handbook"].url, site_pages["chapter"].url, site_pages["course"].get_parent().url,
                 site_pages["course"].url, site_pages["session"].url, site_pages["session"].get_parent().url]
    for url in anonymous:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_strict(response, url)
    client.force_login(volunteer)
    signed_in = ["/", "/accounts/profile/", "/accounts/password/", "/certificates/", site_pages["reading"].url,
                 site_pages["video"].url, site_pages["quiz"].url, site_pages["session"].url + "room/",
                 site_pages["course"].get_parent().url + "my/", site_pages["chapter"].url]
    for url in signed_in:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)


@pytest.mark.django_db
def test_a_live_room_may_load_its_own_stream_host_and_no_other_page_may(client, volunteer, home):
    hls = make_live_session(stream_kind="hls", stream_url="https://cdn.example.net/live/class.m3u8")
    embed = make_live_session(stream_kind="embed", stream_url="https://player.example.com/embed/42")
    client.force_login(volunteer)
    room = policy(client.get(hls.url + "room/"))
    assert "https://cdn.example.net" in room["media-src"] and "https://cdn.example.net" in room["connect-src"]
    assert "https://cdn.example.net" not in room["frame-src"]
    assert room["script-src"] == ["'self'"]
    framed = policy(client.get(embed.url + "room/"))
    assert "https://player.example.com" in framed["frame-src"]
    assert "https://player.example.com" not in framed["connect-src"]
    assert "https://cdn.example.net" not in " ".join(sum(policy(client.get(hls.url)).values(), []))


@pytest.mark.django_db
def test_embed_hosts_come_from_the_setting_only(client, home, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                                                       "frame-src": ["'self'", "https://player.bilibili.com"]}}
    assert policy(client.get("/"))["frame-src"] == ["'self'", "https://player.bilibili.com"]


@pytest.mark.django_db
def test_the_wagtail_admin_gets_its_looser_policy_and_still_works(client, organiser, site_pages):
    from tests.factories.courses import grant_organiser_permissions

    grant_organiser_permissions()
    client.force_login(organiser)
    for url in ["/admin/", f"/admin/pages/{site_pages['reading'].pk}/edit/", "/admin/login/"]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        directives = policy(response)
        assert directives["script-src"] == ["'self'", "'unsafe-inline'"], url
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'self'"], url


# --- the template scan ---------------------------------------------------------------------------------------------
INLINE = [
    ("inline <script>", re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)),
    ("<style> element", re.compile(r"<style[\s>]", re.I)),
    ("style attribute", re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)),
    ("on* event attribute", re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)),
    ("javascript: URL", re.compile(r"=\s*[\"']?\s*javascript:", re.I)),  # in an attribute (a sentence may name it)
]


def public_templates() -> list[Path]:
    """Every HTML template the site serves outside /admin/: e-mails and admin views are not pages of the site."""
    found = []
    for path in ROOT.rglob("templates/**/*.html"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "node_modules/")) or "/site-packages/" in relative:
            continue
        parts = path.relative_to(ROOT).parts
        if ({"admin", "email", "emails", "mail"} & set(parts) or any(part.startswith("wagtail") for part in parts)
                or path.name.endswith("_preview.html") or path.name == "preview.html"):
            continue  # admin screens (their own policy), e-mails (not pages), block previews (inside the admin)
        found.append(path)
    return found


def inline_findings(text: str) -> list[str]:
    return [name for name, pattern in INLINE if pattern.search(text)]


def test_the_scan_finds_every_kind_of_inline_code():
    assert inline_findings('<script>alert(1)</script>') == ["inline <script>"]
    assert inline_findings('<p style="color:red">') == ["style attribute"]
    assert inline_findings('<button onclick="go()">') == ["on* event attribute"]
    assert inline_findings('<style>p{}</style>') == ["<style> element"]
    assert inline_findings('<a href="javascript:void(0)">') == ["javascript: URL"]
    assert inline_findings('<script src="/static/x.js" defer></script><script type="application/json">{}</script>'
                           '<p class="one">done=1</p>') == []


def test_no_public_template_has_inline_script_or_style():
    templates = public_templates()
    names = {p.relative_to(ROOT).as_posix() for p in templates}
    assert {"academy/templates/base.html", "live/templates/live/room.html",
            "courses/templates/courses/lesson_page.html", "handbook/templates/handbook/chapter_page.html",
            "courses/certificates/templates/certificates/verify.html"} <= names
    offenders = {name: found for name, found in
                 ((p.relative_to(ROOT).as_posix(), inline_findings(p.read_text(encoding="utf-8"))) for p in templates)
                 if found}
    assert offenders == {}
