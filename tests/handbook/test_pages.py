"""Page tree rules, chapter and index rendering, print view."""
import pytest
from wagtail.models import Page

from academy.models import HomePage
from handbook.models import CHARACTERS_PER_MINUTE, ChapterPage, HandbookPage, reading_minutes_for
from handbook.demo_content import CHAPTERS
from tests.factories.handbook import make_chapter

pytestmark = pytest.mark.django_db


def test_page_tree_rules_are_explicit():
    assert HandbookPage.parent_page_types == ["academy.HomePage"]
    assert HandbookPage.subpage_types == ["handbook.ChapterPage"]
    assert HandbookPage.max_count == 1
    assert ChapterPage.parent_page_types == ["handbook.HandbookPage"]
    assert ChapterPage.subpage_types == []


def test_handbook_can_live_only_under_the_home_page_and_only_once(handbook, home):
    assert HandbookPage.can_create_at(home) is False  # max_count reached
    assert ChapterPage.can_create_at(home) is False
    assert ChapterPage.can_create_at(handbook) is True
    assert handbook.url == "/handbook/"
    assert HandbookPage.can_exist_under(Page.get_first_root_node()) is False  # only under the home page
    assert HandbookPage.can_exist_under(home) is True
    assert HandbookPage in HomePage.allowed_subpage_models()
    assert ChapterPage not in HomePage.allowed_subpage_models()


def test_chapter_is_served_under_the_handbook(client, chapters):
    response = client.get("/handbook/c1/")
    assert response.status_code == 200
    assert "第1章 标题1" in response.content.decode()


def test_reading_time_counts_about_400_characters_a_minute(handbook):
    assert reading_minutes_for("字" * CHARACTERS_PER_MINUTE) == 1
    assert reading_minutes_for("字" * (CHARACTERS_PER_MINUTE + 1)) == 2
    chapter = make_chapter(handbook, number=9, slug="long", body=[("paragraph", "<p>" + "社" * 1250 + "</p>")])
    assert chapter.reading_minutes == 4


def test_chapter_shows_contents_with_anchors_and_previous_and_next(client, chapters):
    html = client.get("/handbook/c2/").content.decode()
    assert 'href="#s-一为什么要做"' in html
    assert 'id="s-一为什么要做"' in html
    assert 'rel="prev" href="/handbook/c1/"' in html
    assert 'rel="next" href="/handbook/c3/"' in html
    first = client.get("/handbook/c1/").content.decode()
    assert 'rel="prev"' not in first


def test_duplicate_headings_get_distinct_anchors(handbook):
    chapter = make_chapter(handbook, number=7, slug="dup", body=[("heading", "小结"), ("paragraph", "<p>一</p>"),
                                                              ("heading", "小结"), ("heading", "!!!")])
    anchors = [item["anchor"] for item in chapter.contents()]
    assert len(set(anchors)) == 3
    assert anchors[2] == "section-3"


def test_every_demo_block_type_renders_with_its_template(client, handbook):
    chapter = make_chapter(handbook, number=1, slug=CHAPTERS[0]["slug"], title=CHAPTERS[0]["title"],
                           body=list(CHAPTERS[0]["body"]))
    html = client.get(chapter.url).content.decode()
    assert 'class="callout callout-key_point"' in html
    assert "启动联动前先回答三个问题" in html
    assert 'class="checklist-items"' in html and "联动机制自查清单" in html
    assert 'class="case-story"' in html and "一个老旧小区里的三方分工" in html and "经验与启示" in html
    assert 'class="procedure-steps"' in html and "摸清底数" in html
    assert "<strong>社区</strong>" in html  # rich text kept


def test_document_image_and_video_blocks_render(client, handbook):
    from django.core.files.base import ContentFile
    from wagtail.documents.models import Document

    from wagtail.models import Collection

    root = Collection.get_first_root_node() or Collection.add_root(name="Root")  # a flushed database lacks it
    document = Document.objects.create(title="登记表", file=ContentFile(b"hello", name="form.txt"), collection=root)
    chapter = make_chapter(handbook, number=5, slug="media", body=[
        ("document", {"document": document, "title": "居民求助登记表", "description": "打印后使用"}),
        ("video", {"title": "课程回放", "embed": None, "file_url": "https://media.example.org/v.mp4", "caption": "第一讲"}),
    ])
    html = client.get(chapter.url).content.decode()
    assert f'href="{document.url}"' in html and "居民求助登记表" in html
    assert '<video controls preload="none" src="https://media.example.org/v.mp4">' in html


def test_video_block_needs_a_source():
    from django.core.exceptions import ValidationError
    from handbook.blocks import VideoBlock

    with pytest.raises(ValidationError):
        VideoBlock().clean({"title": "x", "embed": None, "file_url": "", "caption": ""})


def test_every_block_has_icon_template_and_preview_value():
    from handbook.blocks import ChapterBodyBlock

    for name, block in ChapterBodyBlock().child_blocks.items():
        assert block.meta.icon and block.meta.icon != "placeholder", name
        assert block.meta.template and block.meta.template.startswith("handbook/blocks/"), name
        assert block.meta.preview_value is not None or name in {"document", "image"}, name


def test_handbook_index_lists_chapters_with_summary_and_reading_time(client, chapters):
    html = client.get("/handbook/").content.decode()
    for chapter in chapters:
        assert chapter.title in html
    assert "本章介绍社区志愿服务的基本做法" in html
    assert "约 1 分钟" in html


def test_print_view_has_every_chapter_on_one_page(client, chapters):
    response = client.get("/handbook/print/")
    assert response.status_code == 200
    html = response.content.decode()
    for chapter in chapters:
        assert f'id="chapter-{chapter.slug}"' in html
    assert html.count('class="print-chapter"') == 3


def test_unknown_audience_is_refused(handbook):
    from django.core.exceptions import ValidationError

    chapter = ChapterPage(title="x", slug="x", number=1, summary="s", audience=["aliens"])
    with pytest.raises(ValidationError) as error:
        chapter.clean()
    assert "aliens" in str(error.value)


def test_unpublished_chapter_is_hidden_from_readers(client, chapters):
    chapters[1].unpublish()
    assert client.get("/handbook/c2/").status_code == 404
    assert "第2章 标题2" not in client.get("/handbook/").content.decode()
    assert 'rel="next" href="/handbook/c3/"' in client.get("/handbook/c1/").content.decode()
