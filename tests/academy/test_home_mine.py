"""The home page signed in: continue learning, the next live class registered for, handbook reading, certificates."""
from datetime import timedelta

import pytest
from django.utils import timezone

from courses import services as course_services
from courses.models import LessonPage
from live.services.registration import registration_create
from tests.factories.courses import enrol, make_course, make_lesson
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(home):
    course = make_course(title="上岗培训", slug="onboarding")
    first = make_lesson(course, slug="first", title="第一课：上岗之前", kind=LessonPage.Kind.READING)
    make_lesson(course, slug="second", title="第二课：物资发放", kind=LessonPage.Kind.READING)
    return course, first


def test_visitor_sees_the_introduction_and_sign_up_not_a_personal_page(client, home):
    html = client.get("/").content.decode()
    assert 'data-testid="continue-learning"' not in html
    assert "/accounts/signup/" in html


def test_signed_in_home_offers_the_next_unfinished_lesson_of_each_course(client, volunteer, course):
    course, first = course
    enrol(volunteer, course)
    course_services.lesson_confirm(user=volunteer, lesson=first)
    client.force_login(volunteer)
    html = client.get("/").content.decode()
    assert 'data-testid="continue-learning"' in html
    assert "第二课：物资发放" in html
    assert "/courses/onboarding/second/" in html


def test_signed_in_home_leaves_out_completed_courses(client, volunteer, course):
    course, first = course
    enrol(volunteer, course)
    for lesson in course.lessons().specific():
        course_services.lesson_confirm(user=volunteer, lesson=lesson)
    client.force_login(volunteer)
    html = client.get("/").content.decode()
    assert "/courses/onboarding/second/" not in html
    assert "还没有进行中的课程" in html


def test_next_live_class_registered_for_offers_the_room_when_it_is_live(client, volunteer, home):
    session = make_live_session(title="正在直播的课", start=timezone.now() - timedelta(minutes=5))
    registration_create(session=session, user=volunteer)
    client.force_login(volunteer)
    html = client.get("/").content.decode()
    assert "正在直播的课" in html
    assert f'href="{session.url}room/"' in html
    assert "进入直播间" in html


def test_next_live_class_not_yet_live_has_no_room_button(client, volunteer, home):
    later = make_live_session(title="下周的课", start=timezone.now() + timedelta(days=7),
                              end=timezone.now() + timedelta(days=7, hours=1))
    registration_create(session=later, user=volunteer)
    client.force_login(volunteer)
    html = client.get("/").content.decode()
    assert "下周的课" in html
    assert f"{later.url}room/" not in html


def test_a_session_the_user_did_not_register_for_is_not_their_next_class(client, volunteer, outsider, home):
    session = make_live_session(title="别人报名的课")
    registration_create(session=session, user=outsider)
    client.force_login(volunteer)
    html = client.get("/").content.decode()
    assert "你还没有报名直播课" in html
    assert f"{session.url}room/" not in html
