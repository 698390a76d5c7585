"""A volunteer on a 360 px phone downloads the manual for offline reading, loses the network, reads a chapter,
marks it read, and the read reaches the server when the network is back."""
import time

import pytest

from handbook.models import ChapterRead
from tests.factories import UserFactory
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.handbook import make_chapter, make_handbook
from tests.factories.pages import make_home

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = "/tmp/handbook-offline-{}.png"
TABLE = {"caption": "三方分工", "header_row": True,
         "rows": [["角色", "负责"], ["社区", "统筹协调、摸清底数"], ["社会组织", "专业服务（心理、物资）"]]}


def wait_until(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_offline_reader_downloads_reads_and_marks_read_and_the_read_is_sent_when_back_online(asgi_server, phone_page):
    handbook = make_handbook(parent=make_home())
    make_chapter(handbook, number=1, slug="first", title="三社联动是什么",
                 body=[("heading", "一、三方分工"), ("table", TABLE),
                       ("paragraph", "<p>" + "遇到困难先联系社区，再由社工分派给志愿者。" * 30 + "</p>")])
    second = make_chapter(handbook, number=2, slug="second", title="志愿者上岗")
    reader = UserFactory(username="offline-reader")
    page = phone_page
    log_in(page, asgi_server, "offline-reader", DEFAULT_PASSWORD)

    page.goto(f"{asgi_server}/handbook/")
    panel = page.locator("[data-offline-panel]")
    button = panel.get_by_role("button")
    button.get_by_text("离线阅读（约").wait_for()  # the button says how much it downloads
    assert "KB" in button.inner_text() or "MB" in button.inner_text()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    button.click()
    page.locator("[data-offline-panel][data-state=complete]").wait_for(timeout=20_000)
    assert "离线副本已完成" in panel.inner_text() and "2 章" in panel.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=SCREENSHOTS.format("index-360"), full_page=True)
    cached = page.evaluate("""caches.keys().then(names => Promise.all(names.map(name => caches.open(name)
        .then(cache => cache.keys()).then(requests => requests.map(r => new URL(r.url).pathname))))).then(l => l.flat())""")
    assert "/handbook/first/" in cached and "/handbook/second/" in cached
    assert all(path.startswith(("/handbook/", "/static/", "/media/")) for path in cached), cached
    assert not any(path.startswith(("/accounts/", "/admin/", "/courses/", "/live/")) for path in cached)
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    response = page.goto(f"{asgi_server}/handbook/second/")
    assert response.ok and response.from_service_worker
    assert response.headers.get("x-handbook-offline") == "copy"  # from the copy, not the network
    page.get_by_role("heading", name="志愿者上岗").wait_for()
    assert page.locator("link[rel=stylesheet]").count() >= 2
    assert page.evaluate("getComputedStyle(document.querySelector('.chapter-end')).borderTopStyle") == "solid"

    page.get_by_role("button", name="标记为已读").click()
    page.get_by_test_id("read-status").get_by_text("联网后会自动同步").wait_for()
    assert not page.get_by_role("button", name="标记为已读").is_visible()
    page.screenshot(path=SCREENSHOTS.format("chapter-360"), full_page=True)
    assert not ChapterRead.objects.filter(user=reader).exists()

    first = page.goto(f"{asgi_server}/handbook/first/")  # another chapter, also offline, table and all
    assert first.headers.get("x-handbook-offline") == "copy"
    assert page.locator(".table-block td").first.inner_text() == "社区"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # what the browser does when the network is back
    assert wait_until(lambda: ChapterRead.objects.filter(user=reader, chapter=second).exists())
    assert ChapterRead.objects.filter(user=reader).count() == 1

    page.goto(f"{asgi_server}/handbook/")
    assert page.locator("#progress-title").inner_text() == "已读 1 / 2"


def test_the_offline_copy_is_replaced_by_a_new_edition(asgi_server, phone_page):
    handbook = make_handbook(parent=make_home())
    make_chapter(handbook, number=1, slug="only", title="唯一一章")
    page = phone_page
    page.goto(f"{asgi_server}/handbook/")
    page.locator("[data-offline-panel]").get_by_role("button").get_by_text("离线阅读（约").wait_for()
    page.locator("[data-offline-panel]").get_by_role("button").click()
    page.locator("[data-offline-panel][data-state=complete]").wait_for(timeout=20_000)
    before = page.evaluate("caches.keys()")
    assert len(before) == 1 and before[0].startswith("handbook-offline-第一版-")

    handbook.edition = "第二版"
    handbook.save_revision().publish()
    page.goto(f"{asgi_server}/handbook/")
    page.locator("[data-offline-panel][data-state=complete]").wait_for(timeout=20_000)
    page.wait_for_function("caches.keys().then(k => k.length === 1 && k[0].indexOf('第二版') > 0)")
    assert "第二版" in page.locator("[data-offline-panel]").inner_text()
