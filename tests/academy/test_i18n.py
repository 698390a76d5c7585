import pytest


@pytest.mark.django_db
def test_pages_are_in_chinese_by_default(client, home):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html


@pytest.mark.django_db
def test_english_can_be_chosen(client, home):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html


@pytest.mark.django_db
def test_a_browser_set_to_english_still_gets_chinese_until_english_is_chosen(client, home):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in html


@pytest.mark.django_db
def test_home_page_shows_the_next_live_session(client, home):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories.live import make_live_session

    make_live_session(title="下周的直播课", start=timezone.now() + timedelta(days=7),
                      end=timezone.now() + timedelta(days=7, hours=1))
    make_live_session(title="早已结束的直播", start=timezone.now() - timedelta(days=7),
                      end=timezone.now() - timedelta(days=7) + timedelta(hours=1))
    html = client.get("/").content.decode()
    assert "即将开播" in html and "下周的直播课" in html
    assert "早已结束的直播" not in html
