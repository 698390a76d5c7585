"""Writes of volunteer intake. Every transition checks, writes the new state and an audit row in one transaction, and
notifies after commit (check → do → notify).

Claims: a reviewer decides an application only while holding its claim (a Claim row with an expiry, one per
application). Taking one locks the application row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE
transaction already holds the database's write lock), so two reviewers never hold the same application; "next"
skips rows another reviewer is locking (skip_locked). An expired claim is simply taken over.
"""
from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from academy.accounts.phones import phone_normalise
from academy.notifications import notify
from academy.text import text_clean, text_is_blank
from courses.models import Enrolment
from courses.services import enrolment_create
from volunteers.models import (
    Application, AuditEntry, CampaignNeed, CampaignPage, Claim, DayPart, Mode, ProofFile, Qualification,
    ReviewerNote, Team, Weekday,
)

CLAIM_MINUTES = 20
MAX_PROOFS = 3
MAX_PROOF_BYTES = 5 * 1024 * 1024
MAX_ANSWER_CHARS = 500

ERROR_PHONE_IN_USE = _("This phone number already has an account. Log in with it instead.")
ERROR_EMAIL_IN_USE = _("This e-mail address already has an account. Log in with it instead.")
ERROR_CAMPAIGN_CLOSED = _("This campaign is not taking applications.")
ERROR_NOT_EDITABLE = _("This application can no longer be changed.")
ERROR_CONSENT = _("Read the privacy notice and agree to it to submit.")
ERROR_NO_CATEGORY = _("Choose at least one category.")
ERROR_BAD_CATEGORY = _("One of the categories is not part of this campaign.")
ERROR_BAD_CHOICE = _("One of the choices is not on the list.")
ERROR_REQUIRED = _("Please fill in this field.")
ERROR_ANSWER_REQUIRED = _("Answer every required question.")
ERROR_ANSWER_INVALID = _("One of the answers is not valid.")
ERROR_PROOF_TYPE = _("Proof files must be PDF, JPEG, PNG or WebP.")
ERROR_PROOF_SIZE = _("A proof file may be at most 5 MB.")
ERROR_TOO_MANY_PROOFS = _("At most 3 proof files per application.")
ERROR_NOT_DECIDABLE = _("This application is not waiting for a decision.")
ERROR_CLAIMED_BY_OTHER = _("Another reviewer is deciding this application.")
ERROR_REASON_REQUIRED = _("Give a reason the applicant will read.")
ERROR_NOT_YOURS = _("This is not your application.")
ERROR_CAMPAIGN_OPEN = _("Close the campaign before purging its applications.")
ERROR_NOT_APPROVED = _("Only approved volunteers join teams.")
ERROR_TEAM_CAMPAIGN = _("The team belongs to another campaign.")


def _now():
    return timezone.now()


def _audit(application, actor, action, detail=""):
    AuditEntry.objects.create(application=application, actor=actor, action=action, detail=detail)


_muted = threading.local()


@contextmanager
def notifications_muted():
    """Transitions inside this block notify nobody (the demo builds hundreds of fictional applications)."""
    _muted.on = True
    try:
        yield
    finally:
        _muted.on = False


def _notify_after_commit(application: Application, template: str, **extra):
    if getattr(_muted, "on", False):
        return
    context = {"application_id": application.pk, "campaign_title": application.campaign.title,
               "name": application.full_name, "message": application.message, **extra}
    email, phone = application.email or None, application.phone or None
    transaction.on_commit(lambda: notify(template=f"volunteers/{template}", context=context, email=email, phone=phone))


# --- Accounts (the apply flow's "create an account") ------------------------------------------------------------


def applicant_account_create(*, phone: str, password: str, real_name: str, email: str = ""):
    """A new account for an applicant: the phone number (E.164) is the username; a number in use is refused."""
    User = get_user_model()
    number = phone_normalise(phone)
    name = text_clean(real_name)[:60]
    email = (email or "").strip()
    if email:
        validate_email(email)
    if User.objects.filter(phone=number).exists() or User.objects.filter(username=number).exists():
        raise ValidationError({"phone": ERROR_PHONE_IN_USE})
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ERROR_EMAIL_IN_USE})
    user = User(username=number, phone=number, real_name=name, email=email, role=User.Role.VOLUNTEER)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"phone": ERROR_PHONE_IN_USE}) from None
    return user


