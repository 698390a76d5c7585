import pytest

from tests.e2e.conftest import DESKTOP, PHONE


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-360", "desktop"])
def test_home_page_renders_in_chinese_without_horizontal_scroll(asgi_server, browser, viewport):
    from tests.factories import make_home

    make_home()
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    foreign = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(asgi_server) else None)
    response = page.goto(asgi_server + "/")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").first.inner_text() == "联动学堂"
    assert page.get_by_role("link", name="登录").first.is_visible()  # the hero button; on desktop the menu too
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"page is {width}px wide in a {viewport['width']}px viewport"
    assert not foreign, f"requests to other hosts: {foreign}"
    context.close()
