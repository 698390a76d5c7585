"""Chinese site search: two-character words inside longer text, ranking, snippets, escaping (SQLite and PostgreSQL:
run the suite under both configurations)."""
import pytest
from django.db import connection

from academy.search import (
    MAX_QUERY_LENGTH, QUERY_EMPTY, QUERY_HAS_MARKUP, QUERY_NO_WORDS, QUERY_TOO_LONG, cjk_index_text, cjk_query_terms,
    highlight, snippet,
)
from tests.factories.handbook import make_chapter, make_handbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual(home):
    handbook = make_handbook(title="工作手册", introduction="<p>手册简介。</p>", intended_readers="读者")
    recruit = make_chapter(handbook, number=1, slug="recruit", title="线上招募工作",
                           summary="本章讲解招募的流程。",
                           body=[("paragraph", "<p>疫情期间开展志愿者招募,先发布岗位,再审核身份。</p>")])
    mind = make_chapter(handbook, number=2, slug="mind", title="居民支持",
                        summary="本章讲解热线。",
                        body=[("paragraph", "<p>社区为居民提供心理援助热线和线上小组。</p>")])
    titled = make_chapter(handbook, number=3, slug="titled", title="志愿服务的激励",
                          summary="表彰与证书。", body=[("paragraph", "<p>激励措施有很多种。</p>")])
    other = make_chapter(handbook, number=4, slug="other", title="物资分配",
                         summary="捐赠物资的登记。", body=[("paragraph", "<p>物资进入仓库前要登记。</p>")])
    return {"recruit": recruit, "mind": mind, "titled": titled, "other": other}


def result_titles(client, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return response, [hit.page.title for hit in response.context["results"]]


def test_index_text_rewrites_chinese_runs_as_bigrams():
    assert cjk_index_text("志愿者招募") == "志愿 愿者 者招 招募"
    assert cjk_index_text("第1章 Wagtail 心") == "第 1 章 wagtail 心"
    assert cjk_query_terms("心理援助 心理") == ["心理", "理援", "援助"]


def test_two_character_word_is_found_inside_a_longer_word(client, manual):
    _response, titles = result_titles(client, "志愿")
    assert "线上招募工作" in titles  # 志愿 inside 志愿者招募 in the body


def test_psychology_is_found_inside_psychological_aid(client, manual):
    _response, titles = result_titles(client, "心理")
    assert titles == ["居民支持"]


def test_longer_query_needs_all_its_characters_in_order(client, manual):
    assert result_titles(client, "心理援助")[1] == ["居民支持"]
    assert result_titles(client, "援心")[1] == []  # characters present, but not as typed
    assert result_titles(client, "愿招")[1] == []  # both bigrams' characters present, the word is not


def test_title_matches_rank_first(client, manual):
    _response, titles = result_titles(client, "志愿")
    assert titles[0] == "志愿服务的激励"
    assert set(titles) == {"志愿服务的激励", "线上招募工作"}


def test_snippet_highlights_the_match(client, manual):
    response, _titles = result_titles(client, "心理")
    html = response.content.decode()
    assert "<mark>心理</mark>援助" in html


def test_drafts_and_unpublished_pages_are_not_found(client, manual):
    manual["mind"].unpublish()
    assert result_titles(client, "心理")[1] == []


def test_edits_are_found_after_publishing(client, manual):
    chapter = manual["other"]
    chapter.body = [("paragraph", "<p>为一线社工提供心理疏导。</p>")]
    chapter.save_revision().publish()
    assert "物资分配" in result_titles(client, "疏导")[1]


@pytest.mark.parametrize("query, message", [
    ("", QUERY_EMPTY),
    ("   ", QUERY_EMPTY),
    ("志" * (MAX_QUERY_LENGTH + 1), QUERY_TOO_LONG),
    ("<script>alert(1)</script>", QUERY_HAS_MARKUP),
    ("&lt;b&gt;", QUERY_HAS_MARKUP),
    ("!!! ，。", QUERY_NO_WORDS),
])
def test_bad_queries_get_a_clear_message(client, db, query, message):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert response.context["results"] is None
    expected = str(message) % {"n": MAX_QUERY_LENGTH} if "%(n)s" in str(message) else str(message)
    assert response.context["error"] == expected
    assert "<script>alert" not in response.content.decode()


def test_bad_query_messages_read_as_chinese(client, db):
    assert "请输入" in client.get("/search/", {"q": ""}).content.decode()


def test_query_is_never_echoed_unescaped(client, manual):
    response = client.get("/search/", {"q": '志愿"onmouseover="x'})
    html = response.content.decode()
    assert '"onmouseover="x' not in html
    assert "&quot;onmouseover=&quot;x" in html


def test_highlight_escapes_before_marking():
    assert highlight("<b>心理</b>援助", ["心理"]) == "&lt;b&gt;<mark>心理</mark>&lt;/b&gt;援助"
    assert highlight("a<mark>", ["mark"]) == "a&lt;<mark>mark</mark>&gt;"


def test_snippet_is_a_window_around_the_first_match():
    text = "前" * 200 + "心理援助" + "后" * 200
    result = snippet(text, ["心理"], width=60)
    assert result.startswith("…") and result.endswith("…")
    assert "<mark>心理</mark>" in result
    assert len(result) < 120


def test_search_runs_on_the_configured_database(client, manual):
    # Both configurations run this file: SQLite (FTS5) and PostgreSQL (tsvector).
    assert connection.vendor in {"sqlite", "postgresql"}
    assert result_titles(client, "招募")[1] == ["线上招募工作"]


def test_results_are_paginated(client, home):
    handbook = make_handbook(intended_readers="社区工作者")
    for n in range(12):
        make_chapter(handbook, number=n + 1, slug=f"p{n}", title=f"第{n}章", summary="社区志愿者招募")
    first = client.get("/search/", {"q": "志愿"})
    assert len(first.context["results"]) == 10 and first.context["results"].paginator.count == 12
    assert len(client.get("/search/", {"q": "志愿", "page": 2}).context["results"]) == 2


def test_pages_without_bigram_fields_are_still_found_by_the_words_as_typed(client, manual, home):
    # HomePage does not use CJKSearchMixin (yet): Wagtail's own index finds its title as one token.
    home.save_revision().publish()  # indexed (a migration may have created it without indexing)
    _response, titles = result_titles(client, home.title)
    assert home.title in titles


def test_within_non_title_matches_the_more_relevant_page_comes_first(client, home):
    handbook = make_handbook(intended_readers="读者")
    make_chapter(handbook, number=1, slug="once", title="第一章", summary="摘要。",
                 body=[("paragraph", "<p>" + "居民生活保障。" * 30 + "社区团购。</p>")])
    make_chapter(handbook, number=2, slug="often", title="第二章", summary="摘要。",
                 body=[("paragraph", "<p>" + "组织社区团购,团购要公开价格。" * 10 + "</p>")])
    assert result_titles(client, "团购")[1] == ["第二章", "第一章"]