# --- Applying ---------------------------------------------------------------------------------------------------


@dataclass
class ApplicationData:
    """What an applicant typed, before checking (the form's cleaned data or a test's dict)."""

    full_name: str = ""
    phone: str = ""
    email: str = ""
    district: str = ""
    community: str = ""
    need_ids: list = field(default_factory=list)
    qualifications: list = field(default_factory=list)
    qualification_note: str = ""
    days: list = field(default_factory=list)
    day_parts: list = field(default_factory=list)
    mode: str = ""
    answers: dict = field(default_factory=dict)
    consent: bool = False
    proofs: list = field(default_factory=list)  # UploadedFile objects


def _clean_text(value, *, max_length, multiline=False):
    text = text_clean(value or "", multiline=multiline, required=False)
    return text[:max_length]


def _clean_choices(values, choices) -> list:
    allowed = {value for value, _label in choices}
    values = list(dict.fromkeys(str(v) for v in (values or [])))
    if any(v not in allowed for v in values):
        raise ValidationError(ERROR_BAD_CHOICE)
    return values


def clean_answers(campaign: CampaignPage, answers: dict, *, complete: bool) -> dict:
    """Answers keyed by question id: text (≤ 500 characters), one choice, a list of choices, or 1–5."""
    cleaned = {}
    for question in campaign.question_list():
        raw = (answers or {}).get(question["id"])
        kind = question["kind"]
        if kind == "text":
            value = _clean_text(raw if isinstance(raw, str) else "", max_length=MAX_ANSWER_CHARS, multiline=True)
        elif kind == "single":
            value = raw if isinstance(raw, str) else ""
            if value and value not in question["choices"]:
                raise ValidationError(ERROR_ANSWER_INVALID)
        elif kind == "multiple":
            value = list(dict.fromkeys(raw)) if isinstance(raw, (list, tuple)) else []
            if any(v not in question["choices"] for v in value):
                raise ValidationError(ERROR_ANSWER_INVALID)
        else:  # scale
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if isinstance(raw, str) and raw.strip():
                value = int(raw) if raw.strip() in {"1", "2", "3", "4", "5"} else -1
            if value is not None and not 1 <= value <= 5:
                raise ValidationError(ERROR_ANSWER_INVALID)
        if complete and question["required"] and value in ("", [], None):
            raise ValidationError(ERROR_ANSWER_REQUIRED)
        if value not in ("", [], None):
            cleaned[question["id"]] = value
    return cleaned


