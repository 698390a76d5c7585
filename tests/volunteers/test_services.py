import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from academy.notifications import sms
from courses.models import Enrolment
from tests.factories import UserFactory
from volunteers import selectors, services
from volunteers.builders import application_data, make_application, make_campaign
from volunteers.models import Application, AuditEntry, CampaignNeed, Claim, ProofFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _submit(campaign, user, **overrides):
    return services.application_save(campaign=campaign, user=user, data=application_data(campaign, **overrides),
                                     submit=True)


def test_draft_is_saved_without_the_required_fields(campaign, applicant):
    data = services.ApplicationData(full_name="周报名")
    application = services.application_save(campaign=campaign, user=applicant, data=data, submit=False)
    assert application.state == Application.State.DRAFT
    assert application.consented_at is None
    assert not application.audit.exists()


def test_submit_refuses_missing_fields_and_consent(campaign, applicant):
    with pytest.raises(ValidationError) as info:
        services.application_save(campaign=campaign, user=applicant, data=services.ApplicationData(), submit=True)
    errors = info.value.message_dict
    assert {"full_name", "phone", "district", "community", "need_ids", "days", "consent", "answers"} <= set(errors)
    assert str(services.ERROR_CONSENT) in errors["consent"]


def test_submit_normalises_the_phone_and_audits(campaign, applicant):
    application = _submit(campaign, applicant, phone="139 0000 0000")
    assert application.phone == "+8613900000000"
    assert application.state == Application.State.SUBMITTED
    assert list(application.audit.values_list("action", flat=True)) == ["submitted"]


