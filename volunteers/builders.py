"""Builders of volunteer intake, shared by the tests, `load_demo` and the burst benchmark.

make_volunteers_index() → /volunteers/; make_category(name); make_campaign(parent=None, needs=..., **overrides) →
a published campaign; make_application(campaign, user, state=..., **overrides) → an application in any state, built
through the services (so the audit trail and the enrolments are real).
"""
from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import Page, Site

from academy.pages import add_child_once
from volunteers import services
from volunteers.models import Application, CampaignNeed, CampaignPage, VolunteerCategory, VolunteersIndexPage

DEFAULT_PRIVACY = (
    "我们收集：姓名、手机号、所在区和社区、可服务时间、资质及证明材料、筛选问题的回答。\n"
    "用途：仅用于本次招募的审核、分组、培训报名和服务联络。\n"
    "谁能看到：本次招募的审核员和组织者；证明材料只有审核员能打开。\n"
    "保存多久：招募结束后 180 天内删除；未通过或已撤回的报名，组织者可随时一并删除。\n"
    "我们不收集身份证号。你可以随时在“我的报名”中撤回或删除自己的报名。"
)


def make_volunteers_index(home: Page | None = None) -> VolunteersIndexPage:
    existing = VolunteersIndexPage.objects.first()
    if existing is not None:
        return existing
    home = home or Site.objects.get(is_default_site=True).root_page
    return add_child_once(home, VolunteersIndexPage(
        title="志愿者招募", slug="volunteers",
        intro="<p>按类别招募志愿者：选择你能做的事，审核通过后参加上岗培训，再编入社区服务队。</p>",
    ))


def make_category(name: str, description: str = "") -> VolunteerCategory:
    category, _ = VolunteerCategory.objects.get_or_create(name=name, defaults={"description": description})
    return category


def make_campaign(parent=None, *, needs=None, **overrides) -> CampaignPage:
    """A published campaign; `needs` is a list of (category name, headcount, [course pages])."""
    parent = parent or make_volunteers_index()
    title = overrides.pop("title", None) or f"招募 {uuid.uuid4().hex[:6]}"
    today = timezone.localdate()
    fields = {
        "title": title,
        "slug": overrides.pop("slug", None) or slugify(title) or f"campaign-{uuid.uuid4().hex[:8]}",
        "purpose": "<p>为社区防控和居民生活保障招募志愿者。</p>",
        "area": "武汉市江汉区",
        "community": "",
        "starts_on": today,
        "ends_on": today + dt.timedelta(days=60),
        "privacy_notice": DEFAULT_PRIVACY,
    }
    fields.update(overrides)
    campaign = add_child_once(parent, CampaignPage(**fields))
    for order, (name, headcount, courses) in enumerate(needs if needs is not None else [("物资配送", 10, [])]):
        need, created = CampaignNeed.objects.get_or_create(
            campaign=campaign, category=make_category(name), defaults={"headcount": headcount, "sort_order": order}
        )
        if created and courses:
            need.courses.set(courses)
            need.save()
    return campaign


def application_data(campaign: CampaignPage, **overrides) -> services.ApplicationData:
    """Complete, valid answers for `campaign` (first category, every required question answered)."""
    answers = {}
    for question in campaign.question_list():
        if question["kind"] == "text":
            answers[question["id"]] = "愿意服从社区安排。"
        elif question["kind"] == "single":
            answers[question["id"]] = question["choices"][0]
        elif question["kind"] == "multiple":
            answers[question["id"]] = question["choices"][:1]
        else:
            answers[question["id"]] = 4
    first_need = CampaignNeed.objects.filter(campaign=campaign).order_by("sort_order", "pk").first()
    fields = {
        "full_name": "张志愿", "phone": "13900000000", "district": "江汉区", "community": "青枫里社区",
        "need_ids": [first_need.pk] if first_need else [], "days": ["sat", "sun"], "day_parts": ["morning"],
        "mode": "onsite", "answers": answers, "consent": True,
    }
    fields.update(overrides)
    return services.ApplicationData(**fields)


def make_application(campaign: CampaignPage, user, *, state: str = Application.State.SUBMITTED, reviewer=None,
                     need=None, message: str = "不符合本次招募的要求。", **overrides) -> Application:
    """An application of `user` in `state`, reached through the services (decisions need `reviewer`)."""
    existing = Application.objects.filter(campaign=campaign, user=user).first()
    if existing is not None:
        return existing
    data = application_data(campaign, **overrides)
    application = services.application_save(campaign=campaign, user=user, data=data,
                                             submit=state != Application.State.DRAFT)
    if state in (Application.State.DRAFT, Application.State.SUBMITTED):
        return application
    if state == Application.State.WITHDRAWN:
        return services.application_withdraw(application=application, user=user)
    if state == Application.State.APPROVED:
        services.application_approve(application=application, reviewer=reviewer, need=need)
    elif state == Application.State.REJECTED:
        services.application_reject(application=application, reviewer=reviewer, reason=message)
    elif state == Application.State.NEEDS_INFO:
        services.application_request_info(application=application, reviewer=reviewer, message=message)
    application.refresh_from_db()
    return application