def sniff_content_type(head: bytes) -> str | None:
    """The type of a file judged by its first bytes (never by its name or the browser's claim)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check_proof(upload) -> str:
    if upload.size is None or upload.size > MAX_PROOF_BYTES:
        raise ValidationError(ERROR_PROOF_SIZE)
    upload.seek(0)
    kind = sniff_content_type(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise ValidationError(ERROR_PROOF_TYPE)
    return kind


def application_save(*, campaign: CampaignPage, user, data: ApplicationData, submit: bool) -> Application:
    """Create or update `user`'s application to `campaign`; `submit` sends it for review (all checks apply)."""
    if not campaign.is_open:
        raise ValidationError(ERROR_CAMPAIGN_CLOSED)
    errors = {}

    def check(name, func):
        try:
            return func()
        except ValidationError as exc:
            errors[name] = exc.messages
            return None

    full_name = check("full_name", lambda: _clean_text(data.full_name, max_length=60))
    phone = ""
    if data.phone:
        phone = check("phone", lambda: phone_normalise(data.phone)) or ""
    email = (data.email or "").strip()
    if email:
        check("email", lambda: validate_email(email))
    district = check("district", lambda: _clean_text(data.district, max_length=40))
    community = check("community", lambda: _clean_text(data.community, max_length=80))
    note = check("qualification_note", lambda: _clean_text(data.qualification_note, max_length=1000, multiline=True))
    qualifications = check("qualifications", lambda: _clean_choices(data.qualifications, Qualification.choices))
    days = check("days", lambda: _clean_choices(data.days, Weekday.choices))
    day_parts = check("day_parts", lambda: _clean_choices(data.day_parts, DayPart.choices))
    mode = data.mode or ""
    if mode and mode not in Mode.values:
        errors["mode"] = [str(ERROR_BAD_CHOICE)]
    needs = {need.pk: need for need in CampaignNeed.objects.filter(campaign=campaign)}
    try:
        need_ids = list(dict.fromkeys(int(i) for i in data.need_ids or []))
    except (TypeError, ValueError):
        need_ids = [-1]
    if any(i not in needs for i in need_ids):
        errors["need_ids"] = [str(ERROR_BAD_CATEGORY)]
    answers = check("answers", lambda: clean_answers(campaign, data.answers, complete=submit))
    proofs = list(data.proofs or [])
    proof_types = [check("proofs", lambda upload=upload: _check_proof(upload)) for upload in proofs]

    if submit:
        for name, value in [("full_name", full_name), ("phone", phone), ("district", district),
                            ("community", community), ("mode", mode)]:
            if not value and name not in errors:
                errors[name] = [str(ERROR_REQUIRED)]
        if not need_ids and "need_ids" not in errors:
            errors["need_ids"] = [str(ERROR_NO_CATEGORY)]
        if not days and "days" not in errors:
            errors["days"] = [str(ERROR_REQUIRED)]
        if not data.consent:
            errors["consent"] = [str(ERROR_CONSENT)]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        application = (
            Application.objects.select_for_update().filter(campaign=campaign, user=user).first()
            or Application(campaign=campaign, user=user)
        )
        if application.pk and not application.is_editable:
            raise ValidationError(ERROR_NOT_EDITABLE)
        if len(proofs) + (application.proofs.count() if application.pk else 0) > MAX_PROOFS:
            raise ValidationError({"proofs": [str(ERROR_TOO_MANY_PROOFS)]})
        was_needs_info = application.state == Application.State.NEEDS_INFO
        application.full_name, application.phone, application.email = full_name, phone, email
        application.district, application.community = district, community
        application.qualifications, application.qualification_note = qualifications, note
        application.days, application.day_parts, application.mode = days, day_parts, mode
        application.answers = answers
        application.updated_at = _now()
        if data.consent and application.consented_at is None:
            application.consented_at = _now()
        if submit:
            application.state = Application.State.SUBMITTED
            application.submitted_at = _now()
            application.message = ""
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:  # a second tab or a double click created it first
            raise ValidationError(ERROR_NOT_EDITABLE) from None
        application.categories.set([needs[i] for i in need_ids])
        for upload, kind in zip(proofs, proof_types):
            proof = ProofFile(application=application, original_name=_clean_text(upload.name, max_length=120) or "proof",
                              content_type=kind, size=upload.size)
            proof.file.save("proof", upload, save=False)
            proof.save()
        if submit:
            _audit(application, user,
                   AuditEntry.Action.RESUBMITTED if was_needs_info else AuditEntry.Action.SUBMITTED)
            _notify_after_commit(application, "submitted")
    return application


def application_withdraw(*, application: Application, user) -> Application:
    if application.user_id != user.pk:
        raise PermissionDenied(ERROR_NOT_YOURS)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.state == Application.State.WITHDRAWN:
            return application
        application.state = Application.State.WITHDRAWN
        application.updated_at = _now()
        application.save(update_fields=["state", "updated_at"])
        Claim.objects.filter(application=application).delete()
        _audit(application, user, AuditEntry.Action.WITHDRAWN)
    return application


def application_delete(*, application: Application, user) -> None:
    """The applicant deletes their application: its answers, proofs (files too), notes and audit trail go with it."""
    if application.user_id != user.pk:
        raise PermissionDenied(ERROR_NOT_YOURS)
    with transaction.atomic():
        application.delete()


def proof_delete(*, proof: ProofFile, user) -> None:
    if proof.application.user_id != user.pk:
        raise PermissionDenied(ERROR_NOT_YOURS)
    if not proof.application.is_editable:
        raise ValidationError(ERROR_NOT_EDITABLE)
    proof.delete()


