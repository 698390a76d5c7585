"""Sign-in with context: the log-in page says what the visitor was going to, offers sign-up, and returns them."""
import pytest

from courses.models import LessonPage
from tests.factories.courses import make_course, make_lesson
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def lessons(home):
    course = make_course(title="上岗培训", slug="onboarding")
    reading = make_lesson(course, slug="reading", title="上岗之前")
    quiz = make_lesson(course, slug="quiz", title="上岗考核", kind=LessonPage.Kind.QUIZ)
    return course, reading, quiz


def login_page_after(client, url):
    response = client.get(url, follow=True)
    assert response.redirect_chain, f"{url} did not send the visitor to log in"
    assert "/accounts/login/" in response.redirect_chain[-1][0]
    return response.content.decode()


def test_visitor_tapping_a_lesson_is_told_why_and_offered_sign_up_returning_here(client, lessons):
    _course, reading, _quiz = lessons
    html = login_page_after(client, reading.url)
    assert 'data-kind="lesson"' in html and "登录后即可学习《上岗之前》" in html
    assert f'href="/accounts/signup/?next={reading.url}" data-testid="signup-with-next"' in html
    assert f'name="next" value="{reading.url}"' in html


def test_visitor_tapping_a_quiz_is_told_it_is_a_quiz(client, lessons):
    _course, _reading, quiz = lessons
    html = login_page_after(client, quiz.url)
    assert 'data-kind="quiz"' in html and "上岗考核" in html


def test_visitor_tapping_the_live_room_is_told_it_is_the_live_room(client, home):
    session = make_live_session(title="社区直播课")
    html = login_page_after(client, session.url + "room/")
    assert 'data-kind="live_room"' in html and "社区直播课" in html


def test_course_page_lets_a_visitor_tap_a_lesson(client, lessons):
    course, reading, _quiz = lessons
    html = client.get(course.url).content.decode()
    assert f'href="{reading.url}"' in html


def test_log_in_returns_to_the_lesson(client, volunteer, lessons):
    _course, reading, _quiz = lessons
    volunteer.set_password("pass-word-123")
    volunteer.save()
    response = client.post("/accounts/login/", {"username": "volunteer", "password": "pass-word-123", "next": reading.url})
    assert response.status_code == 302 and response["Location"] == reading.url


@pytest.mark.parametrize("hostile", [
    "https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example/", "https:/\\evil.example/",
])
def test_foreign_next_gets_no_context_and_is_not_kept(client, home, hostile):
    response = client.get("/accounts/login/", {"next": hostile})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="login-context"' not in html
    assert 'name="next" value=""' in html


@pytest.mark.parametrize("odd", ["/" + "a/" * 500, "/courses/%00/", "/courses/../admin/", "/?q=<script>"])
def test_odd_local_next_gets_the_plain_context(client, home, odd):
    response = client.get("/accounts/login/", {"next": odd})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kind="other"' in html
    assert "<script>" not in html


@pytest.mark.parametrize("next_url, expected", [
    ("/courses/onboarding/reading/", "/courses/onboarding/reading/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
])
def test_sign_up_returns_to_a_local_next_and_never_to_another_host(client, home, next_url, expected):
    from tests.academy.test_accounts import SIGNUP

    response = client.post(f"/accounts/signup/?next={next_url}", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == expected


def test_sign_up_page_keeps_next_in_its_log_in_link(client, home):
    html = client.get("/accounts/signup/", {"next": "/courses/onboarding/reading/"}).content.decode()
    assert 'href="/accounts/login/?next=/courses/onboarding/reading/"' in html
