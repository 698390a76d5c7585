"""Apply on a 360 px phone → a reviewer approves on another phone → the volunteer sees the course in 我的学习."""
import os

import pytest

from tests.e2e.conftest import PHONE, log_in
from tests.factories import UserFactory, make_home
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.courses import make_course
from tests.volunteers.conftest import ensure_reviewers_group
from volunteers.builders import make_campaign, make_volunteers_index
from volunteers.models import Application

SHOTS = os.environ.get("VOLUNTEERS_SHOTS")  # a folder: save screenshots there to look at the pages


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_apply_on_a_phone_then_reviewer_approves_then_course_in_my_learning(asgi_server, browser):
    ensure_reviewers_group()
    home = make_home()
    course = make_course(title="志愿者上岗培训", slug="volunteer-onboarding")
    make_volunteers_index(home)
    campaign = make_campaign(
        title="武汉社区抗疫志愿者招募", slug="wuhan-drive", needs=[("物资配送", 5, [course]), ("心理", 2, [])],
        questions=[
            {"type": "question", "value": {"text": "为什么想参加？", "kind": "text", "choices": [], "required": True}},
            {"type": "question", "value": {"text": "能否使用微信群？", "kind": "single", "choices": ["能", "不能"], "required": True}},
            {"type": "question", "value": {"text": "能接受夜间值守吗？", "kind": "scale", "choices": [], "required": True}},
        ],
    )
    reviewer = UserFactory(username="e2e-reviewer", real_name="吴审核", groups=["Reviewers"])
    assert reviewer.has_perm("accounts.review_volunteers")

    # The applicant, on a phone: the campaign, a new account, the form, submit.
    applicant_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                            locale="zh-CN")
    phone = applicant_context.new_page()
    phone.goto(f"{asgi_server}{campaign.url}")
    assert "物资配送" in phone.inner_text("main")
    shot(phone, "campaign-360")
    phone.click("[data-testid=apply-link]")
    phone.fill("input[name=real_name]", "韩报名")
    phone.fill("input[name=phone]", "137 0000 2222")
    phone.fill("input[name=password]", "sturdy-pass-42")
    phone.click("main button[type=submit]")
    phone.wait_for_selector("[data-testid=apply-form]")
    assert phone.input_value("input[name=phone]") == "+8613700002222"
    phone.fill("input[name=district]", "江汉区")
    phone.fill("input[name=community]", "青枫里社区")
    phone.check("text=物资配送")
    phone.check("input[name=days][value=sat]")
    phone.check("input[name=mode][value=onsite]")
    questions = {q["text"]: q["id"] for q in campaign.question_list()}
    phone.fill(f"textarea[name=q_{questions['为什么想参加？']}]", "住得近，可以帮邻居送菜。")
    phone.check(f"input[name=q_{questions['能否使用微信群？']}][value=能]")
    phone.check(f"input[name=q_{questions['能接受夜间值守吗？']}][value='4']")
    phone.check("input[name=consent]")
    shot(phone, "apply-360")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the form is wider than the phone: {width}px"
    phone.click("[data-testid=submit-application]")
    phone.wait_for_selector("[data-testid=my-application]")
    assert phone.get_attribute("[data-testid=my-application]", "data-state") == "submitted"
    shot(phone, "my-applications-360")

    # The reviewer, on another phone: the queue, claim the next one, approve.
    reviewer_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                           locale="zh-CN")
    second = reviewer_context.new_page()
    log_in(second, asgi_server, "e2e-reviewer", DEFAULT_PASSWORD)
    second.goto(f"{asgi_server}/volunteers/review/")
    assert "韩报名" in second.inner_text("[data-testid=review-queue]")
    shot(second, "review-360")
    second.click("[data-testid=claim-next]")
    second.wait_for_selector("[data-testid=approve]")
    shot(second, "review-detail-360")
    second.click("[data-testid=approve]")
    second.wait_for_load_state()
    assert Application.objects.get(full_name="韩报名").state == "approved"

    # The volunteer sees the approval and the course in 我的学习.
    phone.goto(f"{asgi_server}/volunteers/my/")
    assert phone.get_attribute("[data-testid=my-application]", "data-state") == "approved"
    phone.goto(f"{asgi_server}/courses/my/")
    assert "志愿者上岗培训" in phone.inner_text("[data-testid=my-course]")
    shot(phone, "my-learning-360")
    applicant_context.close()
    reviewer_context.close()
