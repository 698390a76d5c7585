"""A volunteer reads a chapter to its end on a 360 px phone and sees the progress bar on the index move."""
import pytest

from handbook.models import ChapterRead
from tests.factories import UserFactory
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.handbook import make_chapter, make_handbook
from tests.factories.pages import make_home

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

LONG_BODY = [("heading", f"第{n}节") if n % 2 == 0 else ("paragraph", "<p>" + "社区志愿服务需要耐心和细致。" * 60 + "</p>")
             for n in range(8)]


def test_reader_on_a_phone_reads_a_chapter_to_the_end_and_the_progress_bar_moves(asgi_server, phone_page):
    handbook = make_handbook(parent=make_home())
    first = make_chapter(handbook, number=1, slug="first", title="第一章 长章节", body=LONG_BODY)
    make_chapter(handbook, number=2, slug="second", title="第二章")
    reader = UserFactory(username="phone-reader")
    page = phone_page

    log_in(page, asgi_server, "phone-reader", DEFAULT_PASSWORD)
    page.goto(f"{asgi_server}/handbook/")
    assert page.get_by_test_id("handbook-progress").get_attribute("value") == "0"
    assert page.locator("#progress-title").inner_text() == "已读 0 / 2"

    page.get_by_role("link", name="第一章 长章节").click()
    page.wait_for_url("**/handbook/first/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows the phone's width
    page.wait_for_timeout(300)
    assert not ChapterRead.objects.filter(user=reader).exists()  # the top of a long chapter is not its end

    # The in-page contents lead to a section; then the reader scrolls to the end of the chapter.
    page.locator(".chapter-contents a").nth(1).click()
    page.wait_for_url("**#s-*")
    page.locator(".chapter-pager").scroll_into_view_if_needed()
    status = page.get_by_test_id("read-status")
    status.get_by_text("你已读完本章").wait_for()
    assert ChapterRead.objects.get(user=reader).chapter_id == first.pk
    assert ChapterRead.objects.get(user=reader).method == "end"

    page.get_by_role("link", name="返回目录").click()
    page.wait_for_url("**/handbook/")
    bar = page.get_by_test_id("handbook-progress")
    assert bar.get_attribute("value") == "1"
    assert page.locator("#progress-title").inner_text() == "已读 1 / 2"
    assert bar.get_attribute("max") == "2"
    assert page.locator(".toc-item.is-read").count() == 1
    page.screenshot(path="/tmp/handbook-e2e-index.png", full_page=True)


def test_a_chapter_that_ends_on_the_first_screen_counts_as_read_only_after_a_while(asgi_server, phone_page):
    handbook = make_handbook(parent=make_home())
    make_chapter(handbook, number=1, slug="short", title="短章节")
    reader = UserFactory(username="short-reader")
    page = phone_page
    log_in(page, asgi_server, "short-reader", DEFAULT_PASSWORD)
    page.clock.install()
    page.goto(f"{asgi_server}/handbook/short/")
    page.clock.run_for(5_000)
    page.wait_for_timeout(300)
    assert not ChapterRead.objects.filter(user=reader).exists()
    page.clock.run_for(11_000)
    page.get_by_test_id("read-status").get_by_text("你已读完本章").wait_for()
    assert ChapterRead.objects.get(user=reader).method == "end"
