"""Editions: a new edition keeps the previous one readable at its own address; chapters show 本版更新."""
import pytest

from handbook.models import HandbookEdition
from handbook.services import chapter_mark_read
from tests.factories.handbook import make_chapter

pytestmark = pytest.mark.django_db

BODY_V1 = [("heading", "一、为什么要做"), ("paragraph", "<p>第一版的说法。</p>"),
           ("heading", "二、怎样去做"), ("paragraph", "<p>先摸清需求。</p>"),
           ("heading", "三、旧的一节"), ("paragraph", "<p>后来删掉的内容。</p>")]
BODY_V2 = [("heading", "一、为什么要做"), ("paragraph", "<p>第一版的说法。</p>"),
           ("heading", "二、怎样去做"), ("paragraph", "<p>先摸清需求，再分工协作。</p>"),
           ("heading", "四、新的一节"), ("paragraph", "<p>第二版新增。</p>")]


def publish_new_edition(handbook, label):
    handbook.edition = label
    handbook.save_revision().publish()


def revise(chapter, body):
    chapter.body = body
    chapter.save_revision().publish()


@pytest.fixture
def chapter(handbook):
    return make_chapter(handbook, number=1, slug="why", title="为什么联动", body=BODY_V1)


def test_publishing_the_manual_and_its_chapters_records_the_current_edition(handbook, chapter):
    edition = HandbookEdition.objects.get(handbook=handbook)
    chapter.refresh_from_db()
    assert (edition.label, edition.slug) == ("第一版", "第一版")
    copy = edition.chapters.get()
    assert (copy.chapter_id, copy.number, copy.revision_id) == (chapter.pk, 1, chapter.live_revision_id)


def test_a_new_edition_keeps_the_previous_one_readable_as_it_was(client, handbook, chapter):
    publish_new_edition(handbook, "第二版")
    revise(chapter, BODY_V2)
    assert list(HandbookEdition.objects.values_list("label", flat=True)) == ["第一版", "第二版"]

    old = client.get("/handbook/editions/第一版/why/")
    assert old.status_code == 200
    text = old.content.decode()
    assert "后来删掉的内容。" in text and "第二版新增。" not in text
    assert 'data-testid="archived-edition"' in text

    current = client.get("/handbook/editions/第二版/why/").content.decode()
    assert "第二版新增。" in current and 'data-testid="archived-edition"' not in current
    assert client.get("/handbook/editions/").status_code == 200
    assert client.get("/handbook/editions/第九版/").status_code == 404
    assert client.get("/handbook/editions/第一版/no-such-chapter/").status_code == 404


def test_a_chapter_shows_what_changed_since_the_previous_edition(client, handbook, chapter):
    publish_new_edition(handbook, "第二版")
    revise(chapter, BODY_V2)
    text = client.get(chapter.url).content.decode()
    box = text[text.index('data-testid="edition-changes"'):text.index("</aside>", text.index('data-testid="edition-changes"'))]
    assert "本版更新" in text
    assert "四、新的一节" in box and "二、怎样去做" in box and "三、旧的一节" in box
    assert "一、为什么要做" not in box  # unchanged sections are not listed


def test_a_reader_who_read_the_chapter_in_this_edition_sees_no_changes_box(client, handbook, chapter, volunteer):
    publish_new_edition(handbook, "第二版")
    revise(chapter, BODY_V2)
    chapter.refresh_from_db()
    chapter_mark_read(user=volunteer, chapter=chapter)
    client.force_login(volunteer)
    assert 'data-testid="edition-changes"' not in client.get(chapter.url).content.decode()


def test_a_reader_who_read_it_in_the_first_edition_sees_changes_since_then(client, handbook, chapter, volunteer):
    chapter_mark_read(user=volunteer, chapter=chapter)
    publish_new_edition(handbook, "第二版")
    publish_new_edition(handbook, "第三版")
    revise(chapter, BODY_V2)
    client.force_login(volunteer)
    text = client.get(chapter.url).content.decode()
    assert 'data-testid="edition-changes"' in text and "第一版" in text[text.index("本版更新"):]


def test_a_chapter_new_in_this_edition_says_so(client, handbook, chapter):
    publish_new_edition(handbook, "第二版")
    added = make_chapter(handbook, number=2, slug="added", title="新增章节")
    assert "本章是本版新增的" in client.get(added.url).content.decode()


def test_the_first_edition_shows_no_changes_box(client, handbook, chapter):
    assert 'data-testid="edition-changes"' not in client.get(chapter.url).content.decode()


def test_organiser_publishes_imported_drafts_as_a_new_edition(client, organiser, handbook, chapter):
    from django.urls import reverse

    from handbook.importing import handbook_import, import_plan

    from .test_admin import grant_organiser_page_permissions

    grant_organiser_page_permissions()
    markdown = "# 第一章 为什么联动\n\n## 一、为什么要做\n\n第二版的说法。\n\n# 第二章 新的一章\n\n正文。\n".encode()
    handbook_import(plan=import_plan(file_name="v2.md", data=markdown), handbook=handbook, user=organiser)
    client.force_login(organiser)
    url = reverse("handbook_publish_edition", args=[handbook.pk])
    page = client.get(url).content.decode()
    assert "新的一章" in page and "为什么联动" in page  # the drafts that will be published

    assert client.post(url, {"label": "第二版", "published_date": "2026-12-01"}).status_code == 302
    handbook.refresh_from_db()
    assert (handbook.edition, str(handbook.published_date)) == ("第二版", "2026-12-01")
    assert sorted(handbook.get_children().live().values_list("title", flat=True)) == ["为什么联动", "新的一章"]
    assert "第二版的说法。" in client.get(chapter.url).content.decode()
    assert "第一版的说法。" in client.get("/handbook/editions/第一版/why/").content.decode()
    again = client.post(url, {"label": "第二版"})
    assert again.status_code == 200 and "已经有同名的版本" in again.content.decode()


def test_readers_cannot_publish_an_edition(client, volunteer, handbook):
    from django.urls import reverse

    volunteer.is_staff = True
    volunteer.save()
    client.force_login(volunteer)
    response = client.post(reverse("handbook_publish_edition", args=[handbook.pk]), {"label": "第九版"})
    assert response.status_code in (302, 403) and handbook.editions.filter(label="第九版").count() == 0
