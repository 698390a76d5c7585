"""A volunteer on a 360 px phone opens a course, reads a lesson, passes a quiz and sees progress update."""
import os

import pytest

from courses.models import Completion, LessonPage, QuizAttempt
from tests.e2e.conftest import log_in
from tests.factories import UserFactory, make_home
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.courses import make_course, make_lesson, make_video_document

QUIZ = [
    {"text": "上岗当天发现自己发热,应该怎么做?", "kind": "single", "choices": [
        {"text": "不上岗,立即告知带队人", "correct": True}, {"text": "吃片退烧药照常上岗", "correct": False}],
     "explanation": "带病上岗可能把风险带给居民和同伴。"},
    {"text": "哪些做法能保护居民信息?(多选)", "kind": "multiple", "choices": [
        {"text": "名单只用于本次任务", "correct": True}, {"text": "把名单截图转发到其他群", "correct": False},
        {"text": "任务结束后删除名单", "correct": True}],
     "explanation": "居民信息只为服务目的使用,用完即删。"},
]
SHOTS = os.environ.get("COURSES_SHOTS")  # a folder: save screenshots there to look at the pages


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def server_media_root(tmp_path_factory) -> str:
    """MEDIA_ROOT of the Daphne process this test session started (read from its environment on Linux)."""
    from pathlib import Path

    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != os.getpid() or b"daphne" not in b" ".join(cmdline):
                continue
            env = dict(item.split(b"=", 1) for item in (proc / "environ").read_bytes().split(b"\0") if b"=" in item)
            return env[b"MEDIA_ROOT"].decode()
        except (OSError, ValueError, KeyError, IndexError):
            continue
    folders = sorted(tmp_path_factory.getbasetemp().glob("media[0-9]*"))
    assert len(folders) == 1, folders
    return str(folders[0])


def assert_fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


@pytest.mark.django_db(transaction=True)
def test_volunteer_reads_a_lesson_passes_a_quiz_and_sees_progress_on_a_phone(asgi_server, phone_page):
    make_home()
    UserFactory(username="xiaowang", real_name="小王")
    course = make_course(title="志愿者上岗培训", slug="onboarding")
    make_lesson(course, slug="before-you-start", title="上岗之前", module="上岗前必读",
                body="<p>请确认自己的岗位、带队人和报告渠道。</p>")
    make_lesson(course, slug="check", title="上岗考核", module="上岗前必读", kind=LessonPage.Kind.QUIZ,
                questions=QUIZ, pass_mark=60, shuffle=True)
    page = phone_page
    foreign = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(asgi_server) else None)
    log_in(page, asgi_server, "xiaowang", DEFAULT_PASSWORD)

    page.goto(asgi_server + "/courses/")
    page.get_by_role("link", name="志愿者上岗培训").click()
    shot(page, "course")
    assert_fits(page)
    page.get_by_test_id("enrol").click()
    # Enrolling leads to the first lesson.
    assert page.get_by_role("heading", level=1).inner_text() == "上岗之前"
    assert page.get_by_test_id("lesson-status").inner_text().strip() == "进行中"
    assert page.locator(".course-progress progress").get_attribute("value") == "0"
    shot(page, "lesson-reading")
    assert_fits(page)
    page.get_by_test_id("mark-read").click()
    assert "已完成" in page.get_by_test_id("lesson-status").inner_text()
    assert page.locator(".course-progress progress").get_attribute("value") == "50"

    page.get_by_role("link", name="下一课 上岗考核").click()
    page.get_by_test_id("quiz-start").click()
    # Submitting with a question unanswered is refused and keeps the answer given.
    page.locator("label.choice", has_text="不上岗,立即告知带队人").click()
    page.get_by_test_id("quiz-submit").click()
    assert "还没有作答" in page.locator(".message-error").inner_text()
    assert page.locator("label.choice", has_text="不上岗,立即告知带队人").locator("input").is_checked()
    shot(page, "quiz-form")
    assert_fits(page)
    page.locator("label.choice", has_text="名单只用于本次任务").click()
    page.locator("label.choice", has_text="任务结束后删除名单").click()
    page.get_by_test_id("quiz-submit").click()

    result = page.get_by_test_id("quiz-result")
    assert "100%" in result.inner_text() and "通过" in result.inner_text()
    assert "带病上岗可能把风险带给居民和同伴" in page.content()  # explanations after submission
    assert result.locator("progress").get_attribute("value") == "100"
    shot(page, "quiz-result")
    assert_fits(page)

    page.goto(asgi_server + "/courses/my/")
    assert page.get_by_test_id("my-completed-course").is_visible()
    shot(page, "my-learning")
    assert QuizAttempt.objects.get().passed
    assert Completion.objects.count() == 1
    assert not foreign, foreign


@pytest.mark.django_db(transaction=True)
def test_local_player_reports_watched_percentage_until_the_video_lesson_completes(
    asgi_server, phone_page, settings, tmp_path_factory
):
    """Played at 16x speed the track ends long before the server credits it (no faster than real time); played
    again at normal speed, the lesson completes."""
    import io
    import wave

    from tests.factories.courses import enrol

    # The file must land where the server process reads media: the folder tests/e2e/conftest.py gave it.
    settings.MEDIA_ROOT = server_media_root(tmp_path_factory)
    make_home()
    user = UserFactory(username="xiaoli")
    course = make_course(slug="video-course")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as track:  # an eight-second track
        track.setnchannels(1)
        track.setsampwidth(1)
        track.setframerate(8000)
        track.writeframes(bytes(128 + (i // 20 % 2) * 4 for i in range(8000)) * 8)
    document = make_video_document(title="短视频", content=buffer.getvalue(), name="short.wav")
    lesson = make_lesson(course, slug="video", title="视频课", kind=LessonPage.Kind.VIDEO,
                         video=document, required_percent=80)
    enrol(user, course)
    page = phone_page
    log_in(page, asgi_server, "xiaoli", DEFAULT_PASSWORD)
    page.goto(asgi_server + lesson.url)
    page.wait_for_function("document.querySelector('video').readyState >= 1")
    play = """rate => new Promise(resolve => { const v = document.querySelector('video');
        v.muted = true; v.playbackRate = rate; v.currentTime = 0; v.addEventListener('ended', resolve, {once: true});
        v.play(); })"""
    page.evaluate(play, 16)  # resolves when the track has ended, half a second later
    page.wait_for_timeout(1500)
    assert "已完成" not in page.get_by_test_id("lesson-status").inner_text()
    page.evaluate(play, 1)
    page.wait_for_function("document.querySelector('[data-testid=lesson-status]').textContent.includes('已完成')", timeout=20000)
    assert "已观看" in page.locator("#video-status").inner_text()
    shot(page, "lesson-video")