# --- Review -----------------------------------------------------------------------------------------------------


def _lock(application_id: int) -> Application:
    return Application.objects.select_for_update().select_related("campaign").get(pk=application_id)


def _hold_claim(application: Application, reviewer, now) -> bool:
    """Inside a transaction holding the application's lock: give `reviewer` its claim. True when newly taken."""
    if application.state != Application.State.SUBMITTED:
        raise ValidationError(ERROR_NOT_DECIDABLE)
    expires = now + dt.timedelta(minutes=CLAIM_MINUTES)
    claim = Claim.objects.filter(application=application).first()
    if claim is not None and claim.expires_at > now and claim.reviewer_id != reviewer.pk:
        raise ValidationError(ERROR_CLAIMED_BY_OTHER, code="claimed")
    if claim is not None:
        taken = claim.reviewer_id != reviewer.pk or claim.expires_at <= now
        Claim.objects.filter(pk=claim.pk).update(reviewer=reviewer, claimed_at=now, expires_at=expires)
    else:
        Claim.objects.create(application=application, reviewer=reviewer, claimed_at=now, expires_at=expires)
        taken = True
    if taken:
        _audit(application, reviewer, AuditEntry.Action.CLAIMED)
    return taken


def claim_take(*, application: Application, reviewer) -> Application:
    """`reviewer` claims `application` (or renews their claim); refused while another reviewer's claim is active."""
    try:
        with transaction.atomic():
            locked = _lock(application.pk)
            _hold_claim(locked, reviewer, _now())
    except IntegrityError:  # another transaction created the claim between our read and our insert
        raise ValidationError(ERROR_CLAIMED_BY_OTHER, code="claimed") from None
    return locked


def claim_next(*, reviewer, queryset=None) -> Application | None:
    """Claim the oldest submitted application nobody holds (within `queryset`, e.g. the reviewer's filters)."""
    # The filters may join (categories) and use DISTINCT, which FOR UPDATE refuses: lock the rows by key instead.
    base = Application.objects.filter(pk__in=queryset.values("pk")) if queryset is not None else Application.objects.all()
    for _attempt in range(5):
        now = _now()
        candidates = (base.filter(state=Application.State.SUBMITTED)
                      .exclude(claim__expires_at__gt=now).order_by("submitted_at", "id"))
        try:
            with transaction.atomic():
                if connection.features.has_select_for_update_skip_locked:
                    candidates = candidates.select_for_update(skip_locked=True, of=("self",))
                application = candidates.first()
                if application is None:
                    return None
                _hold_claim(application, reviewer, now)
                return application
        except (ValidationError, IntegrityError):
            continue  # someone claimed it between our read and our lock: try the next one
    return None


def claim_release(*, application: Application, reviewer) -> None:
    with transaction.atomic():
        deleted, _ = Claim.objects.filter(application=application, reviewer=reviewer).delete()
        if deleted:
            _audit(application, reviewer, AuditEntry.Action.RELEASED)


def _decide(application_id: int, reviewer, state: str, message: str = "", need: CampaignNeed | None = None):
    now = _now()
    application = _lock(application_id)
    _hold_claim(application, reviewer, now)
    application.state = state
    application.message = message
    application.decided_at = now if state != Application.State.NEEDS_INFO else None
    application.decided_by = reviewer
    application.approved_need = need
    application.updated_at = now
    application.save(update_fields=["state", "message", "decided_at", "decided_by", "approved_need", "updated_at"])
    Claim.objects.filter(application=application).delete()
    return application


def application_approve(*, application: Application, reviewer, need: CampaignNeed | None = None) -> list[Enrolment]:
    """Approve for `need` (default: the applicant's first category) and enrol in that category's required courses."""
    with transaction.atomic():
        chosen = list(application.categories.order_by("sort_order", "pk"))
        if need is None:
            need = chosen[0] if chosen else None
        if need is None or need.campaign_id != application.campaign_id:
            raise ValidationError(ERROR_BAD_CATEGORY)
        application = _decide(application.pk, reviewer, Application.State.APPROVED, need=need)
        _audit(application, reviewer, AuditEntry.Action.APPROVED, str(need.category))
        enrolments = []
        for course in sorted((c for c in need.courses.all() if c.live), key=lambda c: c.title):
            enrolment, _created = enrolment_create(
                user=application.user, course=course, source=Enrolment.Source.COHORT, enrolled_by=reviewer
            )
            enrolments.append(enrolment)
        _notify_after_commit(application, "approved", category=need.category.name,
                             courses=[e.course.title for e in enrolments])
    return enrolments


