"""Three people in one live room on one Daphne: a participant asks, the moderator approves, a second participant
sees the question and upvotes it, and the count updates on all three screens."""
import os

import pytest

from live.models import LiveSessionPage, Question, Vote
from tests.e2e.conftest import DESKTOP, PHONE, log_in
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("LIVE_SCREENSHOTS")  # a folder: save 360 px screenshots there to look at them


def phone(browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                               locale="zh-CN").new_page()


def test_ask_approve_see_and_upvote_across_three_screens(asgi_server, browser):
    moderator = UserFactory(username="e2e-moderator", real_name="莫主持", groups=["Moderators"])
    asker = UserFactory(username="e2e-asker", real_name="刘晓雯", role="social_worker")
    voter = UserFactory(username="e2e-voter", real_name="陈志刚", role="social_worker")
    session = make_live_session(title="直播课:线上志愿者团队", moderators=[moderator],
                                moderation_mode=LiveSessionPage.ModerationMode.PRE)
    room_url = f"{asgi_server}{session.url}room/"
    pages = {}
    for name, user, viewport in (("asker", asker, PHONE), ("moderator", moderator, DESKTOP), ("voter", voter, PHONE)):
        context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                      has_touch=viewport is PHONE)
        page = context.new_page()
        log_in(page, asgi_server, user.username, DEFAULT_PASSWORD)
        page.goto(room_url if name != "moderator" else f"{asgi_server}{session.url}console/")
        page.wait_for_selector("[data-connection].is-ok")
        pages[name] = page
    a, m, b = pages["asker"], pages["moderator"], pages["voter"]

    text = "封控期间,志愿者和社区干部意见不一致时<b>听谁的</b>?"
    a.fill("#ask-text", text)
    a.click("[data-ask-form] button[type=submit]")
    a.wait_for_selector("text=提问已发送，等待主持人审核。")
    question = Question.objects.get()
    assert question.status == "pending" and question.author == asker
    # Pre-moderation: the other participant does not see it; the moderator does, in the pending queue.
    m.wait_for_selector(f"[data-approve='{question.pk}']")
    assert b.locator(".room-question-text", has_text="听谁的").count() == 0
    if SHOTS:
        a.screenshot(path=f"{SHOTS}/room-asker.png", full_page=True)
        m.screenshot(path=f"{SHOTS}/console.png", full_page=True)

    m.click(f"[data-approve='{question.pk}']")
    b.wait_for_selector(".room-question-text >> text=听谁的")
    assert b.locator(".room-question").count() == 1
    # Shown as text: the markup typed by the asker is not interpreted.
    assert b.locator(".room-question-text").first.inner_text() == text
    assert b.locator(".room-question b").count() == 0

    b.click(f"[data-vote='{question.pk}']")
    for page in (a, b):
        page.wait_for_selector(f"[data-votes='{question.pk}'] >> text=1")
    b.wait_for_selector(f"[data-vote='{question.pk}'][aria-pressed=true]")
    m.click("[data-filter=approved]")
    m.wait_for_selector(f"[data-votes='{question.pk}'] >> text=1")
    assert Vote.objects.filter(question=question, user=voter).count() == 1
    assert Question.objects.get().vote_count == 1
    for page in (a, b):
        assert page.locator(".room-question").count() == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the room is {width}px wide on a {PHONE['width']}px phone"
    if SHOTS:
        b.screenshot(path=f"{SHOTS}/room-voter.png", full_page=True)
    for page in pages.values():
        page.context.close()


def test_moderator_opens_a_poll_and_the_bars_move_on_both_screens(asgi_server, browser):
    moderator = UserFactory(username="e2e-poll-moderator", real_name="莫主持", groups=["Moderators"])
    participant = UserFactory(username="e2e-poll-participant", real_name="石社工", role="social_worker")
    session = make_live_session(title="直播课:投票", moderators=[moderator])
    mod_context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    m = mod_context.new_page()
    log_in(m, asgi_server, moderator.username, DEFAULT_PASSWORD)
    m.goto(f"{asgi_server}{session.url}console/")
    m.wait_for_selector("[data-connection].is-ok")
    p_context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    p = p_context.new_page()
    log_in(p, asgi_server, participant.username, DEFAULT_PASSWORD)
    p.goto(f"{asgi_server}{session.url}room/")
    p.wait_for_selector("[data-connection].is-ok")

    m.fill("#poll-question", "你所在社区是否已建立派单群?")
    m.fill("#poll-choices", "已建立\n还没有\n正在筹备")
    m.click("[data-poll-form] button[type=submit]")
    p.wait_for_selector("[data-poll-dot]:not([hidden])")
    p.click("#tab-poll")
    p.get_by_label("还没有", exact=True).check()
    p.click(".room-poll-form button[type=submit]")
    p.wait_for_selector("text=感谢参与投票。")
    from live.models import PollAnswerChoice, PollChoice

    chosen = PollChoice.objects.get(text="还没有")
    assert PollAnswerChoice.objects.filter(choice=chosen, answer__user=participant).count() == 1
    for page in (m, p):
        page.wait_for_selector(f"[data-choice-votes='{chosen.pk}'] >> text=1（100%）")
    if SHOTS:
        p.screenshot(path=f"{SHOTS}/room-poll.png", full_page=True)
    m.click("[data-poll-close]")
    p.wait_for_selector("text=投票已结束")
    mod_context.close()
    p_context.close()
