"""Demo step of volunteer intake (academy.demo.DEMO_STEPS): the campaign 武汉社区抗疫志愿者招募 with eight categories,
about 120 fictional applications in every state spread over the reviewers, two teams, a `demo-reviewer` account, and
demo-volunteer's approved application that enrolled them in 志愿者上岗培训.

Runs after the courses step (its courses are required training). Idempotent; notifies nobody. The applicants and the
second reviewer are fictional and have no usable password.
"""
from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from courses.models import CoursePage
from volunteers import services
from volunteers.builders import make_application, make_campaign, make_volunteers_index
from volunteers.models import Application, AuditEntry, CampaignNeed, ReviewerNote, VolunteerCategory

CAMPAIGN_TITLE = "武汉社区抗疫志愿者招募"
CAMPAIGN_SLUG = "wuhan-community-volunteers"
DEMO_REVIEWER = "demo-reviewer"
APPLICANTS = 120

PURPOSE = (
    "<p>封闭管理期间，社区里要做的事一下子多了起来：门岗测温、上门送菜送药、独居老人每日问候、居民信息登记、"
    "楼道消杀，还有不少居民需要有人听他们说说话。</p>"
    "<p>这次招募按类别进行：请选择你能做的事，并如实填写资质和可服务时间。审核通过后，先完成对应的上岗培训，"
    "再由社区编入服务队，每支队伍有一名队长，可以是热心的居民骨干。</p>"
)

# (category, description, headcount, required course slugs)
NEEDS = [
    ("医疗", "有执业资格的医生、护士：健康咨询、慢病用药提醒、发热居民初步问询。", 8, ["volunteer-onboarding"]),
    ("心理", "心理咨询师或受过训练的心理志愿者：电话陪伴，情绪疏导，发现风险及时转介。", 6, ["sanshe-online-practice"]),
    ("社工", "持社工证或有社区工作经验：困难家庭走访、资源链接、协助社区干部。", 6, ["sanshe-online-practice"]),
    ("防控", "门岗值守、出入登记、体温检测、引导居民做好防护。", 20, ["volunteer-onboarding"]),
    ("消杀", "按规范对楼道、电梯和公共区域消毒，做好记录。", 10, ["volunteer-onboarding"]),
    ("物资配送", "团购物资分拣、送菜送药上门，优先照顾独居老人和行动不便的居民。", 25, ["volunteer-onboarding"]),
    ("信息登记", "电话和线上核对居民信息，汇总每日需求，保护好居民隐私。", 10, ["volunteer-onboarding"]),
    ("文艺", "线上读书会、儿童故事、为居民录制短视频，让封闭的日子好过一些。", 4, []),
]

