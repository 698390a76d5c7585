"""Live index and session pages: page-tree rules, what the index and the detail page show, admin editing."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from academy.models import HomePage
from live.models import AgendaTopic, LiveIndexPage, LiveRecapPage, LiveSessionPage, Panelist
from live.selectors.access import session_detail_context
from tests.factories.live import make_live_index, make_live_session, make_panelist

pytestmark = pytest.mark.django_db


def test_page_tree_rules_are_explicit():
    assert LiveIndexPage.parent_page_types == ["academy.HomePage"]
    assert LiveIndexPage.max_count == 1
    assert LiveSessionPage.parent_page_types == ["live.LiveIndexPage"]
    assert LiveRecapPage.parent_page_types == ["live.LiveSessionPage"]
    assert LiveRecapPage.subpage_types == []


def test_session_pages_are_created_only_under_the_index(home):
    index = make_live_index()
    assert LiveSessionPage.can_create_at(index)
    assert not LiveSessionPage.can_create_at(home)
    assert not LiveIndexPage.can_create_at(home)  # there is one already
    session = make_live_session()
    assert LiveRecapPage.can_create_at(session)
    assert not LiveRecapPage.can_create_at(index)


def test_index_lists_upcoming_and_past_sessions_in_their_sections(client, home):
    now = timezone.now()
    upcoming = make_live_session(title="下周的直播课", start=now + timedelta(days=7), end=now + timedelta(days=7, hours=1))
    past = make_live_session(title="上个月的专家连线", kind="expert_panel",
                             start=now - timedelta(days=30), end=now - timedelta(days=30) + timedelta(hours=2))
    draft = make_live_session(title="未发布的草稿", publish=False)
    html = client.get("/live/").content.decode()
    upcoming_part, past_part = html.split('id="past-title"')
    assert upcoming.title in upcoming_part and past.title not in upcoming_part
    assert past.title in past_part
    assert draft.title not in html
    assert "专家连线" in past_part  # the kind badge, in Chinese
    assert "即将开始" in html


def test_index_shows_dates_in_chinese_and_beijing_time(client, home):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start = datetime(2031, 4, 16, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    make_live_session(title="未来的直播", start=start, end=start + timedelta(hours=2))
    html = client.get("/live/").content.decode()
    assert "2031年4月16日（星期三）19:30–21:30" in html
    assert "北京时间" in html


def test_index_card_names_the_panelists(client, home):
    panelist = make_panelist(name="林思远", city="上海")
    make_live_session(panelists=[panelist], start=timezone.now() + timedelta(days=1), end=timezone.now() + timedelta(days=1, hours=1))
    html = client.get("/live/").content.decode()
    assert "林思远" in html and "上海" in html


def test_detail_page_shows_description_agenda_panelists_and_room_url(client, volunteer, home):
    panelist = make_panelist(name="周晓芸", organisation="汉水桥社会工作服务中心", bio="从事社区社会工作十余年。")
    session = make_live_session(title="直播课:组建线上志愿者团队", description="<p>小区一旦封闭……</p>",
                                agenda=[{"title": "从报名到上岗", "detail": "分类招募"}, "一个派单群管到底"],
                                panelists=[panelist])
    client.force_login(volunteer)
    html = client.get(session.url).content.decode()
    assert "小区一旦封闭" in html
    assert html.index("从报名到上岗") < html.index("一个派单群管到底")
    assert "汉水桥社会工作服务中心" in html and "从事社区社会工作十余年" in html
    assert f'data-ws-url="/ws/live/{session.pk}/"' in html
    assert "进入直播间" in html  # live now and open: any signed-in user may enter
    assert f'href="{session.url}room/"' in html


def test_detail_page_asks_visitors_to_log_in_before_registering(client, home):
    session = make_live_session(start=timezone.now() + timedelta(days=2), end=timezone.now() + timedelta(days=2, hours=1))
    html = client.get(session.url).content.decode()
    assert "登录后报名" in html
    assert "/accounts/login/?next=" in html
    assert f'href="{session.url}room/"' not in html


def test_detail_page_offers_registration_and_calendar_before_the_start(client, volunteer, home):
    session = make_live_session(start=timezone.now() + timedelta(days=2), end=timezone.now() + timedelta(days=2, hours=1),
                                registration_required=True)
    client.force_login(volunteer)
    html = client.get(session.url).content.decode()
    assert f'action="{session.url}register/"' in html
    assert "添加到日历" in html
    assert f'href="{session.url}room/"' not in html  # registration-only and not registered yet


def test_moderators_see_the_console_link_and_outsiders_do_not(client, moderator, outsider, home):
    session = make_live_session()
    client.force_login(moderator)
    assert f"{session.url}console/" in client.get(session.url).content.decode()
    client.force_login(outsider)
    assert f"{session.url}console/" not in client.get(session.url).content.decode()


def test_session_moderator_named_on_the_page_gets_the_console_and_attendee_links(client, outsider, home):
    session = make_live_session(moderators=[outsider])
    client.force_login(outsider)
    html = client.get(session.url).content.decode()
    assert f"{session.url}console/" in html and f"{session.url}attendees/" in html


def test_detail_page_links_the_published_recap(client, home):
    session = make_live_session(start=timezone.now() - timedelta(days=3), end=timezone.now() - timedelta(days=3, hours=-1))
    recap = LiveRecapPage(title="回顾", slug="recap", intro="<p>回顾导语</p>")
    session.add_child(instance=recap)
    recap.save_revision().publish()
    html = client.get(session.url).content.decode()
    assert recap.url in html
    assert "回顾导语" in client.get(recap.url).content.decode()


def test_session_status_properties_follow_the_clock(home):
    now = timezone.now()
    session = make_live_session(start=now + timedelta(hours=1), end=now + timedelta(hours=2))
    assert session.is_upcoming and not session.is_past and not session.is_live()
    assert session.is_live(now + timedelta(minutes=90))
    assert not session.is_live(now + timedelta(hours=2))
    session.start, session.end = now - timedelta(hours=2), now - timedelta(hours=1)
    assert session.is_past and session.status == "ended"


def test_end_before_start_is_rejected(home):
    session = make_live_session()
    session.end = session.start - timedelta(minutes=1)
    with pytest.raises(ValidationError) as error:
        session.full_clean()
    assert "end" in error.value.message_dict


def test_stream_kind_needs_a_url(home):
    session = make_live_session()
    session.stream_kind = "hls"
    session.stream_url = ""
    with pytest.raises(ValidationError) as error:
        session.full_clean()
    assert "stream_url" in error.value.message_dict


def test_agenda_topic_ids_survive_a_new_revision(home):
    session = make_live_session(agenda=["第一题", "第二题", "第三题"])
    before = list(session.agenda_topics.values_list("pk", "title"))
    session.title = "改了标题"
    session.save_revision().publish()
    assert list(AgendaTopic.objects.filter(page=session).values_list("pk", "title")) == before
    assert [t.number for t in session.agenda_topics.all()] == [1, 2, 3]


def test_detail_context_for_an_anonymous_visitor(home):
    from django.contrib.auth.models import AnonymousUser

    context = session_detail_context(session=make_live_session(), user=AnonymousUser())
    assert context["registration_state"] == "anonymous"
    assert not context["can_join"] and not context["can_moderate"] and not context["can_view_reports"]


def test_organiser_opens_the_session_editor_in_the_admin(client, organiser, home):
    organiser.is_staff = True
    organiser.save()
    index = make_live_index()
    client.force_login(organiser)
    response = client.get(f"/admin/pages/add/live/livesessionpage/{index.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "agenda_topics" in html and "session_moderators" in html and "session_panelists" in html
    session = make_live_session()
    assert client.get(f"/admin/pages/{session.pk}/edit/").status_code == 200


def test_organiser_creates_a_session_in_the_admin(client, organiser, home):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    index = make_live_index()
    client.force_login(organiser)
    data = nested_form_data({
        "title": "管理后台新建的直播课", "slug": "admin-created", "kind": "live_class",
        "start": "2031-05-01 19:30", "end": "2031-05-01 21:00", "host_organisation": "联动学堂",
        "description": rich_text("<p>简介</p>"),
        "session_panelists": inline_formset([]),
        "agenda_topics": inline_formset([{"title": "议题一", "detail": ""}]),
        "session_moderators": inline_formset([]),
        "stream_kind": "none", "stream_url": "", "moderation_mode": "pre", "capacity": "0",
        "registration_open": "on", "action-publish": "publish",
    })
    response = client.post(f"/admin/pages/add/live/livesessionpage/{index.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    session = LiveSessionPage.objects.get(slug="admin-created")
    assert session.live and session.agenda_topics.get().title == "议题一"
    assert session.start.astimezone(timezone.get_current_timezone()).hour == 19


def test_panelists_are_a_searchable_snippet_in_the_admin(client, organiser, home):
    organiser.is_staff = True
    organiser.save()
    make_panelist(name="赵明川", organisation="全国社区服务协作联合会")
    make_panelist(name="王建平", organisation="青枫里社区居民互助群")
    client.force_login(organiser)
    response = client.get("/admin/snippets/live/panelist/", {"q": "赵明川"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "赵明川" in html and "王建平" not in html
    assert Panelist.objects.count() == 2


def test_admin_page_listing_links_each_session_to_its_attendees(client, organiser, home):
    session = make_live_session(title="后台列表里的直播")
    client.force_login(organiser)
    html = client.get(f"/admin/pages/{session.get_parent().pk}/").content.decode()
    assert f"{session.url}attendees/" in html
    assert f"{session.url}attendees/" in client.get(f"/admin/pages/{session.pk}/edit/").content.decode()


def test_past_session_page_says_it_ended_and_offers_no_registration(client, volunteer, home):
    now = timezone.now()
    session = make_live_session(start=now - timedelta(days=2), end=now - timedelta(days=2) + timedelta(hours=1))
    client.force_login(volunteer)
    html = client.get(session.url).content.decode()
    assert "本场直播已结束。" in html
    assert f"{session.url}register/" not in html and f'href="{session.url}room/"' not in html


def test_index_queries_do_not_grow_with_the_number_of_upcoming_sessions(client, home):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def upcoming(n):
        start = timezone.now() + timedelta(days=n + 1)
        make_live_session(start=start, end=start + timedelta(hours=1), panelists=[make_panelist(), make_panelist()])

    upcoming(1)
    upcoming(2)
    client.get("/live/")
    with CaptureQueriesContext(connection) as two:
        assert client.get("/live/").status_code == 200
    for n in range(3, 7):
        upcoming(n)
    with CaptureQueriesContext(connection) as six:
        html = client.get("/live/").content.decode()
    assert html.count("live-card ") == 6
    assert len(six.captured_queries) == len(two.captured_queries)


def test_past_sessions_are_paginated(client, home):
    now = timezone.now()
    for n in range(LiveIndexPage.PAST_PER_PAGE + 2):
        start = now - timedelta(days=n + 1)
        make_live_session(title=f"往期第{n + 1:02d}场", start=start, end=start + timedelta(hours=1))
    first = client.get("/live/").content.decode()
    assert "往期第01场" in first and "往期第13场" not in first
    assert "第 1 / 2 页" in first and "?page=2" in first
    second = client.get("/live/?page=2").content.decode()
    assert "往期第13场" in second and "往期第14场" in second and "往期第01场" not in second
    assert client.get("/live/?page=abc").status_code == 200


def test_a_session_counts_toward_courses_only_through_their_live_lessons():
    """One way, not two: the session page no longer has course fields that did nothing."""
    from live.models import LiveSessionPage

    names = {field.name for field in LiveSessionPage._meta.get_fields()}
    assert not {"linked_course", "minutes_for_attendance"} & names
    form_fields = LiveSessionPage.get_edit_handler().get_form_class().base_fields
    assert "linked_course" not in form_fields and "minutes_for_attendance" not in form_fields
