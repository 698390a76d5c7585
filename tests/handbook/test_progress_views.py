"""The progress endpoint (POST /handbook/<chapter>/read/) and what readers see of their progress."""
import re

import pytest
from django.test import Client

from handbook.models import ChapterRead
from handbook.services import chapter_mark_read

pytestmark = pytest.mark.django_db


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def token_from(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_sentinel_post_records_the_chapter_as_read_and_returns_progress(volunteer, chapters):
    client = csrf_client(volunteer)
    token = token_from(client.get("/handbook/c1/").content.decode())
    response = client.post("/handbook/c1/read/", {"method": "end"}, HTTP_ACCEPT="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "created": True, "read": 1, "total": 3}
    record = ChapterRead.objects.get(user=volunteer)
    assert (record.chapter_id, record.method) == (chapters[0].pk, "end")
    again = client.post("/handbook/c1/read/", {"method": "end"}, HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token)
    assert again.json()["created"] is False
    assert ChapterRead.objects.filter(user=volunteer).count() == 1


def test_progress_post_without_csrf_token_is_refused(volunteer, chapters):
    client = csrf_client(volunteer)
    response = client.post("/handbook/c1/read/", {"method": "end"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert not ChapterRead.objects.exists()


def test_mark_as_read_form_works_without_javascript(volunteer, chapters):
    client = csrf_client(volunteer)
    page = client.get("/handbook/c2/").content.decode()
    assert 'action="/handbook/c2/read/"' in page
    response = client.post("/handbook/c2/read/", {"csrfmiddlewaretoken": token_from(page), "method": "button"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/handbook/c2/"
    html = response.content.decode()
    assert 'data-testid="read-badge"' in html
    assert ChapterRead.objects.get(user=volunteer).method == "button"


def test_anonymous_reader_is_sent_to_log_in_and_nothing_is_recorded(client, chapters):
    response = client.post("/handbook/c1/read/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/handbook/c1/")
    json_response = client.post("/handbook/c1/read/", HTTP_ACCEPT="application/json")
    assert json_response.status_code == 403
    assert not ChapterRead.objects.exists()


def test_get_on_the_progress_endpoint_is_not_allowed(volunteer, chapters, client):
    client.force_login(volunteer)
    assert client.get("/handbook/c1/read/").status_code == 405


def test_index_shows_the_readers_progress_bar_and_ticks(volunteer, client, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    chapter_mark_read(user=volunteer, chapter=chapters[2])
    client.force_login(volunteer)
    html = client.get("/handbook/").content.decode()
    assert 'max="3" value="2"' in html
    assert "已读 2 / 3" in html
    assert html.count('data-read="true"') == 2


def test_no_reader_sees_another_readers_progress(volunteer, socialworker, client, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    chapter_mark_read(user=volunteer, chapter=chapters[1])
    client.force_login(socialworker)
    html = client.get("/handbook/").content.decode()
    assert 'max="3" value="0"' in html
    assert 'data-read="true"' not in html
    chapter_html = client.get("/handbook/c1/").content.decode()
    assert 'data-testid="read-badge"' not in chapter_html
    assert 'data-is-read="false"' in chapter_html


def test_anonymous_index_shows_no_progress_bar_but_an_invitation_to_log_in(client, volunteer, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    html = client.get("/handbook/").content.decode()
    assert 'role="progressbar"' not in html
    assert 'data-read="true"' not in html
    assert "/accounts/login/?next=/handbook/" in html


def test_progress_posts_are_rate_limited(volunteer, chapters, monkeypatch):
    from handbook import views

    monkeypatch.setattr(views, "RATE_LIMIT", 5)
    client = csrf_client(volunteer)
    token = token_from(client.get("/handbook/c1/").content.decode())
    statuses = [client.post("/handbook/c1/read/", HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token).status_code
                for _ in range(views.RATE_LIMIT + 1)]
    assert statuses[:-1] == [200] * views.RATE_LIMIT
    assert statuses[-1] == 429
