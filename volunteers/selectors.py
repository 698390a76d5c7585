"""Reads of volunteer intake: who may review, the review queue and its filters, duplicates, pipeline, roster and
dashboard figures."""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from courses.completion import course_report_rows
from volunteers.models import Application, AuditEntry, CampaignNeed, CampaignPage, Claim, ProofFile, Team

REVIEW_PERMISSION = "accounts.review_volunteers"
MANAGE_PERMISSION = "volunteers.manage_volunteers"
REVIEW_GROUPS = ("Organisers", "Reviewers")


def can_review(user) -> bool:
    """Members of Organisers or Reviewers (both groups hold the review permission), and superusers."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or (
        user.has_perm(REVIEW_PERMISSION) and user.groups.filter(name__in=REVIEW_GROUPS).exists()
    )


def can_manage(user) -> bool:
    """Organisers: rosters, dashboards, teams and purges."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(MANAGE_PERMISSION))


# --- Campaigns --------------------------------------------------------------------------------------------------


def campaign_list_open() -> list[CampaignPage]:
    return [c for c in CampaignPage.objects.live().public().order_by("-first_published_at") if c.is_open]


def campaign_list() -> list[CampaignPage]:
    return list(CampaignPage.objects.live().order_by("-first_published_at"))


def campaign_needs(*, campaign: CampaignPage) -> list[dict]:
    """Each category the campaign needs, with its headcount, approved count and required courses."""
    needs = (CampaignNeed.objects.filter(campaign=campaign).select_related("category").prefetch_related("courses")
             .annotate(approved=Count("approved_applications", filter=Q(approved_applications__state="approved")))
             .order_by("sort_order", "pk"))
    return [{"need": need, "category": need.category, "headcount": need.headcount, "approved": need.approved,
             "open": max(need.headcount - need.approved, 0), "courses": [c for c in need.courses.all() if c.live]}
            for need in needs]


def application_of(*, user, campaign: CampaignPage) -> Application | None:
    return Application.objects.filter(user=user, campaign=campaign).first()


def applications_of(*, user):
    return (Application.objects.filter(user=user).select_related("campaign", "approved_need__category", "team")
            .prefetch_related("categories__category").order_by("-updated_at"))


# --- Review queue -----------------------------------------------------------------------------------------------


def duplicate_flags():
    """Annotations that flag an application whose phone, or name and community, another application shares."""
    others = Application.objects.filter(campaign=OuterRef("campaign")).exclude(pk=OuterRef("pk")).exclude(state="draft")
    return {
        "dup_phone": Exists(others.filter(phone=OuterRef("phone")).exclude(phone="")),
        "dup_name": Exists(others.filter(full_name=OuterRef("full_name"), community=OuterRef("community"))
                           .exclude(full_name="")),
    }


@dataclass
class ReviewFilters:
    campaign: int | None = None
    category: int | None = None  # VolunteerCategory id
    state: str = ""
    area: str = ""
    qualification: str = ""
    mine: bool = False


def review_queryset(*, filters: ReviewFilters, reviewer=None):
    qs = Application.objects.exclude(state=Application.State.DRAFT)
    if filters.campaign:
        qs = qs.filter(campaign_id=filters.campaign)
    if filters.category:
        qs = qs.filter(categories__category_id=filters.category)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.area:
        qs = qs.filter(Q(district__icontains=filters.area) | Q(community__icontains=filters.area))
    if filters.qualification:
        qs = qs.filter(qualifications__contains=[filters.qualification]) if _json_contains_supported() else \
            qs.filter(qualifications__icontains=f'"{filters.qualification}"')
    if filters.mine and reviewer is not None:
        qs = qs.filter(claim__reviewer=reviewer, claim__expires_at__gt=timezone.now())
    return qs.distinct()


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def review_list(*, filters: ReviewFilters, reviewer=None, limit: int = 200):
    now = timezone.now()
    active_claims = Claim.objects.filter(expires_at__gt=now).select_related("reviewer")
    return list(
        review_queryset(filters=filters, reviewer=reviewer)
        .select_related("campaign", "user", "approved_need__category")
        .prefetch_related("categories__category", Prefetch("proofs", queryset=ProofFile.objects.only("id", "application_id")))
        .annotate(**duplicate_flags())
        .annotate(claimed_by=Exists(active_claims.filter(application=OuterRef("pk"))))
        .order_by("submitted_at", "id")[:limit]
    )


