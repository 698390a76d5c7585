"""Under the Content-Security-Policy the pages still work in a real browser: no violation on the public site (room
included, with its WebSocket), and Wagtail's admin (dashboard, page editor) works under its looser policy."""
import pytest

from tests.e2e.conftest import DESKTOP, PHONE, log_in

def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


@pytest.mark.django_db(transaction=True)
def test_public_pages_and_the_room_run_without_policy_violations(asgi_server, browser, tmp_path):
    from courses.models import LessonPage
    from tests.factories import UserFactory, make_home
    from tests.factories.accounts import DEFAULT_PASSWORD
    from tests.factories.courses import enrol, make_course, make_lesson, make_video_document
    from tests.factories.handbook import make_chapter, make_handbook
    from tests.factories.live import make_live_session

    make_home()
    member = UserFactory(username="csp-member", real_name="严格", phone="+8613800000077")
    chapter = make_chapter(make_handbook())
    course = make_course(title="策略课程", slug="csp-e2e")
    video = make_lesson(course, kind=LessonPage.Kind.VIDEO, video=make_video_document())
    enrol(member, course)
    session = make_live_session()
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    problems = watch(page)
    log_in(page, asgi_server, "138 0000 0077", DEFAULT_PASSWORD)  # the phone number, as a member types it
    assert page.locator(".nav-account a", has_text="严格").count() == 1  # signed in (the link sits in the menu)
    for url in ["/", chapter.url, course.url, video.url, session.url, "/accounts/password_reset/"]:
        assert page.goto(asgi_server + url).status == 200, url
        page.wait_for_load_state("networkidle")
    page.goto(asgi_server + session.url + "room/")
    page.wait_for_function("() => !document.body.innerText.includes('连接中')", timeout=15000)
    page.screenshot(path=str(tmp_path / "room-under-csp.png"))
    assert problems == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_wagtail_admin_works_under_its_policy(fresh_asgi_server, browser):
    asgi_server = fresh_asgi_server
    from tests.factories import UserFactory, make_home
    from tests.factories.accounts import DEFAULT_PASSWORD
    from tests.factories.courses import grant_organiser_permissions, make_course

    home = make_home()
    course = make_course(title="后台课程", slug="csp-admin")
    grant_organiser_permissions()
    UserFactory(username="csp-organiser", role="organiser", groups=["Organisers"])
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    problems = watch(page)
    page.goto(asgi_server + "/admin/login/")
    page.fill("input[name=username]", "csp-organiser")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{asgi_server}/admin/pages/{course.pk}/edit/")
    page.wait_for_load_state("networkidle")
    assert page.locator("form#page-edit-form").count() == 1
    page.wait_for_selector("#wagtail-sidebar .sidebar", timeout=10000)  # the sidebar is drawn by Wagtail's scripts
    page.get_by_role("tab", name="推荐").click()  # tabs are switched by Wagtail's scripts
    page.wait_for_selector("[role=tabpanel]:not([hidden]) input[name=slug]", timeout=10000)
    page.goto(f"{asgi_server}{home.url}")  # a public page with the editors' user bar
    page.wait_for_load_state("networkidle")
    assert problems == []
    context.close()
