"""Publishing the recap: a draft page built from the agenda and the answered questions, edited in Wagtail."""
from datetime import timedelta

import pytest
from django.utils import timezone

from live.models import LiveRecapPage, LiveSessionPage
from live.services.room import question_ask, question_mark_answered, question_reply
from tests.factories.live import load_demo, make_live_session

pytestmark = pytest.mark.django_db


def _past_session(**overrides):
    now = timezone.now()
    return make_live_session(start=now - timedelta(hours=3), end=now - timedelta(hours=1), **overrides)


def test_organiser_drafts_the_recap_and_lands_in_the_editor(client, organiser, volunteer, socialworker, moderator, home):
    now = timezone.now()
    session = make_live_session(start=now - timedelta(minutes=30), end=now + timedelta(minutes=30),
                                agenda=["疫情中的我们", "志愿者如何被组织起来"])
    first, second = session.agenda_topics.all()
    answered = question_ask(session=session, author=volunteer, text="买菜群怎么管?")
    question_reply(session=session, moderator=moderator, question_id=answered.pk, text="按单元选小组长。")
    question_mark_answered(session=session, moderator=moderator, question_id=answered.pk)
    answered.topic = second
    answered.save(update_fields=["topic"])
    anonymous = question_ask(session=session, author=socialworker, text="社工总被当外人怎么办?", anonymous=True)
    question_reply(session=session, moderator=moderator, question_id=anonymous.pk, text="先解决社区最头疼的问题。")
    question_mark_answered(session=session, moderator=moderator, question_id=anonymous.pk)
    question_ask(session=session, author=volunteer, text="没有回答的问题")

    client.force_login(organiser)
    response = client.post(f"{session.url}publish-recap/")
    recap = LiveRecapPage.objects.child_of(session).get()
    assert response.status_code == 302 and response["Location"] == f"/admin/pages/{recap.pk}/edit/"
    assert not recap.live and recap.has_unpublished_changes
    blocks = [(block.block_type, dict(block.value)) for block in recap.body]
    assert [value["title"] for kind, value in blocks if kind == "topic"][:2] == ["疫情中的我们", "志愿者如何被组织起来"]
    kinds = [kind for kind, _ in blocks]
    answer_position = next(i for i, (kind, v) in enumerate(blocks) if kind == "answer" and v["question"] == "买菜群怎么管?")
    assert kinds.index("topic", 1) < answer_position  # under its topic, the second one
    answers = {v["question"]: v for kind, v in blocks if kind == "answer"}
    assert answers["买菜群怎么管?"]["reply"] == "按单元选小组长。" and answers["买菜群怎么管?"]["asked_by"] == "王志愿"
    assert answers["社工总被当外人怎么办?"]["asked_by"] == ""  # anonymous stays anonymous in public
    assert "没有回答的问题" not in answers
    assert client.get(f"/admin/pages/{recap.pk}/edit/").status_code == 200
    assert client.get(recap.url or "/nowhere/").status_code == 404  # a draft is not public yet


def test_publishing_the_recap_twice_opens_the_same_draft(client, organiser, home):
    session = _past_session()
    client.force_login(organiser)
    client.post(f"{session.url}publish-recap/")
    response = client.post(f"{session.url}publish-recap/")
    assert LiveRecapPage.objects.child_of(session).count() == 1
    assert response["Location"].endswith(f"/{LiveRecapPage.objects.get().pk}/edit/")


def test_only_organisers_may_draft_the_recap(client, volunteer, moderator, home):
    session = _past_session()
    client.force_login(volunteer)
    assert client.post(f"{session.url}publish-recap/").status_code == 403
    client.force_login(moderator)
    assert client.post(f"{session.url}publish-recap/").status_code == 403
    assert client.get(f"{session.url}publish-recap/").status_code == 405
    assert not LiveRecapPage.objects.exists()


def test_demo_content_has_the_past_panel_with_its_published_recap_and_an_open_class(client, home):
    from tests.factories.accounts import ensure_demo_users

    users = ensure_demo_users("demo-pass-123")
    log = []
    load_demo(users=users, log=log.append)
    past = LiveSessionPage.objects.get(slug="community-professional-power-2020")
    assert past.is_past and past.kind == "expert_panel"
    assert past.start.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M") == "2020-04-16 19:30"
    assert past.agenda_topics.count() == 5 and len(past.panelists) == 4
    recap = past.published_recap()
    assert recap is not None and recap.live
    html = client.get(recap.url).content.decode()
    assert "多方协同是怎样快速形成的" in html and "按单元选了几位小组长" in html
    assert "曹颖" not in html  # her question was not answered
    upcoming = LiveSessionPage.objects.get(slug="community-linkage-live-class")
    assert upcoming.is_upcoming and not upcoming.registration_required
    local = upcoming.start.astimezone(timezone.get_current_timezone())
    assert (local.hour, local.minute) == (19, 30)
    assert set(upcoming.registrations.values_list("user__username", flat=True)) == {"demo-volunteer", "demo-socialworker"}
    assert upcoming.session_moderators.get().user.username == "demo-moderator"
    counts = (LiveSessionPage.objects.count(), LiveRecapPage.objects.count(), upcoming.registrations.count())
    log.clear()
    load_demo(users=users, log=log.append)
    assert (LiveSessionPage.objects.count(), LiveRecapPage.objects.count(), upcoming.registrations.count()) == counts
    assert log == []
    assert "战“疫”中的社区专业力量" in client.get("/live/").content.decode()
