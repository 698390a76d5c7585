"""The demo's past panel gets its participants' questions, votes and the panelists' replies, once."""
import pytest

from live.demo_content import PAST_PANEL
from live.models import Question, Vote
from live.selectors.room import answered_questions
from academy.demo import ensure_demo_users
from live.demo import room_load_demo as load_demo
from live.demo import sessions_load_demo as load_live_demo

pytestmark = pytest.mark.django_db


def test_past_panel_questions_are_loaded_once_with_exact_vote_counts(home):
    users = ensure_demo_users("demo-pass-123")
    logs = []
    load_live_demo(users=users, log=logs.append)
    load_demo(users=users, log=logs.append)
    questions = list(Question.objects.select_related("author", "topic"))
    assert len(questions) == len(PAST_PANEL["questions"])
    by_text = {q.text: q for q in questions}
    for item in PAST_PANEL["questions"]:
        question = by_text[item["text"]]
        assert question.vote_count == item["votes"] == Vote.objects.filter(question=question).count()
        assert question.author.real_name == item["author"]
        assert question.anonymous == item["anonymous"]
        assert question.status == ("answered" if item["answered"] else "approved")
        assert question.topic.title == PAST_PANEL["agenda"][item["topic"]]["title"]
        if item["reply"]:
            assert item["reply"] in question.reply
    session = questions[0].session
    answered = answered_questions(session)
    assert len(answered) == sum(1 for q in PAST_PANEL["questions"] if q["answered"])
    assert [q.topic.sort_order for q in answered] == sorted(q.topic.sort_order for q in answered)
    counts = (Question.objects.count(), Vote.objects.count())
    load_demo(users=users, log=logs.append)
    assert (Question.objects.count(), Vote.objects.count()) == counts