def application_reject(*, application: Application, reviewer, reason: str) -> Application:
    reason = _clean_text(reason, max_length=1000, multiline=True)
    if text_is_blank(reason):
        raise ValidationError(ERROR_REASON_REQUIRED)
    with transaction.atomic():
        application = _decide(application.pk, reviewer, Application.State.REJECTED, message=reason)
        _audit(application, reviewer, AuditEntry.Action.REJECTED, reason)
        _notify_after_commit(application, "rejected")
    return application


def application_request_info(*, application: Application, reviewer, message: str) -> Application:
    message = _clean_text(message, max_length=1000, multiline=True)
    if text_is_blank(message):
        raise ValidationError(ERROR_REASON_REQUIRED)
    with transaction.atomic():
        application = _decide(application.pk, reviewer, Application.State.NEEDS_INFO, message=message)
        _audit(application, reviewer, AuditEntry.Action.NEEDS_INFO, message)
        _notify_after_commit(application, "needs_info")
    return application


def applications_bulk_approve(*, reviewer, applications) -> tuple[int, int]:
    """Approve each submitted application of `applications` that no other reviewer holds: (approved, skipped)."""
    approved = skipped = 0
    for application in applications:
        try:
            application_approve(application=application, reviewer=reviewer)
            approved += 1
        except ValidationError:
            skipped += 1
    return approved, skipped


def note_add(*, application: Application, author, text: str) -> ReviewerNote:
    text = text_clean(text, multiline=True)[:2000]
    return ReviewerNote.objects.create(application=application, author=author, text=text)


# --- Teams and retention ----------------------------------------------------------------------------------------


def team_create(*, campaign: CampaignPage, name: str, community: str, lead=None) -> Team:
    team = Team(campaign=campaign, name=text_clean(name)[:60], community=text_clean(community)[:80], lead=lead)
    team.full_clean()
    team.save()
    return team


def team_assign(*, application: Application, team: Team | None, actor) -> Application:
    if team is not None and team.campaign_id != application.campaign_id:
        raise ValidationError(ERROR_TEAM_CAMPAIGN)
    with transaction.atomic():
        application = _lock(application.pk)
        if application.state != Application.State.APPROVED:
            raise ValidationError(ERROR_NOT_APPROVED)
        application.team = team
        application.save(update_fields=["team"])
        _audit(application, actor, AuditEntry.Action.TEAM, team.name if team else "")
    return application


def campaign_purge(*, campaign: CampaignPage, actor) -> int:
    """Delete the rejected and withdrawn applications of a closed campaign (their proofs go with them)."""
    if campaign.is_open:
        raise ValidationError(ERROR_CAMPAIGN_OPEN)
    with transaction.atomic():
        doomed = Application.objects.filter(
            campaign=campaign, state__in=[Application.State.REJECTED, Application.State.WITHDRAWN]
        )
        count = doomed.count()
        doomed.delete()
    return count


def retention_sweep(*, today: dt.date | None = None) -> dict[str, int]:
    """Delete every application (with its proofs, notes and history) of campaigns whose retention period is over:
    `ends_on + retention_days` before `today`. Approved volunteers keep their accounts, enrolments and certificates.
    Returns {campaign title: applications deleted}. Run daily (`manage.py volunteers_retention`)."""
    today = today or timezone.localdate()
    deleted = {}
    for campaign in CampaignPage.objects.filter(applications__isnull=False).distinct():
        if campaign.ends_on + dt.timedelta(days=campaign.retention_days) < today:
            with transaction.atomic():
                doomed = Application.objects.filter(campaign=campaign)
                deleted[campaign.title] = doomed.count()
                doomed.delete()
    return deleted
