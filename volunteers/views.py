"""Views of volunteer intake. Thin: permissions from selectors, writes through services.

/volunteers/ and /volunteers/<slug>/ are Wagtail pages; the rest are here (volunteers.urls):
apply, my applications, the review queue and an application's review page, proofs, roster, dashboard and teams.
"""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from academy import ratelimit
from academy.accounts.backends import SESSION_BACKEND
from academy.exports import Table, csv_response, xlsx_response
from volunteers import selectors, services
from volunteers.forms import AccountForm, ApplyForm, ReviewFilterForm, TeamForm
from volunteers.models import Application, CampaignNeed, CampaignPage, ProofFile, Team, VolunteerCategory

ACCOUNT_RATE_LIMIT = 10  # new accounts per client address per hour
ERROR_TOO_MANY = _("Too many attempts: wait a while and try again.")


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _campaign(slug: str) -> CampaignPage:
    campaign = CampaignPage.objects.live().public().filter(slug=slug).first()
    if campaign is None:
        raise Http404
    return campaign


def _require_reviewer(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.can_review(request.user):
        raise PermissionDenied
    return None


def _require_manager(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.can_manage(request.user):
        raise PermissionDenied
    return None


# --- Applying ---------------------------------------------------------------------------------------------------


def apply(request, slug):
    campaign = _campaign(slug)
    needs = selectors.campaign_needs(campaign=campaign)
    if not request.user.is_authenticated:
        return _apply_account(request, campaign)
    application = selectors.application_of(user=request.user, campaign=campaign)
    context = {"page": campaign, "campaign": campaign, "application": application, "needs": needs}
    if not campaign.is_open and (application is None or not application.is_editable):
        messages.error(request, services.ERROR_CAMPAIGN_CLOSED)
        return redirect(campaign.url)
    if application is not None and not application.is_editable:
        return redirect("volunteers:my")
    if request.method == "POST":
        form = ApplyForm(request.POST, request.FILES, campaign=campaign, needs=needs)
        submit = request.POST.get("action") == "submit"
        if form.is_valid():
            data = services.ApplicationData(
                **{k: form.cleaned_data.get(k) or v for k, v in services.ApplicationData().__dict__.items()
                   if k not in ("answers", "consent", "proofs")},
                answers=form.answers(), consent=bool(form.cleaned_data.get("consent")),
                proofs=form.cleaned_data.get("proofs") or [],
            )
            try:
                services.application_save(campaign=campaign, user=request.user, data=data, submit=submit)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.message_dict.items():
                        target = name if name in form.fields else None
                        for error in errors:
                            form.add_error(target, error)
                else:
                    form.add_error(None, exc)
            else:
                if submit:
                    messages.success(request, _("Your application is submitted. We will tell you the result by SMS."))
                    return redirect("volunteers:my")
                messages.success(request, _("Draft saved. You can come back and finish it later."))
                return redirect("volunteers:apply", slug=campaign.slug)
    else:
        form = ApplyForm(initial=ApplyForm.initial_from(application, request.user), campaign=campaign, needs=needs)
    context.update({"form": form, "proofs": list(application.proofs.all()) if application else []})
    return TemplateResponse(request, "volunteers/apply.html", context, status=400 if form.errors else 200)


def _apply_account(request, campaign):
    """Not signed in: log in, or create an account (phone + password) and continue to the form."""
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.hit(f"volunteers:account:{ratelimit.client_ip(request)}", limit=ACCOUNT_RATE_LIMIT, window=3600):
            form.add_error(None, ERROR_TOO_MANY)
        else:
            try:
                user = services.applicant_account_create(**form.cleaned_data)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                login(request, user, backend=SESSION_BACKEND)
                messages.success(request, _("Your account is ready. Now fill in the application."))
                return redirect("volunteers:apply", slug=campaign.slug)
    login_url = f"{reverse('accounts:login')}?next={reverse('volunteers:apply', args=[campaign.slug])}"
    phone_in_use = any(str(services.ERROR_PHONE_IN_USE) in e for e in form.errors.get("phone", []))
    return TemplateResponse(request, "volunteers/apply_account.html",
                            {"page": campaign, "campaign": campaign, "form": form, "login_url": login_url,
                             "phone_in_use": phone_in_use},
                            status=400 if form.errors else 200)


def my_applications(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return TemplateResponse(request, "volunteers/my.html", {
        "applications": selectors.applications_of(user=request.user),
        "led_teams": selectors.teams_led_by(user=request.user),
    })


def _own_application(request, pk) -> Application:
    application = get_object_or_404(Application, pk=pk)
    if application.user_id != request.user.pk:
        raise Http404
    return application


@require_POST
def withdraw(request, pk):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("volunteers:my"))
    services.application_withdraw(application=_own_application(request, pk), user=request.user)
    messages.success(request, _("Your application is withdrawn."))
    return redirect("volunteers:my")


@require_POST
def delete(request, pk):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("volunteers:my"))
    services.application_delete(application=_own_application(request, pk), user=request.user)
    messages.success(request, _("Your application and its files are deleted."))
    return redirect("volunteers:my")


# --- Review -----------------------------------------------------------------------------------------------------


def _filters(request):
    form = ReviewFilterForm(request.GET or None, campaigns=selectors.campaign_list(),
                            categories=VolunteerCategory.objects.all())
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ReviewFilters(
        campaign=data.get("campaign"), category=data.get("category"), state=data.get("state") or "",
        area=data.get("area") or "", qualification=data.get("qualification") or "",
    )
    if not request.GET:
        filters.state = Application.State.SUBMITTED
        form = ReviewFilterForm(initial={"state": "submitted"}, campaigns=selectors.campaign_list(),
                                categories=VolunteerCategory.objects.all())
    return form, filters


def review_list(request):
    if (response := _require_reviewer(request)) is not None:
        return response
    form, filters = _filters(request)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit() and len(i) < 12]
        queryset = selectors.review_queryset(filters=filters).filter(state=Application.State.SUBMITTED)
        if request.POST.get("scope") != "all":
            queryset = queryset.filter(pk__in=ids)
        approved, skipped = services.applications_bulk_approve(reviewer=request.user, applications=list(queryset[:500]))
        messages.success(request, _("%(approved)d approved, %(skipped)d skipped (held by another reviewer or not waiting).")
                         % {"approved": approved, "skipped": skipped})
        return redirect(request.get_full_path())
    applications = selectors.review_list(filters=filters)
    return TemplateResponse(request, "volunteers/review_list.html", {
        "form": form, "applications": applications, "query": request.GET.urlencode(),
    })


