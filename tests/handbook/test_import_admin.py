"""Organisers import a manual file in the Wagtail admin: upload, preview (chapters and what was dropped), create."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from handbook.models import ChapterPage

from .test_admin import grant_organiser_page_permissions
from .test_importing import hostile_html, manual_docx

pytestmark = pytest.mark.django_db


def test_organiser_uploads_previews_and_creates_chapter_drafts(client, organiser, handbook):
    grant_organiser_page_permissions()
    client.force_login(organiser)
    url = reverse("handbook_import")
    assert client.get(url).status_code == 200

    upload = SimpleUploadedFile("手册.docx", manual_docx())
    preview = client.post(url, {"file": upload, "handbook": handbook.pk})
    text = preview.content.decode()
    assert preview.status_code == 200
    assert "三社联动是什么" in text and "志愿者上岗" in text
    assert "javascript" in text  # the dropped link is listed
    assert not ChapterPage.objects.exists()  # a preview writes nothing

    done = client.post(url, {"action": "create"})
    assert done.status_code == 200
    assert sorted(ChapterPage.objects.values_list("number", "live")) == [(3, False), (12, False)]
    assert "新增 2" in done.content.decode()

    again = client.post(url, {"action": "create"})  # the upload was used up: no second import
    assert again.status_code == 302 and ChapterPage.objects.count() == 2


def test_preview_of_a_hostile_file_shows_its_markup_only_escaped(client, organiser, handbook):
    grant_organiser_page_permissions()
    client.force_login(organiser)
    response = client.post(reverse("handbook_import"),
                           {"file": SimpleUploadedFile("x.html", hostile_html()), "handbook": handbook.pk})
    text = response.content.decode()
    assert "<iframe" not in text and "alert(" not in text
    assert "&lt;iframe&gt;" in text


def test_a_file_that_cannot_be_imported_is_refused_on_the_form(client, organiser, handbook):
    grant_organiser_page_permissions()
    client.force_login(organiser)
    response = client.post(reverse("handbook_import"),
                           {"file": SimpleUploadedFile("x.exe", b"MZ"), "handbook": handbook.pk})
    assert response.status_code == 200 and "只能导入" in response.content.decode()


def test_readers_without_page_rights_cannot_import(client, volunteer, handbook):
    volunteer.is_staff = True
    volunteer.save()
    client.force_login(volunteer)
    assert client.get(reverse("handbook_import")).status_code in (302, 403)
