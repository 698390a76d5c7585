"""The room without JavaScript (a plain form through the same service, a clear message), and the console's
markup (tabs with their tab panel, the queue's search and paging controls, two panes)."""
import re
from html.parser import HTMLParser

import pytest

from live.models import Question, Registration
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def test_the_room_page_says_what_works_without_javascript_and_its_form_posts(client, volunteer):
    session = make_live_session()
    client.force_login(volunteer)
    html = client.get(session.url + "room/").content.decode()
    assert "实时更新需要启用 JavaScript" in html
    form = re.search(r"<form[^>]*data-ask-form[^>]*>", html).group(0)
    assert 'method="post"' in form and f'action="{session.url}room/ask/"' in form
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_question_posted_without_javascript_goes_through_the_rooms_service(client, volunteer):
    session = make_live_session(moderation_mode="pre")
    client.force_login(volunteer)
    response = client.post(session.url + "room/ask/", {"text": "  没有脚本也能提问吗？\u202e ", "anonymous": "on"},
                           follow=True)
    assert response.redirect_chain[-1][0] == session.url + "room/"
    question = Question.objects.get(session=session)
    assert (question.text, question.anonymous, question.status) == ("没有脚本也能提问吗？", True, "pending")
    assert "等待主持人审核" in response.content.decode()


def test_a_blank_question_posted_without_javascript_is_refused_with_a_message(client, volunteer):
    session = make_live_session()
    client.force_login(volunteer)
    response = client.post(session.url + "room/ask/", {"text": "\u200b \u200b"}, follow=True)
    assert not Question.objects.exists()
    assert "请先填写内容。" in response.content.decode()


def test_posting_a_question_needs_a_signed_in_user_who_may_join(client, volunteer):
    session = make_live_session(registration_required=True)
    response = client.post(session.url + "room/ask/", {"text": "匿名访客的问题"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(volunteer)
    assert client.post(session.url + "room/ask/", {"text": "未报名的问题"}).status_code == 403
    Registration.objects.create(session=session, user=volunteer)
    assert client.post(session.url + "room/ask/", {"text": "已报名的问题"}).status_code == 302
    assert client.get(session.url + "room/ask/").status_code == 405
    assert list(Question.objects.values_list("text", flat=True)) == ["已报名的问题"]


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_the_consoles_tabs_control_a_tab_panel(client, moderator):
    session = make_live_session(moderators=[moderator])
    client.force_login(moderator)
    parser = Elements()
    parser.feed(client.get(session.url + "console/").content.decode())
    by_id = {attrs.get("id"): attrs for _, attrs in parser.found if attrs.get("id")}
    tabs = [attrs for _, attrs in parser.found if attrs.get("role") == "tab"]
    assert len(tabs) == 4
    for tab in tabs:
        panel = by_id[tab["aria-controls"]]
        assert panel["role"] == "tabpanel"
        assert panel["aria-labelledby"] in {t["id"] for t in tabs}
    assert "data-question-search" in {name for _, attrs in parser.found for name in attrs}
    assert "data-more" in {name for _, attrs in parser.found for name in attrs}
    classes = " ".join(attrs.get("class", "") for _, attrs in parser.found)
    assert "console-panes" in classes and "console-side" in classes