@require_POST
def review_next(request):
    if (response := _require_reviewer(request)) is not None:
        return response
    return _claim_next_and_go(request)


def _claim_next_and_go(request):
    _form, filters = _filters(request)
    application = services.claim_next(reviewer=request.user, queryset=selectors.review_queryset(filters=filters))
    if application is None:
        messages.info(request, _("Nothing is waiting for review."))
        return redirect(reverse("volunteers:review") + ("?" + request.GET.urlencode() if request.GET else ""))
    url = reverse("volunteers:review_detail", args=[application.pk])
    return redirect(url + ("?" + request.GET.urlencode() if request.GET else ""))


def review_detail(request, pk):
    if (response := _require_reviewer(request)) is not None:
        return response
    application = get_object_or_404(Application.objects.select_related("campaign", "user", "approved_need__category"), pk=pk)
    if application.state == Application.State.DRAFT:
        raise Http404
    if request.method == "POST":
        return _review_action(request, application)
    return TemplateResponse(request, "volunteers/review_detail.html", {
        "application": application,
        "claim": selectors.active_claim(application),
        "duplicates": selectors.duplicates_of(application),
        "needs": application.categories.select_related("category").order_by("sort_order", "pk"),
        "answers": _answer_rows(application),
        "notes": application.notes.select_related("author"),
        "audit": application.audit.select_related("actor"),
        "proofs": application.proofs.all(),
        "query": request.GET.urlencode(),
    })


def _answer_rows(application):
    answers = application.answers or {}
    rows = []
    for question in application.campaign.question_list():
        value = answers.get(question["id"])
        if isinstance(value, list):
            value = "、".join(value)
        rows.append({"question": question["text"], "answer": "" if value is None else value})
    return rows