def active_claim(application: Application) -> Claim | None:
    return Claim.objects.filter(application=application, expires_at__gt=timezone.now()).select_related("reviewer").first()


def duplicates_of(application: Application) -> list[Application]:
    if not application.phone and not application.full_name:
        return []
    match = Q()
    if application.phone:
        match |= Q(phone=application.phone)
    if application.full_name and application.community:
        match |= Q(full_name=application.full_name, community=application.community)
    return list(Application.objects.filter(match, campaign=application.campaign).exclude(pk=application.pk)
                .exclude(state="draft").select_related("user"))


# --- Pipeline, roster, dashboard --------------------------------------------------------------------------------

STAGES = ["applied", "in_review", "approved", "in_training", "certified", "assigned"]


def _training_by_user(campaign: CampaignPage) -> dict:
    """{(user_id, course_id): (percent, completed)} for the courses the campaign's categories require."""
    from courses.models import CoursePage

    course_ids = set(CampaignNeed.courses.through.objects.filter(campaignneed__campaign=campaign)
                     .values_list("coursepage_id", flat=True))
    result = {}
    for course in CoursePage.objects.filter(pk__in=course_ids):
        for row in course_report_rows(course=course):
            result[(row.enrolment.user_id, course.pk)] = (row.percent, row.completed_at is not None)
    return result


def _stage(application, training: dict) -> str:
    if application.state in (Application.State.SUBMITTED,):
        return "applied"
    if application.state == Application.State.NEEDS_INFO:
        return "in_review"
    if application.state != Application.State.APPROVED:
        return ""
    if application.team_id:
        return "assigned"
    courses = [c.pk for c in application.approved_need.courses.all()] if application.approved_need else []
    facts = [training.get((application.user_id, course_id)) for course_id in courses]
    if courses and all(f and f[1] for f in facts):
        return "certified"
    if any(f for f in facts):
        return "in_training"
    return "approved"


def pipeline(*, campaign: CampaignPage) -> dict:
    """Counts per stage, overall and per category and per area (district)."""
    training = _training_by_user(campaign)
    now = timezone.now()
    claimed = set(Claim.objects.filter(application__campaign=campaign, expires_at__gt=now)
                  .values_list("application_id", flat=True))
    apps = list(Application.objects.filter(campaign=campaign).exclude(state="draft")
                .select_related("approved_need__category").prefetch_related("categories__category",
                                                                            "approved_need__courses"))
    overall, by_category, by_area = Counter(), defaultdict(Counter), defaultdict(Counter)
    for app in apps:
        stage = _stage(app, training)
        if stage == "applied" and app.pk in claimed:
            stage = "in_review"
        if not stage:
            overall[app.state] += 1
            continue
        overall[stage] += 1
        by_area[app.district or "—"][stage] += 1
        if app.approved_need is not None:
            by_category[app.approved_need.category.name][stage] += 1
        else:
            for need in app.categories.all():
                by_category[need.category.name][stage] += 1
    return {"overall": overall, "by_category": dict(by_category), "by_area": dict(sorted(by_area.items()))}


