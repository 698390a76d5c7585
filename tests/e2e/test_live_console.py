"""The console and the room as moderators and participants meet them: two panes on a desktop, the queue first and
every tab visible on a phone, buttons that follow the session's status, a queue of thousands that stays usable
(paged, searchable), the pending notice that goes once approved, a focused room on phones, and the room without
JavaScript."""
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from live.models import LiveSessionPage, Question
from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("LIVE_SCREENSHOTS")  # a folder: save screenshots there to look at them


def signed_in(browser, base, user, viewport, **options):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE, **options)
    page = context.new_page()
    log_in(page, base, user.username, DEFAULT_PASSWORD)
    return page


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_console_two_panes_on_a_desktop_queue_first_on_a_phone_buttons_follow_the_status(asgi_server, browser):
    moderator = UserFactory(username="e2e-console", real_name="莫主持", groups=["Moderators"])
    author = UserFactory(username="e2e-many", real_name="提问者")
    soon = timezone.now() + timedelta(hours=1)
    session = make_live_session(title="直播课：上千个提问", moderators=[moderator], start=soon,
                                end=soon + timedelta(hours=1), moderation_mode=LiveSessionPage.ModerationMode.PRE)
    Question.objects.bulk_create([Question(session=session, author=author, text=f"第{i}个问题：社区团购怎么组织",
                                           status="pending") for i in range(1, 1201)])
    Question.objects.create(session=session, author=author, text="物资分发的排班表", status="pending")
    console_url = f"{asgi_server}{session.url}console/"

    desk = signed_in(browser, asgi_server, moderator, DESKTOP)
    desk.goto(console_url)
    desk.wait_for_selector("[data-connection].is-ok")
    desk.wait_for_selector("[data-approve]")
    queue, side = box(desk, ".console-queue"), box(desk, ".console-side")
    assert queue["x"] + queue["width"] <= side["x"] and abs(queue["y"] - side["y"]) < 5  # side by side
    assert desk.locator(".room-question").count() == 50  # paged: the rest on demand
    assert desk.inner_text("[data-count-pending]") == "1201"  # exact, although the snapshot holds the newest 500
    desk.click("[data-more]")
    desk.wait_for_function("() => document.querySelectorAll('.room-question').length === 100")
    desk.evaluate("window.scrollTo(0, 0)")
    for _ in range(9):  # past the snapshot's 500: the next pages come from the server
        desk.click("[data-more]")
    desk.wait_for_function("() => document.querySelectorAll('.room-question').length === 550")
    assert desk.locator(".room-question-text >> text=第1个问题：社区团购怎么组织").count() == 0
    desk.fill("[data-question-search]", "排班")
    desk.wait_for_function("() => document.querySelectorAll('.room-question').length === 1")
    start, end = desk.locator("[data-status-set=live]"), desk.locator("[data-status-set=ended]")
    assert "button-primary" in start.get_attribute("class") and "button-primary" not in (end.get_attribute("class") or "")
    start.click()
    desk.wait_for_selector("[data-status-set=live][disabled]")
    assert "button-primary" in end.get_attribute("class")
    desk.fill("[data-question-search]", "")
    desk.click("[data-filter=dismissed]")
    desk.wait_for_selector(".room-empty >> text=没有已移除的提问。")
    assert desk.get_attribute("#console-questions", "aria-labelledby") == "console-tab-dismissed"
    if SHOTS:
        desk.screenshot(path=f"{SHOTS}/console-1280.png")

    phone = signed_in(browser, asgi_server, moderator, PHONE)
    phone.goto(console_url)
    phone.wait_for_selector("[data-approve]")
    assert box(phone, ".console-queue")["y"] < box(phone, ".console-side")["y"]
    for tab in phone.locator("[role=tab]").all():
        right = tab.bounding_box()["x"] + tab.bounding_box()["width"]
        assert right <= PHONE["width"], f"{tab.inner_text()} is cut off at {right}px"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if SHOTS:
        phone.screenshot(path=f"{SHOTS}/console-360.png")
    desk.context.close()
    phone.context.close()


def test_pending_notice_goes_once_approved_and_the_room_fills_the_phone(asgi_server, browser):
    moderator = UserFactory(username="e2e-approver", real_name="莫主持", groups=["Moderators"])
    asker = UserFactory(username="e2e-waiting", real_name="刘晓雯")
    session = make_live_session(title="直播课：审核提示", moderators=[moderator],
                                moderation_mode=LiveSessionPage.ModerationMode.PRE)
    room = signed_in(browser, asgi_server, asker, PHONE)
    room.goto(f"{asgi_server}{session.url}room/")
    room.wait_for_selector("[data-connection].is-ok")
    assert not room.locator(".site-header").is_visible() and not room.locator(".site-footer").is_visible()
    assert room.locator(".room-back a").is_visible()
    room.fill("#ask-text", "排班表怎么共享？")
    room.click("[data-ask-form] button[type=submit]")
    room.wait_for_selector("[data-ask-feedback] >> text=等待主持人审核")
    if SHOTS:
        room.screenshot(path=f"{SHOTS}/room-360-pending.png")
    console = signed_in(browser, asgi_server, moderator, DESKTOP)
    console.goto(f"{asgi_server}{session.url}console/")
    console.click(f"[data-approve='{Question.objects.get().pk}']")
    room.wait_for_function("() => document.querySelector('[data-ask-feedback]').textContent === ''")
    assert room.locator(".room-question .badge-wait").count() == 0
    desk = signed_in(browser, asgi_server, asker, DESKTOP)
    desk.goto(f"{asgi_server}{session.url}room/")
    assert desk.locator(".site-header").is_visible()
    if SHOTS:
        room.screenshot(path=f"{SHOTS}/room-360-approved.png")
        desk.screenshot(path=f"{SHOTS}/room-1280.png")
    for page in (room, console, desk):
        page.context.close()


def test_the_room_without_javascript_says_so_and_still_takes_a_question(asgi_server, browser):
    asker = UserFactory(username="e2e-nojs", real_name="无脚本")
    session = make_live_session(title="直播课：不用脚本")
    page = signed_in(browser, asgi_server, asker, PHONE, java_script_enabled=False)
    page.goto(f"{asgi_server}{session.url}room/")
    assert "实时更新需要启用 JavaScript" in page.inner_text("[data-connection]")
    page.fill("#ask-text", "不开脚本也能提问吗？")
    page.click("[data-ask-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"{session.url}room/")
    assert "提问已发送" in page.inner_text("body")
    assert Question.objects.get(session=session).text == "不开脚本也能提问吗？"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/room-360-nojs.png")
    page.context.close()
