"""Organisers write the manual in Wagtail; the reading report counts readers without naming them."""
import re

import pytest
from django.urls import reverse

from handbook.models import ChapterPage
from handbook.services import chapter_mark_read

pytestmark = pytest.mark.django_db


def grant_organiser_page_permissions():
    """Organisers edit pages from the root (a transactional test may have flushed the rows of the migration)."""
    from importlib import import_module

    from django.apps import apps

    import_module("academy.accounts.migrations.0002_groups").create_groups(apps, None)


def test_organiser_can_add_a_chapter_in_the_admin(client, organiser, handbook):
    grant_organiser_page_permissions()
    client.force_login(organiser)
    url = reverse("wagtailadmin_pages:add", args=("handbook", "chapterpage", handbook.pk))
    response = client.get(url)
    assert response.status_code == 200
    data = {
        "title": "新章节", "slug": "new-chapter", "number": "11", "summary": "新章节摘要。",
        "audience": ["volunteers", "social_workers"],
        "body-count": "1", "body-0-type": "heading", "body-0-value": "一、开始", "body-0-deleted": "", "body-0-order": "0",
        "body-0-id": "", "action-publish": "publish",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    chapter = ChapterPage.objects.get(slug="new-chapter")
    assert chapter.live and chapter.audience == ["volunteers", "social_workers"]
    assert client.get("/handbook/new-chapter/").status_code == 200


def test_reading_report_counts_readers_and_is_refused_to_readers(client, organiser, volunteer, socialworker, chapters):
    chapter_mark_read(user=volunteer, chapter=chapters[0])
    chapter_mark_read(user=socialworker, chapter=chapters[0])
    client.force_login(volunteer)
    assert client.get(reverse("handbook_reading_report")).status_code in (302, 403)
    client.force_login(organiser)
    response = client.get(reverse("handbook_reading_report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert [row["readers"] for row in response.context["rows"]] == [2, 0, 0]
    assert volunteer.real_name not in html and not re.search(rf"\b{volunteer.username}\b", html)  # not /volunteers/


def test_every_block_has_an_editor_preview(client, organiser):
    from handbook.models import ChapterPage

    client.force_login(organiser)
    stream_block = ChapterPage._meta.get_field("body").stream_block
    for name, block in stream_block.child_blocks.items():
        response = client.get(reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix})
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "handbook/handbook.css" in html, name
        assert f"block-{name}" in html, name
    heading = stream_block.child_blocks["heading"]
    html = client.get(reverse("wagtailadmin_block_preview"), {"id": heading.definition_prefix}).content.decode()
    assert "“联动”到底指什么" in html
