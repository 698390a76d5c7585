"""After the session: Q&A, attendance and registrations as CSV and XLSX, for organisers and the session's hosts only."""
import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from live.models import AttendanceSpan, Registration
from live.services.room import question_ask, question_mark_answered, question_reply
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def _csv_rows(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), "CSV without a BOM: Excel would garble the Chinese"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


@pytest.fixture
def session_with_qa(home, volunteer, socialworker, moderator):
    session = make_live_session(agenda=["疫情中的我们", "志愿者如何被组织起来"])
    topic = session.agenda_topics.last()
    q1 = question_ask(session=session, author=volunteer, text="志愿者和社区干部意见不一致时听谁的?")
    question_reply(session=session, moderator=moderator, question_id=q1.pk, text="先听现场负责人的安排,事后复盘。")
    question_mark_answered(session=session, moderator=moderator, question_id=q1.pk)
    q1.topic = topic
    q1.save(update_fields=["topic"])
    question_ask(session=session, author=socialworker, text="=HYPERLINK(\"http://example.org\")", anonymous=True)
    return session


@pytest.mark.parametrize("what", ["questions", "attendance", "registrations"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_are_for_organisers_and_session_hosts_only(client, home, volunteer, moderator, organiser, what, fmt):
    host = UserFactory(username="host")
    session = make_live_session(moderators=[host])
    url = f"{session.url}export/{what}.{fmt}"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(volunteer)
    assert client.get(url).status_code == 403
    client.force_login(moderator)  # moderates every room, but reads no reports
    assert client.get(url).status_code == 403
    for user in (organiser, host):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert f'filename="live-{session.pk}-{what}.{fmt}"' in response["Content-Disposition"]


def test_questions_csv_has_chinese_headers_replies_and_neutralised_formulas(client, organiser, session_with_qa):
    client.force_login(organiser)
    rows = _csv_rows(client.get(f"{session_with_qa.url}export/questions.csv"))
    header, *data = rows
    assert header[:6] == ["编号", "提问时间", "姓名", "用户名", "匿名", "问题"]
    by_text = {row[5]: dict(zip(header, row)) for row in data}
    answered = by_text["志愿者和社区干部意见不一致时听谁的?"]
    assert answered["回复"] == "先听现场负责人的安排,事后复盘。"
    assert answered["议题"] == "志愿者如何被组织起来"
    assert answered["状态"] == "已回答" and answered["匿名"] == "否" and answered["姓名"] == "王志愿"
    assert "'=HYPERLINK(\"http://example.org\")" in by_text
    assert by_text["'=HYPERLINK(\"http://example.org\")"]["匿名"] == "是"  # organisers see who asked; the flag says it was anonymous


def test_questions_xlsx_matches_the_csv(client, organiser, session_with_qa):
    client.force_login(organiser)
    response = client.get(f"{session_with_qa.url}export/questions.xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _xlsx_rows(response)
    assert rows[0][5] == "问题"
    assert len(rows) == 3
    texts = {row[5] for row in rows[1:]}
    assert "志愿者和社区干部意见不一致时听谁的?" in texts


def test_attendance_export_lists_minutes_per_user(client, organiser, volunteer, home):
    now = timezone.now()
    session = make_live_session(start=now - timedelta(hours=2), end=now - timedelta(minutes=10))
    Registration.objects.create(session=session, user=volunteer)
    AttendanceSpan.objects.create(session=session, user=volunteer, connection="c1", process="p",
                                  joined_at=now - timedelta(minutes=100), left_at=now - timedelta(minutes=70),
                                  seen_at=now - timedelta(minutes=70))
    AttendanceSpan.objects.create(session=session, user=volunteer, connection="c2", process="p",
                                  joined_at=now - timedelta(minutes=80), left_at=now - timedelta(minutes=40),
                                  seen_at=now - timedelta(minutes=40))
    client.force_login(organiser)
    header, *data = _csv_rows(client.get(f"{session.url}export/attendance.csv"))
    assert len(data) == 1
    row = dict(zip(header, data[0]))
    assert row["用户名"] == "volunteer" and row["已报名"] == "是"
    assert row["出勤分钟数"] == "60"  # two tabs overlapping for ten minutes count once
    xlsx = _xlsx_rows(client.get(f"{session.url}export/attendance.xlsx"))
    assert xlsx[1][header.index("出勤分钟数")] == 60
    html = client.get(f"{session.url}attendees/").content.decode()
    assert "1 人进入过直播间" in html and "<td>60</td>" in html


def test_registration_export_and_attendee_page(client, organiser, volunteer, socialworker, home):
    session = make_live_session()
    Registration.objects.create(session=session, user=volunteer)
    Registration.objects.create(session=session, user=socialworker, cancelled_at=timezone.now())
    client.force_login(organiser)
    header, *data = _csv_rows(client.get(f"{session.url}export/registrations.csv"))
    assert [dict(zip(header, row))["用户名"] for row in data] == ["volunteer", "socialworker"]
    assert dict(zip(header, data[1]))["取消时间"] != ""
    html = client.get(f"{session.url}attendees/").content.decode()
    assert "王志愿" in html and "有效报名 1 人" in html
    assert f"{session.url}export/questions.xlsx" in html


def test_attendee_page_is_refused_to_participants(client, volunteer, home):
    session = make_live_session()
    client.force_login(volunteer)
    assert client.get(f"{session.url}attendees/").status_code == 403
