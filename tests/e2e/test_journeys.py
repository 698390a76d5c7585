"""One journey per role on a 360 px phone, and a desktop pass: every key page is checked with axe-core (no serious or
critical violation), touch targets are 44 px, and a screenshot of each page is saved as a test artefact under
tests/e2e/artifacts/<role>/ (git-ignored; CI keeps the folder).

The demo site is built once for the module (load_demo, as a newcomer sees it) in the database the server reads, and
flushed at the end. The tests are transactional (so pytest-django sets the database up even when only this module
runs) with `available_apps` limited to the sessions app: between tests only the log-in sessions are flushed, not the
demo.
"""
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.e2e.axe import axe_violations, describe
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_courses import server_media_root

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "journeys-demo-pass-1"
MIN_TARGET = 44


pytestmark = pytest.mark.django_db(transaction=True, available_apps=["django.contrib.sessions"])


@pytest.fixture(scope="module")
def demo(asgi_server, django_db_blocker, tmp_path_factory):
    """The demo site in the server's database; the ids the journeys need."""
    from courses.models import CoursePage, LessonPage
    from live.models import LiveSessionPage
    from tests.factories.certificates import ensure_organiser_permissions
    from tests.factories.courses import grant_organiser_permissions

    with django_db_blocker.unblock():
        with override_settings(MEDIA_ROOT=server_media_root(tmp_path_factory), DEMO_PASSWORD=PASSWORD):
            call_command("load_demo", force=True, verbosity=0)
        grant_organiser_permissions()  # what the migrations granted, flushed by an earlier transactional test
        ensure_organiser_permissions()
        ids = {
            "url": asgi_server,
            "practice": CoursePage.objects.get(slug="sanshe-online-practice").pk,
            "quiz_url": LessonPage.objects.get(slug="quiz-linkage-basics").url,
            "session_url": LiveSessionPage.objects.get(slug="community-linkage-live-class").url,
        }
    yield ids
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


class Journey:
    """A browser context for one role at one width: visit pages, check each with axe, save a screenshot of each."""

    def __init__(self, browser, base_url, role, viewport):
        mobile = viewport["width"] < 600
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True, is_mobile=mobile,
                                           has_touch=mobile)
        self.page = self.context.new_page()
        self.base_url, self.role, self.width = base_url, role, viewport["width"]
        self.folder = ARTIFACTS / role
        self.folder.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.problems = []

    def go(self, path):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state()

    def check(self, name):
        """axe on the page as it is now, and a screenshot; problems are gathered and reported together."""
        self.step += 1
        self.page.screenshot(path=str(self.folder / f"{self.step:02d}-{name}-{self.width}.png"), full_page=True)
        violations = axe_violations(self.page)
        if violations:
            self.problems.append(f"{self.role} {self.width}px {name} ({self.page.url}):\n{describe(violations)}")

    def log_in(self, username):
        self.go("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()

    def small_targets(self, selector):
        return self.page.evaluate("""([selector, min]) => [...document.querySelectorAll(selector)]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < min)
            .map(e => e.textContent.trim() + ' ' + Math.round(e.getBoundingClientRect().height) + 'px')""",
                                  [selector, MIN_TARGET])

    def close(self):
        self.context.close()
        assert not self.problems, "serious or critical accessibility violations:\n" + "\n".join(self.problems)


@pytest.fixture
def journeys(demo, browser, transactional_db):
    opened = []

    def start(role, viewport=PHONE):
        journey = Journey(browser, demo["url"], role, viewport)
        opened.append(journey)
        return journey

    yield start
    for journey in opened:
        journey.close()


def test_visitor_on_a_phone_finds_every_menu_item_and_is_told_why_to_log_in(journeys, demo):
    j = journeys("visitor")
    page = j.page
    j.go("/")
    assert page.locator(".site-nav").is_hidden()
    j.check("home")
    page.click(".menu-button")
    for name in ("首页", "课程", "直播课堂", "工作手册", "登录", "注册"):
        link = page.locator(".site-nav a", has_text=name).first
        assert link.is_visible() and link.bounding_box()["x"] + link.bounding_box()["width"] <= 360, name
    assert not j.small_targets(".site-nav a")
    j.check("menu-open")
    page.locator(".site-nav a", has_text="课程").first.click()
    page.wait_for_load_state()
    assert page.locator('.site-nav a[aria-current="page"]').text_content() == "课程"
    j.check("catalogue")
    page.locator("main a", has_text="三社联动线上抗疫实务").first.click()
    page.wait_for_load_state()
    assert not j.small_targets(".lesson-item a"), "lesson links are touch targets"
    j.check("course")
    page.locator(".lesson-item a").first.click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    assert page.locator('[data-testid=login-context][data-kind="lesson"]').is_visible()
    j.check("login-with-context")
    page.click("[data-testid=signup-with-next]")
    page.wait_for_load_state()
    assert "next=" in page.url
    j.check("signup")
    j.go("/search/?q=%E8%81%94%E5%8A%A8")
    j.check("search")


def test_volunteer_continues_learning_and_gets_a_quiz_marked_without_the_key(journeys, demo):
    j = journeys("volunteer")
    page = j.page
    j.log_in("demo-volunteer")
    j.go("/")
    continue_link = page.locator("[data-testid=continue-lesson]").first
    assert "危机中的三种联动" in continue_link.inner_text()
    j.check("home")
    continue_link.click()
    page.wait_for_load_state()
    j.check("video-lesson")
    page.locator(".breadcrumbs a").first.click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=continue]").get_attribute("href").endswith("/three-kinds-of-linkage/")
    assert not j.small_targets(".lesson-item a")
    j.check("course")
    j.go(demo["quiz_url"])
    page.click("[data-testid=quiz-start]")
    page.wait_for_load_state()
    page.click("[data-testid=quiz-submit]")  # nothing answered
    page.wait_for_load_state()
    assert "还没有作答" in page.locator(".quiz-form [role=alert]").inner_text()
    assert page.locator(".question-unanswered").count() >= 1
    j.check("quiz-unanswered")
    for fieldset in page.locator(".quiz-form fieldset.question").all():
        fieldset.locator("input").last.check()
    page.click("[data-testid=quiz-submit]")
    page.wait_for_load_state()
    assert "/attempts/1/" in page.url
    j.check("quiz-result")
    j.go("/courses/my/")
    j.check("my-learning")
    j.go("/certificates/")
    j.check("my-certificates")


