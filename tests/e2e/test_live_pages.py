"""A volunteer on a 360 px phone finds an upcoming live class, registers, and sees the confirmation."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import PHONE, log_in
from tests.factories import UserFactory, make_home
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.live import make_live_index, make_live_session, make_panelist


@pytest.mark.django_db(transaction=True)
def test_volunteer_registers_on_a_phone_and_sees_the_confirmation(asgi_server, phone_page, tmp_path):
    from live.models import Registration

    make_home()
    make_live_index()
    volunteer = UserFactory(username="phone-volunteer", real_name="文志愿")
    start = timezone.now() + timedelta(days=3)
    session = make_live_session(
        title="直播课:为封闭小区组建线上志愿者团队", start=start, end=start + timedelta(minutes=90), capacity=50,
        panelists=[make_panelist(name="周晓芸", organisation="汉水桥社会工作服务中心", city="武汉")],
        agenda=["从报名到上岗:分类招募与快速审核", "一个派单群管到底"],
    )
    page = phone_page
    log_in(page, asgi_server, volunteer.username, DEFAULT_PASSWORD)
    page.goto(asgi_server + "/live/")
    page.get_by_role("link", name=session.title).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == session.title
    assert page.get_by_text("剩余名额 50 个").is_visible()
    register = page.get_by_role("button", name="报名")
    register.scroll_into_view_if_needed()
    box = register.bounding_box()
    assert box["height"] >= 44, "the register button is too small to tap"
    register.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"{session.url}registered/")
    assert page.get_by_role("heading", level=1).inner_text() == "报名成功"
    assert page.get_by_text(f"你已成功报名“{session.title}”。").is_visible()
    assert page.get_by_role("link", name="添加到日历").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the confirmation is {width}px wide on a {PHONE['width']}px phone"
    page.screenshot(path=str(tmp_path / "registered.png"), full_page=True)
    assert Registration.objects.active().filter(session=session, user=volunteer).count() == 1

    page.get_by_role("link", name="返回直播页面").click()
    page.wait_for_load_state()
    assert page.get_by_text("你已报名。").is_visible()
    assert page.get_by_role("button", name="取消报名").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