def dashboard(*, campaign: CampaignPage) -> dict:
    needs = campaign_needs(campaign=campaign)
    flow = pipeline(campaign=campaign)
    decided = (Application.objects.filter(campaign=campaign, decided_at__isnull=False, submitted_at__isnull=False)
               .values_list("submitted_at", "decided_at"))
    hours = sorted((d - s).total_seconds() / 3600 for s, d in decided if d >= s)
    workload = (AuditEntry.objects.filter(application__campaign=campaign, action__in=["approved", "rejected", "needs_info"])
                .values("actor__username", "actor__real_name").annotate(decisions=Count("id")).order_by("-decisions"))
    claims = dict(Claim.objects.filter(application__campaign=campaign, expires_at__gt=timezone.now())
                  .values("reviewer__username").annotate(n=Count("id")).values_list("reviewer__username", "n"))
    reviewers = [{"name": w["actor__real_name"] or w["actor__username"] or "—", "decisions": w["decisions"],
                  "claims": claims.get(w["actor__username"], 0)} for w in workload]
    funnel = []
    for item in needs:
        counts = flow["by_category"].get(item["category"].name, Counter())
        funnel.append({"category": item["category"].name, "headcount": item["headcount"],
                       "stages": [counts.get(stage, 0) for stage in STAGES], "short": item["open"]})
    return {
        "needs": needs,
        "funnel": funnel,
        "funnel_bars": _bars(funnel),
        "overall": [flow["overall"].get(stage, 0) for stage in STAGES],
        "rejected": flow["overall"].get("rejected", 0),
        "withdrawn": flow["overall"].get("withdrawn", 0),
        "by_area": [(area, [counts.get(stage, 0) for stage in STAGES]) for area, counts in flow["by_area"].items()],
        "svg_height": max(len(funnel) * 30, 30),
        "decision_hours": {
            "count": len(hours),
            "median": round(statistics.median(hours), 1) if hours else None,
            "p90": round(hours[min(len(hours) - 1, int(len(hours) * 0.9))], 1) if hours else None,
        },
        "reviewers": reviewers,
        "short": [f for f in funnel if f["short"] > 0],
    }


def _bars(funnel: list[dict], width: int = 200) -> list[dict]:
    """Geometry of the inline SVG: for each category a bar of approved (and later stages) against the headcount."""
    biggest = max([f["headcount"] for f in funnel] + [sum(f["stages"]) for f in funnel] + [1])
    bars = []
    for index, f in enumerate(funnel):
        approved = sum(f["stages"][2:])
        bars.append({"y": index * 30, "label": f["category"], "headcount_w": round(width * f["headcount"] / biggest),
                     "approved_w": round(width * approved / biggest), "approved": approved,
                     "headcount": f["headcount"]})
    return bars


def roster(*, campaign: CampaignPage) -> list[list]:
    """Approved volunteers with their team, training progress and certificate numbers (for the exporter)."""
    from courses.certificates.models import Certificate

    training = _training_by_user(campaign)
    apps = list(Application.objects.filter(campaign=campaign, state=Application.State.APPROVED)
                .select_related("user", "approved_need__category", "team__lead")
                .prefetch_related("approved_need__courses").order_by("community", "full_name"))
    certificates = defaultdict(list)
    for holder_id, course_id, number in Certificate.objects.filter(
        holder_id__in=[a.user_id for a in apps], status=Certificate.Status.VALID
    ).values_list("holder_id", "course_id", "number"):
        certificates[(holder_id, course_id)].append(number)
    rows = []
    for app in apps:
        courses = list(app.approved_need.courses.all()) if app.approved_need else []
        progress = "; ".join(f"{c.title} {training.get((app.user_id, c.pk), (0, False))[0]}%" for c in courses)
        numbers = "; ".join(n for c in courses for n in certificates.get((app.user_id, c.pk), []))
        rows.append([app.full_name, app.phone, app.email, app.approved_need.category.name if app.approved_need else "",
                     app.district, app.community, app.team.name if app.team else "",
                     (app.team.lead.display_name if app.team and app.team.lead else ""),
                     progress, numbers, _stage(app, training), app.decided_at])
    return rows


def teams_led_by(*, user) -> list[dict]:
    """The teams `user` leads, with their members' names and phones (a lead calls their team)."""
    teams = Team.objects.filter(lead=user).select_related("campaign").order_by("campaign__title", "name")
    return [{"team": team, "members": list(team.members.filter(state=Application.State.APPROVED)
                                           .order_by("full_name").values("full_name", "phone"))}
            for team in teams]


def teams_of(*, campaign: CampaignPage):
    return Team.objects.filter(campaign=campaign).select_related("lead").annotate(size=Count("members"))
