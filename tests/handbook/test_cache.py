"""Anonymous handbook pages come from the cache; publishing shows the new version at once."""
import re

import pytest
from django.test import Client

from handbook.caching import HEADER
from handbook.services import chapter_mark_read

pytestmark = pytest.mark.django_db


def test_second_anonymous_view_of_a_chapter_is_served_from_the_cache(client, chapters):
    first = client.get("/handbook/c1/")
    second = client.get("/handbook/c1/")
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    assert "第1章 标题1" in second.content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", second.content.decode()) == strip.sub("", first.content.decode())


def test_cached_chapter_costs_one_fingerprint_query(client, chapters):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as miss:
        assert client.get("/handbook/c1/")[HEADER] == "miss"
    with CaptureQueriesContext(connection) as hit:
        assert client.get("/handbook/c1/")[HEADER] == "hit"
    assert len(hit) == 1 < len(miss)  # the fingerprint: no routing, no rendering
    assert "COUNT(" in hit.captured_queries[0]["sql"]


def test_signed_in_readers_never_get_the_cached_page(client, volunteer, chapters):
    Client().get("/handbook/c1/")  # fills the cache anonymously
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    client.force_login(volunteer)
    response = client.get("/handbook/c1/")
    assert response[HEADER] == "bypass"
    assert 'data-testid="read-badge"' in response.content.decode()
    # and the anonymous copy never holds a reader's page
    assert 'data-testid="read-badge"' not in Client().get("/handbook/c1/").content.decode()


def test_publishing_a_new_version_shows_it_to_anonymous_readers_at_once(client, chapters):
    client.get("/handbook/c1/")
    assert client.get("/handbook/c1/")[HEADER] == "hit"
    chapter = chapters[0]
    chapter.title = "第1章 修订后的标题"
    chapter.save_revision().publish()
    response = client.get("/handbook/c1/")
    assert response[HEADER] == "miss"
    assert "修订后的标题" in response.content.decode()


def test_a_saved_draft_does_not_change_what_readers_see(client, chapters):
    client.get("/handbook/c1/")
    chapter = chapters[0]
    chapter.title = "草稿标题"
    chapter.save_revision()
    response = client.get("/handbook/c1/")
    assert response[HEADER] == "hit"
    assert "草稿标题" not in response.content.decode()


def test_publishing_a_chapter_refreshes_the_cached_index_and_its_neighbours(client, chapters):
    client.get("/handbook/")
    client.get("/handbook/c1/")
    chapters[1].title = "第2章 新标题"
    chapters[1].save_revision().publish()
    index = client.get("/handbook/")
    neighbour = client.get("/handbook/c1/")
    assert index[HEADER] == "miss" and "第2章 新标题" in index.content.decode()
    assert neighbour[HEADER] == "miss" and "第2章 新标题" in neighbour.content.decode()


def test_unpublishing_a_chapter_removes_it_from_the_cached_index(client, chapters):
    assert "第3章 标题3" in client.get("/handbook/").content.decode()
    chapters[2].unpublish()
    assert "第3章 标题3" not in client.get("/handbook/").content.decode()
    assert client.get("/handbook/c3/").status_code == 404


def test_publish_signal_drops_the_cached_copies(client, chapters):
    from django.core.cache import cache

    from handbook.caching import _keys_key

    client.get("/handbook/c1/")
    keys = cache.get(_keys_key(chapters[0].pk))
    assert keys and cache.get(keys[0]) is not None
    chapters[0].save_revision().publish()
    assert cache.get(keys[0]) is None


def test_cached_page_carries_a_fresh_csrf_token_for_each_visitor(chapters):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get("/handbook/c1/")
    response = second.get("/handbook/c1/")
    assert response[HEADER] == "hit"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)
    assert "\x00" not in token
    switched = second.post("/i18n/setlang/", {"language": "en", "next": "/handbook/c1/", "csrfmiddlewaretoken": token})
    assert switched.status_code == 302  # the language form on a cached page works (403 on a bad token)


def test_pages_in_another_language_are_cached_separately(client, chapters):
    client.get("/handbook/c1/")
    english = client.get("/handbook/c1/", HTTP_ACCEPT_LANGUAGE="en", HTTP_COOKIE="django_language=en")
    assert english[HEADER] == "miss"


def test_cache_answers_after_routing_without_the_middleware(client, chapters, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("AnonymousPageCacheMiddleware")]
    assert client.get("/handbook/c1/")[HEADER] == "miss"
    assert client.get("/handbook/c1/")[HEADER] == "hit"
    chapters[0].title = "第1章 再版"
    chapters[0].save_revision().publish()
    assert "再版" in client.get("/handbook/c1/").content.decode()


def test_a_scheduled_publish_of_an_older_revision_refreshes_the_page(client, chapters):
    chapter = chapters[0]
    chapter.title = "第1章 定时发布"
    scheduled = chapter.save_revision()
    chapters[1].save_revision().publish()  # a later revision elsewhere in the manual
    client.get("/handbook/c1/")
    scheduled.publish(changed=True)
    assert "定时发布" in client.get("/handbook/c1/").content.decode()


def test_adding_a_view_restriction_stops_serving_the_cached_page(client, chapters):
    from wagtail.models import PageViewRestriction

    client.get("/handbook/c1/")
    assert client.get("/handbook/c1/")[HEADER] == "hit"
    PageViewRestriction.objects.create(page=chapters[0], restriction_type=PageViewRestriction.LOGIN)
    response = client.get("/handbook/c1/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_query_string_bypasses_the_cache(client, chapters):
    client.get("/handbook/c1/")
    assert client.get("/handbook/c1/", {"utm": "x"})[HEADER] == "bypass"


def test_a_cache_that_does_not_answer_is_treated_as_a_miss(chapters, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.test import override_settings

    from handbook.caching import cached_response, forget_page

    request = rf.get("/handbook/c1/")
    request.user = AnonymousUser()
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=dead):
        assert cached_response(request) is None
        forget_page(chapters[0])  # publishing's clean-up does not fail either
