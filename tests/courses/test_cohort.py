"""Cohort enrolment from CSV/XLSX lists of usernames or phone numbers, with a report of rows that did not match."""
import io

import pytest
from django.db import IntegrityError, transaction
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses.models import Enrolment
from tests.factories import UserFactory
from tests.factories.courses import enrol, grant_organiser_permissions

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "wang": UserFactory(username="wang", phone="13800000011"),
        "li": UserFactory(username="li", phone="+86 139 0000 0022"),
        "zhao": UserFactory(username="zhao"),
    }


def upload(client, course, name, content):
    return client.post(
        reverse("course_reports:cohort", args=[course.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def test_csv_cohort_enrols_usernames_and_phones_and_reports_bad_rows(client, organiser, course, people):
    grant_organiser_permissions()
    enrol(people["zhao"], course)
    csv = "用户名\nwang\n+86 13900000022\n\nzhao\nnobody\n13800000099\n<script>\nwang\n".encode("utf-8-sig")
    client.force_login(organiser)
    response = upload(client, course, "cohort.csv", csv)
    assert response.status_code == 200
    report = response.context["report"]
    assert {u.username for u in report.enrolled} == {"wang", "li"}  # li's phone was typed with spaces, stored E.164
    assert [u.username for u in report.already] == ["zhao"]
    unmatched = {(row, value) for row, value, _reason in report.unmatched}
    assert (6, "nobody") in unmatched and (7, "13800000099") in unmatched and (8, "<script>") in unmatched
    assert (9, "wang") in unmatched  # listed twice
    body = response.content.decode()
    assert "&lt;script&gt;" in body and "<script>\n" not in body
    wang = Enrolment.objects.get(user=people["wang"], course=course)
    assert (wang.source, wang.enrolled_by) == ("cohort", organiser)


def test_phone_numbers_match_whatever_their_spacing(client, organiser, course, db):
    grant_organiser_permissions()
    li = UserFactory(username="li2", phone="13900000022")
    client.force_login(organiser)
    upload(client, course, "cohort.csv", b"139 0000 0022\n")
    assert Enrolment.objects.filter(user=li, course=course).exists()


def test_phones_are_stored_in_e164_whatever_form_they_were_written_in(people):
    assert (people["wang"].phone, people["li"].phone) == ("+8613800000011", "+8613900000022")


def test_a_number_typed_differently_finds_the_member_not_an_impostor(client, organiser, course, db):
    from academy.accounts.models import User

    grant_organiser_permissions()
    member = UserFactory(username="member", phone="13900000033")
    with pytest.raises(IntegrityError):  # the impostor cannot claim the same number in another written form
        with transaction.atomic():
            User.objects.create(username="impostor", phone="+86 139-0000-0033")
    client.force_login(organiser)
    response = upload(client, course, "cohort.csv", "+86 139 0000 0033\n".encode())
    report = response.context["report"]
    assert [u.username for u in report.enrolled] == ["member"]
    assert Enrolment.objects.filter(user=member, course=course).exists()


def test_a_username_that_looks_like_a_phone_number_is_not_matched_by_the_number(client, organiser, course, db):
    grant_organiser_permissions()
    UserFactory(username="13900000044")  # no phone of their own
    owner = UserFactory(username="owner", phone="13900000045")
    client.force_login(organiser)
    response = upload(client, course, "cohort.csv", b"13900000044\n139 0000 0045\n")
    report = response.context["report"]
    assert [u.username for u in report.enrolled] == ["owner"]
    assert [(row, value) for row, value, _ in report.unmatched] == [(1, "13900000044")]
    assert not Enrolment.objects.filter(user__username="13900000044").exists()
    assert Enrolment.objects.filter(user=owner).exists()


def test_xlsx_cohort_reads_the_first_column_including_numeric_phone_cells(client, organiser, course, people):
    from openpyxl import Workbook

    grant_organiser_permissions()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["手机号", "姓名"])
    sheet.append([13800000011, "王"])
    sheet.append(["zhao", "赵"])
    sheet.append(["ghost", "鬼"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(organiser)
    response = upload(client, course, "cohort.xlsx", buffer.getvalue())
    report = response.context["report"]
    assert {u.username for u in report.enrolled} == {"wang", "zhao"}
    assert [(row, value) for row, value, _ in report.unmatched] == [(4, "ghost")]


def test_a_file_that_is_not_a_list_is_refused_with_a_clear_error(client, organiser, course):
    grant_organiser_permissions()
    client.force_login(organiser)
    response = upload(client, course, "cohort.xlsx", b"not a spreadsheet")
    assert response.context["report"] is None
    assert "CSV" in response.content.decode()
    response = upload(client, course, "cohort.pdf", b"%PDF")
    assert ".csv" in response.content.decode()
    assert not Enrolment.objects.exists()


def test_only_organisers_may_enrol_a_cohort(client, volunteer, course, people):
    client.force_login(volunteer)
    response = upload(client, course, "cohort.csv", b"wang\n")
    assert response.status_code in (302, 403)
    assert not Enrolment.objects.exists()
