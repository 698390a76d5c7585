"""The organiser's admin: dashboard panels from each app, the lesson form per kind, long lesson titles in reports."""
import json

import pytest
from django.urls import reverse

from courses import reports
from tests.factories.certificates import complete, ensure_organiser_permissions
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def dashboard(client, user):
    client.force_login(user)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return response.content.decode()


def test_organiser_dashboard_shows_sessions_completions_and_certificates_waiting(
    client, home, organiser, volunteer, course, django_capture_on_commit_callbacks
):
    ensure_organiser_permissions()
    make_live_session(title="下周的直播课")
    with django_capture_on_commit_callbacks(execute=False):  # no automatic certificate: the completion waits
        complete(volunteer, course)
    html = dashboard(client, organiser)
    assert 'id="upcoming-sessions' in html and "下周的直播课" in html
    assert 'id="recent-completions' in html and volunteer.display_name in html and course.title in html
    assert 'id="certificates-panel' in html and 'data-testid="certificates-waiting"' in html


def test_dashboard_panels_are_not_shown_to_an_editor_without_report_rights(client, home, volunteer):
    volunteer.is_staff = True
    volunteer.save()
    from django.contrib.auth.models import Permission

    volunteer.user_permissions.add(Permission.objects.get(codename="access_admin"))
    html = dashboard(client, volunteer)
    assert "recent-completions" not in html and "certificates-panel" not in html and "upcoming-sessions" not in html


def test_lesson_form_marks_each_kind_section_and_loads_its_script_and_a_chinese_placeholder(client, home, organiser, course):
    client.force_login(organiser)
    html = client.get(reverse("wagtailadmin_pages:add", args=["courses", "lessonpage", course.pk])).content.decode()
    for kind in ("reading", "video", "quiz", "live"):
        assert f"lesson-kind lesson-kind-{kind}" in html
    assert "courses/admin/lesson_form.js" in html
    assert json.dumps("在这里写课文")[1:-1] in html  # in the editor's JSON options, \u-escaped


def test_long_lesson_titles_are_wrapped_in_the_report_chart_not_cut():
    title = "危机之后：从应急服务转入常态化社区服务的项目调整与志愿者管理"
    chart = reports.svg_bars([reports.Bar(title, 3, 5), reports.Bar("短", 1, 2)])
    lines = chart["items"][0]["lines"]
    assert len(lines) > 1
    assert "".join(line["text"] for line in lines) == title
    assert chart["items"][1]["y"] > chart["items"][0]["y"] + 28  # the next bar moves down for the extra lines
    assert chart["height"] >= chart["items"][1]["y"] + 28