def _review_action(request, application):
    action = request.POST.get("action", "")
    back = reverse("volunteers:review_detail", args=[application.pk])
    query = request.GET.urlencode()
    try:
        if action == "claim":
            services.claim_take(application=application, reviewer=request.user)
        elif action == "release":
            services.claim_release(application=application, reviewer=request.user)
        elif action == "approve":
            need = None
            if request.POST.get("need", "").isdigit():
                need = CampaignNeed.objects.filter(pk=int(request.POST["need"][:12]),
                                                   campaign_id=application.campaign_id).first()
            services.application_approve(application=application, reviewer=request.user, need=need)
            messages.success(request, _("Approved; the volunteer is enrolled in the required training."))
        elif action == "reject":
            services.application_reject(application=application, reviewer=request.user,
                                        reason=request.POST.get("message", ""))
            messages.success(request, _("Rejected; the applicant is told the reason."))
        elif action == "needs_info":
            services.application_request_info(application=application, reviewer=request.user,
                                              message=request.POST.get("message", ""))
            messages.success(request, _("The applicant is asked for more information."))
        elif action == "note":
            services.note_add(application=application, author=request.user, text=request.POST.get("note", ""))
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
        return redirect(back + ("?" + query if query else ""))
    if action in ("approve", "reject", "needs_info") and request.POST.get("then") == "next":
        return _claim_next_and_go(request)
    return redirect(back + ("?" + query if query else ""))


def proof(request, pk):
    if (response := _require_reviewer(request)) is not None:
        return response
    proof = get_object_or_404(ProofFile, pk=pk)
    try:
        handle = proof.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=proof.content_type, as_attachment=False,
                            filename=f"proof-{proof.pk}{proof.extension}")
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# --- Organisers: roster, dashboard, teams -----------------------------------------------------------------------


def roster(request, slug, fmt):
    if (response := _require_manager(request)) is not None:
        return response
    campaign = _campaign(slug)
    names = dict(stage_names())
    rows = selectors.roster(campaign=campaign)
    for row in rows:
        row[10] = names.get(row[10], row[10])
    table = Table(title=_("Roster"), headers=[str(h) for h in roster_headers()], rows=rows)
    filename = f"roster-{campaign.slug}"
    return csv_response(table, filename=filename) if fmt == "csv" else xlsx_response(table, filename=filename)


def roster_headers():
    return [_("Full name"), _("Mobile phone"), _("E-mail"), _("Category"), _("District"), _("Community"),
            _("Team"), _("Team lead"), _("Training progress"), _("Certificate numbers"), _("Stage"),
            _("Approved at")]


def stage_names():
    return [("applied", _("Applied")), ("in_review", _("In review")), ("approved", _("Accepted")),
            ("in_training", _("In training")), ("certified", _("Certified")), ("assigned", _("Assigned"))]


def dashboard(request, slug):
    if (response := _require_manager(request)) is not None:
        return response
    campaign = _campaign(slug)
    if request.method == "POST" and request.POST.get("action") == "purge":
        try:
            count = services.campaign_purge(campaign=campaign, actor=request.user)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
        else:
            messages.success(request, _("%(count)d rejected or withdrawn applications deleted.") % {"count": count})
        return redirect("volunteers:dashboard", slug=slug)
    data = selectors.dashboard(campaign=campaign)
    return TemplateResponse(request, "volunteers/dashboard.html", {
        "campaign": campaign, "data": data, "stages": stage_names(),
        "overall": list(zip([name for _k, name in stage_names()], data["overall"])),
    })


def teams(request, slug):
    if (response := _require_manager(request)) is not None:
        return response
    campaign = _campaign(slug)
    approved = list(Application.objects.filter(campaign=campaign, state=Application.State.APPROVED)
                    .select_related("user", "team", "approved_need__category").order_by("community", "full_name"))
    form = TeamForm(request.POST or None)
    form.fields["lead"].choices = [("", "—")] + [(a.user_id, f"{a.full_name}（{a.community}）") for a in approved]
    if request.method == "POST":
        try:
            if request.POST.get("action") == "assign":
                application = get_object_or_404(Application, pk=_int(request.POST.get("application")), campaign=campaign)
                team_id = _int(request.POST.get("team"))
                team = Team.objects.filter(pk=team_id, campaign=campaign).first() if team_id else None
                services.team_assign(application=application, team=team, actor=request.user)
                return redirect("volunteers:teams", slug=slug)
            if form.is_valid():
                lead = next((a.user for a in approved if a.user_id == form.cleaned_data["lead"]), None)
                services.team_create(campaign=campaign, name=form.cleaned_data["name"],
                                     community=form.cleaned_data["community"], lead=lead)
                messages.success(request, _("Team created."))
                return redirect("volunteers:teams", slug=slug)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
    return TemplateResponse(request, "volunteers/teams.html", {
        "campaign": campaign, "form": form, "teams": selectors.teams_of(campaign=campaign), "approved": approved,
    })


def _int(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 12 else None