def test_social_worker_enrols_and_finds_the_live_class(journeys, demo):
    j = journeys("socialworker")
    page = j.page
    j.log_in("demo-socialworker")
    j.go("/")
    assert page.locator("[data-testid=continue-learning]").is_visible()
    j.check("home")
    j.go("/courses/volunteer-onboarding/")
    page.click("[data-testid=enrol]")
    page.wait_for_load_state()
    assert "/courses/volunteer-onboarding/" in page.url
    j.check("first-lesson")
    j.go(demo["session_url"])
    j.check("live-session")
    j.go(demo["session_url"] + "room/")
    j.check("live-room")
    j.go("/handbook/")
    j.check("handbook")


def test_moderator_reaches_the_console_from_a_phone(journeys, demo):
    j = journeys("moderator")
    page = j.page
    j.log_in("demo-moderator")
    j.go("/")
    j.check("home")
    j.go(demo["session_url"])
    j.check("live-session")
    j.go(demo["session_url"] + "console/")
    assert page.locator("main").is_visible()
    j.check("console")


def test_organiser_uses_the_dashboard_lesson_form_and_reports_on_a_phone(journeys, demo):
    j = journeys("organiser")
    page = j.page
    j.log_in("demo-organiser")
    j.go("/admin/")
    assert page.locator("#upcoming-sessions-section, #upcoming-sessions").first.is_visible()
    j.check("dashboard")
    j.go(f"/admin/pages/add/courses/lessonpage/{demo['practice']}/")
    page.select_option("#id_kind", "quiz")
    assert page.locator(".lesson-kind-quiz").is_visible()
    assert page.locator(".lesson-kind-video").is_hidden() and page.locator(".lesson-kind-live").is_hidden()
    j.check("lesson-form-quiz")
    j.go("/admin/course-reports/")
    j.check("reports")
    j.go(f"/admin/course-reports/{demo['practice']}/")
    assert not re.search(r"…</tspan>", page.content())  # long lesson titles are wrapped, not cut
    j.check("course-report")


DESKTOP_PAGES = {
    "visitor": ["/", "/courses/", "/courses/sanshe-online-practice/", "/live/", "/handbook/", "/search/?q=%E7%A4%BE%E5%8C%BA",
                "/accounts/login/?next=/courses/sanshe-online-practice/three-kinds-of-linkage/"],
    "demo-volunteer": ["/", "/courses/sanshe-online-practice/", "/courses/sanshe-online-practice/three-kinds-of-linkage/",
                       "/courses/my/", "/certificates/"],
    "demo-socialworker": ["/", "{session}", "{session}room/"],
    "demo-moderator": ["/", "{session}console/"],
    "demo-organiser": ["/admin/", "/admin/pages/add/courses/lessonpage/{practice}/", "/admin/course-reports/",
                       "/admin/course-reports/{practice}/"],
}


def test_desktop_pass_over_every_role_s_key_pages(journeys, demo):
    for role, paths in DESKTOP_PAGES.items():
        j = journeys(role.replace("demo-", ""), DESKTOP)
        if role != "visitor":
            j.log_in(role)
        for path in paths:
            j.go(path.format(session=demo["session_url"], practice=demo["practice"]))
            j.check("desktop-" + (re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].format(session="session/", practice="course")).strip("-") or "home"))
