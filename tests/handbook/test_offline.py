"""The installable, offline manual: service worker, manifest and the list of what the offline copy holds."""
import json
import re

import pytest

from tests.factories.handbook import make_chapter

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_as_javascript_from_the_manuals_address(client, handbook):
    response = client.get("/handbook/sw/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/handbook/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'var SCOPE = "/handbook/"' in body
    assert not re.search(r"https?://", body)  # nothing from another host
    assert "cache.put(request" in body and "handbook-offline-" in body


def test_the_manifest_makes_the_manual_installable(client, handbook):
    response = client.get("/handbook/manifest/")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == data["scope"] == "/handbook/"
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200 or icon["src"].startswith("/static/")


def test_the_offline_list_holds_the_published_chapters_and_nothing_private(client, handbook, chapters, volunteer):
    draft = make_chapter(handbook, number=7, slug="draft", title="草稿")
    draft.unpublish()
    data = json.loads(client.get("/handbook/offline/").content)
    assert "/handbook/" in data["urls"] and "/handbook/c1/" in data["urls"] and "/handbook/c3/" in data["urls"]
    assert "/handbook/draft/" not in data["urls"]
    assert all(url.startswith(("/handbook/", "/static/", "/media/")) for url in data["urls"])
    assert data["chapters"] == 3 and data["bytes"] > 10_000
    assert data["cache"].startswith("handbook-offline-第一版-")
    assert data["reader"] == "anonymous"
    client.force_login(volunteer)
    signed_in = json.loads(client.get("/handbook/offline/").content)
    assert signed_in["reader"] not in ("anonymous", str(volunteer.pk), volunteer.username)
    assert signed_in["cache"] == data["cache"]


def test_a_publish_or_a_new_edition_changes_the_cache_name(client, handbook, chapters):
    first = json.loads(client.get("/handbook/offline/").content)["cache"]
    make_chapter(handbook, number=4, slug="c4", title="第四章")
    second = json.loads(client.get("/handbook/offline/").content)["cache"]
    handbook.edition = "第二版"
    handbook.save_revision().publish()
    third = json.loads(client.get("/handbook/offline/").content)["cache"]
    assert len({first, second, third}) == 3 and third.startswith("handbook-offline-第二版-")


@pytest.mark.parametrize("path", ["/handbook/", "/handbook/c1/", "/handbook/print/", "/handbook/editions/"])
def test_handbook_pages_have_no_inline_script_style_or_event_attribute(client, handbook, chapters, volunteer, path):
    client.force_login(volunteer)
    html = client.get(path).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html.replace('type="application/json"', "")), path
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html
    assert "javascript:" not in html


def test_the_index_offers_offline_reading_and_the_app_manifest(client, handbook, chapters):
    html = client.get("/handbook/").content.decode()
    assert 'data-offline-panel' in html and 'data-list="/handbook/offline/"' in html
    assert '<link rel="manifest" href="/handbook/manifest/">' in html
    assert "离线阅读" in html