QUESTIONS = [
    {"type": "question", "value": {"text": "为什么想参加这次志愿服务？", "kind": "text", "choices": [], "required": True}},
    {"type": "question", "value": {"text": "能否用智能手机在微信群里接收和反馈任务？", "kind": "single",
                                   "choices": ["能", "需要有人教一下", "不能"], "required": True}},
    {"type": "question", "value": {"text": "过去参加过哪些志愿服务？", "kind": "multiple",
                                   "choices": ["社区防控", "医院陪护", "助老助残", "应急救援", "都没有"], "required": False}},
    {"type": "question", "value": {"text": "能接受夜间或清晨值守吗？", "kind": "scale", "choices": [], "required": True}},
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN = ["建华", "秀英", "志强", "丽娟", "海燕", "晓东", "文静", "国庆", "春梅", "子涵", "浩然", "雨桐", "卫东", "红霞",
         "思远", "佳怡", "明辉", "小芳", "德胜", "婉清", "俊杰", "雪梅", "立新", "欣怡"]
DISTRICTS = {
    "江汉区": ["青枫里社区", "唐家墩社区", "常青花园社区"],
    "江岸区": ["百步亭社区", "花桥社区"],
    "硚口区": ["汉兴街社区", "古田社区"],
    "武昌区": ["中南社区", "首义社区"],
    "洪山区": ["珞南社区"],
}
MOTIVES = [
    "小区里独居老人多，我住得近，可以每天帮忙送菜送药。",
    "我是退休护士，想用自己的专业为邻居做点事。",
    "疫情期间在家办公，时间比较灵活，希望能帮上社区。",
    "之前在社区做过防控志愿者，熟悉流程，愿意继续参加。",
    "学心理学的研究生，想为需要倾诉的居民提供陪伴。",
    "家里有车，可以帮忙运送物资。",
    "看到社区工作人员太辛苦了，想分担一些。",
    "会做短视频和直播，可以帮社区做线上活动。",
]
QUALIFICATIONS_BY_CATEGORY = {
    "医疗": ["doctor", "nurse"], "心理": ["counsellor"], "社工": ["social_worker"], "防控": ["first_aid"],
    "消杀": ["public_health"], "物资配送": ["driver"], "信息登记": [], "文艺": ["teacher"],
}
NEEDS_INFO_MESSAGES = [
    "请补充执业证书照片（可以遮住证件号码）。",
    "请说明每周大约能服务几个小时。",
    "你选择了线下服务，请确认是否住在所选社区附近。",
]
REJECT_REASONS = [
    "这一类别名额已满，欢迎关注下一次招募。",
    "你所在的社区不在本次服务范围内，建议联系所在社区报名。",
    "未满 18 周岁，暂不能参加线下服务，欢迎参加线上活动。",
]
# How the fictional applications end up: state → count (drafts are the applicants' own; claimed ones are in review).
PLAN = [("approved", 46), ("submitted", 30), ("rejected", 14), ("needs_info", 10), ("withdrawn", 8), ("draft", 12)]


def _reviewers(users, log):
    User = get_user_model()
    group = Group.objects.filter(name="Reviewers").first()
    if group is None:  # a flushed (transactional) database: the group and its permissions as the migration makes them
        from importlib import import_module

        from django.apps import apps

        import_module("volunteers.migrations.0002_reviewers_group").create_groups(apps)
        group = Group.objects.get(name="Reviewers")
    reviewer, created = User.objects.update_or_create(
        username=DEMO_REVIEWER,
        defaults={"real_name": "许审核", "role": User.Role.SOCIAL_WORKER, "email": f"{DEMO_REVIEWER}@example.org",
                  "organisation": "汉水桥社会工作服务中心", "city": "武汉"},
    )
    if not reviewer.check_password(settings.DEMO_PASSWORD):
        reviewer.set_password(settings.DEMO_PASSWORD)
        reviewer.save(update_fields=["password"])
    reviewer.groups.set([group])
    users[DEMO_REVIEWER] = reviewer
    if created:
        log("volunteers: demo-reviewer created (Reviewers)")
    helper, _ = User.objects.get_or_create(
        username="demo-reviewer-helper",
        defaults={"real_name": "严审核", "role": User.Role.SOCIAL_WORKER, "organisation": "汉水桥社会工作服务中心"},
    )
    if helper.has_usable_password():
        helper.set_unusable_password()
        helper.save(update_fields=["password"])
    helper.groups.set([group])
    return [reviewer, users.get("demo-organiser") or reviewer, helper]


def _applicant(index: int, rng: random.Random):
    User = get_user_model()
    username = f"demo-applicant-{index:03d}"
    name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
    user, created = User.objects.get_or_create(
        username=username, defaults={"real_name": name, "phone": f"+86139{27000000 + index:08d}", "city": "武汉"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def load_demo(*, users, log):
    reviewers = _reviewers(users, log)
    courses = {c.slug: c for c in CoursePage.objects.filter(slug__in={s for n in NEEDS for s in n[3]})}
    make_volunteers_index()
    today = timezone.localdate()
    campaign = make_campaign(
        title=CAMPAIGN_TITLE, slug=CAMPAIGN_SLUG, purpose=PURPOSE, area="武汉市", community="江汉区、江岸区等 10 个社区",
        starts_on=today - dt.timedelta(days=10), ends_on=today + dt.timedelta(days=50),
        applications_close_at=timezone.now() + dt.timedelta(days=20), questions=QUESTIONS,
        needs=[(name, headcount, [courses[s] for s in slugs if s in courses]) for name, _d, headcount, slugs in NEEDS],
    )
    for name, description, _h, _s in NEEDS:
        VolunteerCategory.objects.filter(name=name, description="").update(description=description)
    if Application.objects.filter(campaign=campaign).count() >= APPLICANTS:
        return
    with services.notifications_muted():
        _volunteer_application(campaign, users, reviewers, log)
        _applications(campaign, reviewers, log)
    log(f"volunteers: {Application.objects.filter(campaign=campaign).count()} applications to “{CAMPAIGN_TITLE}”")


def _volunteer_application(campaign, users, reviewers, log):
    volunteer = users.get("demo-volunteer")
    if volunteer is None:
        return
    delivery = CampaignNeed.objects.get(campaign=campaign, category__name="物资配送")
    registry = CampaignNeed.objects.get(campaign=campaign, category__name="信息登记")
    make_application(
        campaign, volunteer, state=Application.State.APPROVED, reviewer=reviewers[0], need=delivery,
        full_name=volunteer.real_name, phone=volunteer.phone or "13800000001", email=volunteer.email,
        district="江汉区", community="青枫里社区", need_ids=[delivery.pk, registry.pk], qualifications=["driver"],
        qualification_note="家里有一辆小货车，封闭管理前在超市做过配送。", days=["mon", "wed", "sat", "sun"],
        day_parts=["morning", "afternoon"],
    )
    log("volunteers: demo-volunteer approved for 物资配送 (enrolled in 志愿者上岗培训)")


def _applications(campaign, reviewers, log):
    rng = random.Random(20200126)  # the day the call for volunteers went out
    needs = list(CampaignNeed.objects.filter(campaign=campaign).select_related("category").order_by("sort_order"))
    weights = [n.headcount for n in needs]
    districts = list(DISTRICTS.items())
    index = 0
    now = timezone.now()
    approved_by_need = {}
    for state, count in PLAN:
        for _ in range(count):
            index += 1
            user = _applicant(index, rng)
            first = rng.choices(needs, weights=weights)[0]
            second = rng.choice(needs)
            chosen = [first] + ([second] if second != first and rng.random() < 0.4 else [])
            district, communities = districts[index % len(districts)]
            community = communities[index % len(communities)]
            reviewer = reviewers[index % len(reviewers)]
            answers = {}
            for question in campaign.question_list():
                if question["kind"] == "text":
                    answers[question["id"]] = MOTIVES[index % len(MOTIVES)]
                elif question["kind"] == "single":
                    answers[question["id"]] = question["choices"][0 if index % 5 else 1]
                elif question["kind"] == "multiple":
                    answers[question["id"]] = rng.sample(question["choices"][:4], k=1 + index % 2)
                else:
                    answers[question["id"]] = 1 + index % 5
            need = first
            if state == "approved":  # fill categories in order of need, so some stay short of their headcount
                need = next((n for n in chosen if approved_by_need.get(n.pk, 0) < n.headcount), None)
                if need is None:
                    state_here = "rejected"
                else:
                    state_here = "approved"
                    approved_by_need[need.pk] = approved_by_need.get(need.pk, 0) + 1
            else:
                state_here = state
            # A few duplicates for the reviewers to notice: same phone, or same name and community.
            phone = user.phone
            name = user.real_name
            if index in (17, 58):
                phone = "+8613927000005"
            if index in (23, 91):
                name, community, district = "胡建华", "百步亭社区", "江岸区"
            make_application(
                campaign, user, state=state_here, reviewer=reviewer, need=need if state_here == "approved" else None,
                message=(REJECT_REASONS if state_here == "rejected" else NEEDS_INFO_MESSAGES)[index % 3],
                full_name=name, phone=phone, district=district, community=community,
                need_ids=[n.pk for n in chosen],
                qualifications=QUALIFICATIONS_BY_CATEGORY.get(first.category.name, [])[: 1 + index % 2],
                days=rng.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], k=2 + index % 4),
                day_parts=rng.sample(["morning", "afternoon", "evening"], k=1 + index % 2),
                mode=["onsite", "online", "either"][index % 3] if first.category.name in ("心理", "文艺", "信息登记")
                else "onsite",
                answers=answers,
            )
    _spread_in_time(campaign, now, rng)
    _claims_and_notes(campaign, reviewers)
    _teams(campaign, reviewers)


def _spread_in_time(campaign, now, rng):
    """Submissions over the last ten days; decisions a few hours to two days later (for the dashboard)."""
    with transaction.atomic():
        for application in Application.objects.filter(campaign=campaign).exclude(state="draft"):
            submitted = now - dt.timedelta(hours=rng.uniform(12, 240))
            fields = {"submitted_at": submitted, "created_at": submitted - dt.timedelta(minutes=20),
                      "updated_at": submitted}
            if application.decided_at:
                fields["decided_at"] = min(submitted + dt.timedelta(hours=rng.uniform(1, 48)), now)
                fields["updated_at"] = fields["decided_at"]
            Application.objects.filter(pk=application.pk).update(**fields)
            AuditEntry.objects.filter(application=application, action__in=["submitted", "claimed"]).update(at=submitted)
            if "decided_at" in fields:
                AuditEntry.objects.filter(application=application).exclude(
                    action__in=["submitted", "claimed"]).update(at=fields["decided_at"])


def _claims_and_notes(campaign, reviewers):
    waiting = list(Application.objects.filter(campaign=campaign, state="submitted").order_by("pk")[:6])
    for application, reviewer in zip(waiting, [reviewers[1], reviewers[2]] * 3):
        services.claim_take(application=application, reviewer=reviewer)
    first = Application.objects.filter(campaign=campaign, state="submitted").exclude(claim__isnull=False).first()
    if first is not None and not ReviewerNote.objects.filter(application=first).exists():
        services.note_add(application=first, author=reviewers[0],
                          text="电话沟通过，本人很积极，但每周只能来一次，建议安排周末门岗。")


def _teams(campaign, reviewers):
    organiser = reviewers[1]
    approved = list(Application.objects.filter(campaign=campaign, state="approved", team__isnull=True)
                    .select_related("user").order_by("pk"))
    plan = [("青枫里物资配送队", "青枫里社区"), ("百步亭防控一队", "百步亭社区")]
    for name, community in plan:
        members = [a for a in approved if a.community == community][:6]
        if not members:
            continue
        team = campaign.teams.filter(name=name).first() or services.team_create(
            campaign=campaign, name=name, community=community, lead=members[0].user)
        for application in members:
            services.team_assign(application=application, team=team, actor=organiser)