def test_submit_notifies_by_sms_and_email_after_commit(campaign, applicant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _submit(campaign, applicant, email="zhou@example.org")
    assert [m.to for m in sms.outbox] == ["+8613900000000"]
    assert "社区防控志愿者招募" in sms.outbox[0].body
    assert "已收到" in sms.outbox[0].body
    assert mail.outbox[0].to == ["zhou@example.org"]


def test_a_category_of_another_campaign_is_refused(campaign, applicant, training):
    other = make_campaign(title="另一个招募", slug="other-drive")
    foreign = CampaignNeed.objects.get(campaign=other)
    with pytest.raises(ValidationError) as info:
        _submit(campaign, applicant, need_ids=[foreign.pk])
    assert str(services.ERROR_BAD_CATEGORY) in info.value.message_dict["need_ids"]


def test_closed_campaign_takes_no_application(campaign, applicant):
    campaign.closed = True
    campaign.save()
    with pytest.raises(ValidationError, match=str(services.ERROR_CAMPAIGN_CLOSED)):
        _submit(campaign, applicant)


def test_approval_enrols_in_the_category_courses_and_notifies(campaign, applicant, reviewer, training,
                                                              django_capture_on_commit_callbacks):
    application = _submit(campaign, applicant)
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enrolments = services.application_approve(application=application, reviewer=reviewer)
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED
    assert application.approved_need.category.name == "物资配送"
    assert [e.course_id for e in enrolments] == [training.pk]
    assert Enrolment.objects.get(user=applicant, course=training).enrolled_by == reviewer
    assert "志愿者上岗培训" in sms.outbox[-1].body
    assert not Claim.objects.filter(application=application).exists()


def test_approval_for_a_category_without_courses_enrols_in_nothing(campaign, applicant, reviewer):
    psych = CampaignNeed.objects.get(campaign=campaign, category__name="心理")
    application = _submit(campaign, applicant, need_ids=[psych.pk])
    assert services.application_approve(application=application, reviewer=reviewer, need=psych) == []
    assert not Enrolment.objects.filter(user=applicant).exists()


def test_reject_needs_a_reason(campaign, applicant, reviewer):
    application = _submit(campaign, applicant)
    with pytest.raises(ValidationError):
        services.application_reject(application=application, reviewer=reviewer, reason=" \u200b ")
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED


def test_needs_info_then_resubmit(campaign, applicant, reviewer):
    application = _submit(campaign, applicant)
    services.application_request_info(application=application, reviewer=reviewer, message="请上传社工证照片。")
    application.refresh_from_db()
    assert application.state == Application.State.NEEDS_INFO and application.is_editable
    upload = SimpleUploadedFile("证书.pdf", PDF, content_type="application/pdf")
    again = _submit(campaign, applicant, proofs=[upload])
    assert again.state == Application.State.SUBMITTED
    assert again.message == ""
    assert list(again.audit.values_list("action", flat=True)) == ["submitted", "claimed", "needs_info", "resubmitted"]


def test_decided_application_cannot_be_edited(campaign, applicant, reviewer):
    make_application(campaign, applicant, state="rejected", reviewer=reviewer)
    with pytest.raises(ValidationError):
        _submit(campaign, applicant)


def test_second_reviewer_cannot_claim_or_decide_a_held_application(campaign, applicant, reviewer, reviewer2):
    application = _submit(campaign, applicant)
    services.claim_take(application=application, reviewer=reviewer)
    with pytest.raises(ValidationError, match=str(services.ERROR_CLAIMED_BY_OTHER)):
        services.claim_take(application=application, reviewer=reviewer2)
    with pytest.raises(ValidationError, match=str(services.ERROR_CLAIMED_BY_OTHER)):
        services.application_approve(application=application, reviewer=reviewer2)
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED


def test_an_expired_claim_returns_to_the_queue(campaign, applicant, reviewer, reviewer2):
    application = _submit(campaign, applicant)
    services.claim_take(application=application, reviewer=reviewer)
    Claim.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.claim_next(reviewer=reviewer2) == application
    assert Claim.objects.get().reviewer == reviewer2


def test_claim_next_skips_held_applications(campaign, reviewer, reviewer2):
    first = _submit(campaign, UserFactory(username="a1"))
    second = _submit(campaign, UserFactory(username="a2"))
    assert services.claim_next(reviewer=reviewer) == first
    assert services.claim_next(reviewer=reviewer2) == second
    assert services.claim_next(reviewer=reviewer2) is None or Claim.objects.count() == 2


def test_bulk_approve_skips_applications_held_by_others(campaign, reviewer, reviewer2):
    apps = [_submit(campaign, UserFactory(username=f"b{i}")) for i in range(3)]
    services.claim_take(application=apps[1], reviewer=reviewer2)
    approved, skipped = services.applications_bulk_approve(reviewer=reviewer, applications=apps)
    assert (approved, skipped) == (2, 1)
    assert Application.objects.get(pk=apps[1].pk).state == Application.State.SUBMITTED


def test_withdraw_and_delete_take_the_proof_files(campaign, applicant, settings, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    application = _submit(campaign, applicant, proofs=[upload])
    proof = ProofFile.objects.get(application=application)
    path = settings.PRIVATE_MEDIA_ROOT / proof.file.name
    assert path.exists() and not str(path).startswith(str(settings.MEDIA_ROOT))
    services.application_withdraw(application=application, user=applicant)
    assert Application.objects.get(pk=application.pk).state == Application.State.WITHDRAWN
    with django_capture_on_commit_callbacks(execute=True):
        services.application_delete(application=application, user=applicant)
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not AuditEntry.objects.filter(application_id=application.pk).exists()
    assert not path.exists()


def test_nobody_else_withdraws_or_deletes_an_application(campaign, applicant, outsider):
    application = _submit(campaign, applicant)
    with pytest.raises(PermissionDenied):
        services.application_withdraw(application=application, user=outsider)
    with pytest.raises(PermissionDenied):
        services.application_delete(application=application, user=outsider)


def test_purge_needs_a_closed_campaign_and_keeps_approved(campaign, reviewer, organiser):
    kept = make_application(campaign, UserFactory(username="p1"), state="approved", reviewer=reviewer)
    make_application(campaign, UserFactory(username="p2"), state="rejected", reviewer=reviewer)
    make_application(campaign, UserFactory(username="p3"), state="withdrawn")
    with pytest.raises(ValidationError):
        services.campaign_purge(campaign=campaign, actor=organiser)
    campaign.closed = True
    campaign.save()
    assert services.campaign_purge(campaign=campaign, actor=organiser) == 2
    assert list(Application.objects.values_list("pk", flat=True)) == [kept.pk]


def test_account_creation_normalises_and_refuses_a_number_in_use(db):
    user = services.applicant_account_create(phone="139-1234-5678", password="volunteer-pass-1", real_name="冯新人")
    assert user.phone == "+8613912345678" and user.username == "+8613912345678"
    assert user.check_password("volunteer-pass-1")
    with pytest.raises(ValidationError) as info:
        services.applicant_account_create(phone="+86 139 1234 5678", password="volunteer-pass-2", real_name="冒名")
    assert str(services.ERROR_PHONE_IN_USE) in info.value.message_dict["phone"]


def test_account_creation_refuses_weak_passwords_and_bad_numbers(db):
    with pytest.raises(ValidationError) as info:
        services.applicant_account_create(phone="13912345678", password="12345678", real_name="冯新人")
    assert "password" in info.value.message_dict
    with pytest.raises(ValidationError):
        services.applicant_account_create(phone="12345", password="volunteer-pass-1", real_name="冯新人")


def test_duplicates_are_flagged_by_phone_and_by_name_and_community(campaign):
    a = _submit(campaign, UserFactory(username="d1"), phone="13955556666", full_name="陈同名")
    b = _submit(campaign, UserFactory(username="d2"), phone="+8613955556666", full_name="另一个")
    c = _submit(campaign, UserFactory(username="d3"), phone="13977778888", full_name="陈同名")
    d = _submit(campaign, UserFactory(username="d4"), phone="13988889999", full_name="无关")
    assert {x.pk for x in selectors.duplicates_of(a)} == {b.pk, c.pk}
    assert selectors.duplicates_of(d) == []
    rows = {r.pk: (r.dup_phone, r.dup_name) for r in selectors.review_list(filters=selectors.ReviewFilters())}
    assert rows[a.pk] == (True, True) and rows[b.pk] == (True, False) and rows[d.pk] == (False, False)


def test_team_assignment_only_for_approved_volunteers(campaign, reviewer, organiser):
    approved = make_application(campaign, UserFactory(username="t1"), state="approved", reviewer=reviewer)
    pending = make_application(campaign, UserFactory(username="t2"))
    team = services.team_create(campaign=campaign, name="青枫里一队", community="青枫里社区", lead=approved.user)
    services.team_assign(application=approved, team=team, actor=organiser)
    with pytest.raises(ValidationError):
        services.team_assign(application=pending, team=team, actor=organiser)
    assert selectors.pipeline(campaign=campaign)["overall"]["assigned"] == 1


def test_pipeline_and_roster(campaign, reviewer, training):
    make_application(campaign, UserFactory(username="r1"), state="approved", reviewer=reviewer, full_name="甲")
    make_application(campaign, UserFactory(username="r2"), state="needs_info", reviewer=reviewer)
    make_application(campaign, UserFactory(username="r3"))
    flow = selectors.pipeline(campaign=campaign)["overall"]
    assert (flow["in_training"], flow["in_review"], flow["applied"]) == (1, 1, 1)
    rows = selectors.roster(campaign=campaign)
    assert len(rows) == 1 and rows[0][0] == "甲" and "志愿者上岗培训 0%" in rows[0][8]
    board = selectors.dashboard(campaign=campaign)
    short = {row["category"]: row["short"] for row in board["short"]}
    assert short == {"物资配送": 1, "心理": 1, "信息登记": 3}


def test_retention_sweep_deletes_applications_past_the_notice_period(campaign, reviewer, training, settings,
                                                                   django_capture_on_commit_callbacks):
    from django.core.management import call_command

    kept = make_application(campaign, UserFactory(username="ret1"), state="approved", reviewer=reviewer)
    upload = SimpleUploadedFile("p.pdf", PDF)
    gone = _submit(campaign, UserFactory(username="ret2"), proofs=[upload])
    path = settings.PRIVATE_MEDIA_ROOT / gone.proofs.get().file.name
    last_day = campaign.ends_on + dt.timedelta(days=campaign.retention_days)
    assert services.retention_sweep(today=last_day) == {}
    assert Application.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retention_sweep(today=last_day + dt.timedelta(days=1)) == {campaign.title: 2}
    assert not Application.objects.exists() and not path.exists()
    assert Enrolment.objects.filter(user=kept.user, course=training).exists()  # training records stay
    call_command("volunteers_retention")  # nothing left: says so, does not fail
