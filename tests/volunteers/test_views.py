"""The pages: who may open what, applying without JavaScript, and hostile input on every field and file."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from academy.notifications import sms
from tests.factories import UserFactory
from volunteers import services
from volunteers.builders import make_application
from volunteers.models import Application, CampaignNeed, ProofFile

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def submitted(campaign, applicant):
    application = make_application(campaign, applicant)
    ProofFile.objects.create(application=application, original_name="证书.pdf", content_type="application/pdf",
                             size=len(PDF), file="volunteer-proofs/x.pdf")
    return application


def _urls(campaign, application):
    proof = application.proofs.first()
    return {
        "review": ("get", reverse("volunteers:review")),
        "review_detail": ("get", reverse("volunteers:review_detail", args=[application.pk])),
        "review_next": ("post", reverse("volunteers:review_next")),
        "proof": ("get", reverse("volunteers:proof", args=[proof.pk])),
        "roster_csv": ("get", reverse("volunteers:roster_csv", args=[campaign.slug])),
        "roster_xlsx": ("get", reverse("volunteers:roster_xlsx", args=[campaign.slug])),
        "dashboard": ("get", reverse("volunteers:dashboard", args=[campaign.slug])),
        "teams": ("get", reverse("volunteers:teams", args=[campaign.slug])),
    }


REVIEW = {"review", "review_detail", "review_next", "proof"}
MANAGE = {"roster_csv", "roster_xlsx", "dashboard", "teams"}


@pytest.mark.parametrize("role", ["anonymous", "applicant", "outsider", "reviewer", "organiser"])
def test_permission_matrix(client, role, campaign, submitted, request, settings):
    (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs").mkdir(parents=True)
    (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs" / "x.pdf").write_bytes(PDF)
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    allowed = {"anonymous": set(), "applicant": set(), "outsider": set(), "reviewer": REVIEW,
               "organiser": REVIEW | MANAGE}[role]
    for name, (method, url) in _urls(campaign, submitted).items():
        response = getattr(client, method)(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
        elif name in allowed:
            assert response.status_code in (200, 302), (name, response.status_code)
            assert "/accounts/login/" not in response.get("Location", ""), name
        else:
            assert response.status_code == 403, (name, response.status_code)


def test_proof_is_served_privately_to_reviewers(client, reviewer, submitted, settings):
    (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs").mkdir(parents=True)
    (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs" / "x.pdf").write_bytes(PDF)
    client.force_login(reviewer)
    response = client.get(reverse("volunteers:proof", args=[submitted.proofs.get().pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PDF
    assert client.get(f"/media/volunteer-proofs/x.pdf").status_code == 404


def test_applicant_cannot_withdraw_or_delete_another_application(client, outsider, submitted):
    client.force_login(outsider)
    assert client.post(reverse("volunteers:withdraw", args=[submitted.pk])).status_code == 404
    assert client.post(reverse("volunteers:delete", args=[submitted.pk])).status_code == 404
    assert Application.objects.get(pk=submitted.pk).state == "submitted"


def test_campaign_pages_render(client, campaign):
    index = client.get("/volunteers/")
    assert index.status_code == 200 and "社区防控志愿者招募" in index.content.decode()
    page = client.get(campaign.url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "物资配送" in body and "志愿者上岗培训" in body and "身份证号" in body


# --- Applying without JavaScript --------------------------------------------------------------------------------


def _form_data(campaign, **overrides):
    questions = {q["text"]: q["id"] for q in campaign.question_list()}
    need = CampaignNeed.objects.get(campaign=campaign, category__name="信息登记")
    data = {
        "full_name": "韩报名", "phone": "137 0000 1111", "email": "", "district": "江岸区", "community": "百步亭社区",
        "need_ids": [str(need.pk)], "qualifications": ["nurse"], "qualification_note": "社区医院护士五年。",
        "days": ["sat"], "day_parts": ["morning", "evening"], "mode": "onsite",
        f"q_{questions['为什么想当志愿者？']}": "想为邻居做点事。",
        f"q_{questions['能否使用智能手机？']}": "能",
        f"q_{questions['做过哪些志愿服务？']}": ["社区"],
        f"q_{questions['体力如何？']}": "4",
        "consent": "on", "action": "submit",
    }
    data.update(overrides)
    return data


def test_apply_without_javascript_from_account_to_my_applications(client, campaign, django_capture_on_commit_callbacks):
    url = reverse("volunteers:apply", args=[campaign.slug])
    first = client.get(url)
    assert first.status_code == 200 and 'name="phone"' in first.content.decode()
    created = client.post(url, {"real_name": "韩报名", "phone": "13700001111", "password": "sturdy-pass-42"})
    assert created.status_code == 302 and created["Location"] == url
    form = client.get(url)
    assert form.status_code == 200 and "<script" not in form.content.decode().split("<main")[1]
    draft = client.post(url, _form_data(campaign, action="draft", consent=""))
    assert draft.status_code == 302
    assert Application.objects.get().state == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, _form_data(campaign, proofs=SimpleUploadedFile("护士证.pdf", PDF)))
    assert done.status_code == 302 and done["Location"] == reverse("volunteers:my")
    application = Application.objects.get()
    assert application.state == "submitted" and application.phone == "+8613700001111"
    assert application.user.phone == "+8613700001111"
    assert application.proofs.count() == 1
    assert application.answers and 4 in application.answers.values()
    my = client.get(reverse("volunteers:my")).content.decode()
    assert "社区防控志愿者招募" in my and "已提交" in my
    assert sms.outbox[-1].to == "+8613700001111"


def test_account_step_offers_to_sign_in_when_the_number_is_taken(client, campaign, applicant):
    url = reverse("volunteers:apply", args=[campaign.slug])
    response = client.post(url, {"real_name": "冒名", "phone": "139 1111 2222", "password": "sturdy-pass-42"})
    body = response.content.decode()
    assert response.status_code == 400
    assert str(services.ERROR_PHONE_IN_USE) in body
    assert "用这个手机号登录" in body and "/accounts/login/?next=" in body


def test_missing_consent_is_shown_on_the_form(client, campaign, applicant):
    client.force_login(applicant)
    response = client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, consent=""))
    assert response.status_code == 400
    assert str(services.ERROR_CONSENT) in response.content.decode()
    assert not Application.objects.filter(state="submitted").exists()


# --- Hostile input ----------------------------------------------------------------------------------------------

HOSTILE_FIELDS = [
    ("full_name", "x" * 5000),
    ("full_name", "\u202e\u200b\x00"),
    ("phone", "+86 138' OR 1=1 --"),
    ("phone", "9" * 200),
    ("email", "not-an-email"),
    ("district", "<script>alert(1)</script>" * 50),
    ("community", "\x00\x1b[31m"),
    ("need_ids", ["99999999999999999999"]),
    ("need_ids", ["-1"]),
    ("need_ids", ["abc"]),
    ("qualifications", ["root"]),
    ("qualification_note", "y" * 100000),
    ("days", ["someday"]),
    ("day_parts", ["midnight"]),
    ("mode", "teleport"),
]


@pytest.mark.parametrize("field,value", HOSTILE_FIELDS)
def test_hostile_field_is_answered_not_crashed(client, campaign, applicant, field, value):
    client.force_login(applicant)
    response = client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, **{field: value}))
    assert response.status_code in (302, 400)
    application = Application.objects.filter(user=applicant).first()
    if response.status_code == 302:  # accepted only once cleaned
        assert len(application.full_name) <= 60 and "\u202e" not in application.full_name
        assert "\x00" not in application.community and len(application.qualification_note) <= 1000
    else:
        assert application is None


@pytest.mark.parametrize("value", ["6", "0", "-1", "abc", "4.5", "1e9"])
def test_hostile_scale_answer(client, campaign, applicant, value):
    client.force_login(applicant)
    question = next(q for q in campaign.question_list() if q["kind"] == "scale")
    response = client.post(reverse("volunteers:apply", args=[campaign.slug]),
                           _form_data(campaign, **{f"q_{question['id']}": value}))
    assert response.status_code == 400
    assert not Application.objects.exists()


def test_answers_for_unknown_questions_are_dropped(client, campaign, applicant):
    client.force_login(applicant)
    client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, **{"q_evil": "x" * 10000}))
    assert "evil" not in Application.objects.get().answers


HOSTILE_FILES = [
    ("fake.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
    ("shell.png", b"#!/bin/sh\nrm -rf /\n", "image/png"),
    ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024 + 1), "application/pdf"),
    ("empty.pdf", b"", "application/pdf"),
    ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
]


@pytest.mark.parametrize("name,content,content_type", HOSTILE_FILES)
def test_hostile_proof_file_is_refused(client, campaign, applicant, name, content, content_type, settings):
    client.force_login(applicant)
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, proofs=upload))
    assert response.status_code == 400
    assert not ProofFile.objects.exists()
    assert not (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs").exists() or not any(
        (settings.PRIVATE_MEDIA_ROOT / "volunteer-proofs").rglob("*.*"))


def test_proof_file_name_cannot_choose_the_stored_path(client, campaign, applicant, settings):
    client.force_login(applicant)
    upload = SimpleUploadedFile("../../../etc/passwd.pdf", PDF, content_type="application/pdf")
    assert client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, proofs=upload)).status_code == 302
    proof = ProofFile.objects.get()
    assert proof.file.name.startswith(f"volunteer-proofs/{campaign.pk}/") and ".." not in proof.file.name
    assert (settings.PRIVATE_MEDIA_ROOT / proof.file.name).read_bytes() == PDF


def test_more_than_three_proofs_are_refused(client, campaign, applicant):
    client.force_login(applicant)
    uploads = [SimpleUploadedFile(f"p{i}.pdf", PDF) for i in range(4)]
    response = client.post(reverse("volunteers:apply", args=[campaign.slug]), _form_data(campaign, proofs=uploads))
    assert response.status_code == 400 and not ProofFile.objects.exists()


@pytest.mark.parametrize("query", [
    "campaign=abc", "campaign=99999999999999999999", "category=-1", "state=evil", "area=%00%1b",
    "qualification=root", "area=" + "z" * 500,
])
def test_hostile_review_filters(client, reviewer, submitted, query):
    client.force_login(reviewer)
    assert client.get(reverse("volunteers:review") + "?" + query).status_code == 200


@pytest.mark.parametrize("data", [
    {"action": "evil"}, {"action": "approve", "need": "99999999999999999999"}, {"action": "approve", "need": "x"},
    {"action": "reject", "message": ""}, {"action": "needs_info", "message": "\u200b"},
    {"action": "note", "note": "\x00"}, {"action": "reject", "message": "m" * 50000},
])
def test_hostile_review_actions(client, reviewer, submitted, data):
    client.force_login(reviewer)
    response = client.post(reverse("volunteers:review_detail", args=[submitted.pk]), data)
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert len(submitted.message) <= 1000


def test_hostile_bulk_ids(client, reviewer, submitted):
    client.force_login(reviewer)
    response = client.post(reverse("volunteers:review"), {"ids": ["abc", "-5", "9" * 40, str(submitted.pk)]})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == "approved"


def test_reviewer_flow_through_the_pages(client, reviewer, submitted, training):
    client.force_login(reviewer)
    nxt = client.post(reverse("volunteers:review_next"))
    assert nxt["Location"].startswith(reverse("volunteers:review_detail", args=[submitted.pk]))
    page = client.get(nxt["Location"]).content.decode()
    assert "这份报名由你处理" in page
    done = client.post(reverse("volunteers:review_detail", args=[submitted.pk]), {"action": "approve", "then": "next"})
    assert done.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == "approved" and submitted.user.enrolments.filter(course=training).exists()


def test_roster_exports_through_the_one_exporter(client, organiser, campaign, reviewer):
    make_application(campaign, UserFactory(username="ro1"), state="approved", reviewer=reviewer,
                     full_name="=HYPERLINK(\"x\")")
    client.force_login(organiser)
    csv = client.get(reverse("volunteers:roster_csv", args=[campaign.slug]))
    text = csv.content.decode("utf-8-sig")
    assert csv["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0].startswith("姓名,手机号")
    assert "'=HYPERLINK" in text
    xlsx = client.get(reverse("volunteers:roster_xlsx", args=[campaign.slug]))
    assert xlsx.content[:2] == b"PK"


def test_dashboard_and_purge(client, organiser, campaign, reviewer):
    make_application(campaign, UserFactory(username="pu1"), state="rejected", reviewer=reviewer)
    client.force_login(organiser)
    page = client.get(reverse("volunteers:dashboard", args=[campaign.slug])).content.decode()
    assert "<svg" in page and "审核员工作量" in page
    client.post(reverse("volunteers:dashboard", args=[campaign.slug]), {"action": "purge"})
    assert Application.objects.count() == 1  # open campaign: refused
    campaign.closed = True
    campaign.save()
    client.post(reverse("volunteers:dashboard", args=[campaign.slug]), {"action": "purge"})
    assert Application.objects.count() == 0


def test_site_search_finds_a_campaign_by_a_chinese_word(client, campaign):
    from django.core.management import call_command

    call_command("update_index", verbosity=0)
    body = client.get("/search/", {"q": "防控"}).content.decode()
    assert campaign.url in body


def test_the_review_permission_alone_is_not_enough_without_the_groups(client, submitted):
    from django.contrib.auth.models import Permission

    holder = UserFactory(username="perm-only")
    holder.user_permissions.add(Permission.objects.get(codename="review_volunteers"))
    client.force_login(holder)
    assert client.get(reverse("volunteers:review")).status_code == 403


def test_a_team_lead_sees_their_team_on_my_applications(client, campaign, reviewer, organiser):
    lead = make_application(campaign, UserFactory(username="lead"), state="approved", reviewer=reviewer,
                            full_name="骨干甲", phone="13911110001")
    member = make_application(campaign, UserFactory(username="member"), state="approved", reviewer=reviewer,
                              full_name="队员乙", phone="13911110002")
    team = services.team_create(campaign=campaign, name="青枫里一队", community="青枫里社区", lead=lead.user)
    services.team_assign(application=member, team=team, actor=organiser)
    client.force_login(lead.user)
    body = client.get(reverse("volunteers:my")).content.decode()
    assert "你是青枫里一队的队长" in body and "队员乙" in body and "+8613911110002" in body
    client.force_login(member.user)
    assert 'data-testid="led-team"' not in client.get(reverse("volunteers:my")).content.decode()


def test_organiser_opens_the_campaign_in_the_wagtail_editor(client, organiser, campaign):
    client.force_login(organiser)
    response = client.get(f"/admin/pages/{campaign.pk}/edit/")
    assert response.status_code == 200
    assert "物资配送" in response.content.decode()


def test_the_admin_menu_leads_organisers_to_the_review_queue(client, organiser):
    client.force_login(organiser)
    import re

    body = client.get("/admin/").content.decode()
    # Wagtail renders its sidebar as JSON props: undo the JSON escapes before looking.
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), body).replace("\\/", "/")
    assert reverse("volunteers:review") in text and "志愿者报名审核" in text
