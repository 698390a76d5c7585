"""Site search covers courses and lessons with the same Chinese matching as the handbook."""
import pytest
from django.utils.html import strip_tags

from tests.factories.courses import make_course, make_lesson


@pytest.mark.django_db
def test_a_two_character_word_inside_a_course_summary_finds_the_course(client, home):
    make_course(title="居民骨干培育", summary="学习如何发现和培育楼栋里的热心居民，组建互助小组。")
    response = client.get("/search/", {"q": "互助"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "居民骨干培育" in strip_tags(html)
    assert "<mark>互助</mark>" in html


@pytest.mark.django_db
def test_quiz_answers_are_not_searchable_but_the_lesson_body_is(client, home):
    course = make_course(title="防护基础", summary="志愿者个人防护。")
    make_lesson(course, kind="quiz", title="防护测验", body="<p>完成本测验检验防护知识。</p>",
                questions=[{"text": "口罩多久更换一次？", "kind": "single", "explanation": "潮湿即换。",
                            "choices": [{"text": "潮湿或污染时立即更换", "correct": True},
                                        {"text": "一周一次", "correct": False}]}])
    found = strip_tags(client.get("/search/", {"q": "测验"}).content.decode())
    assert "防护测验" in found
    not_found = strip_tags(client.get("/search/", {"q": "潮湿"}).content.decode())
    assert "防护测验" not in not_found
    assert "没有找到" in not_found


@pytest.mark.django_db
def test_live_sessions_are_found_by_a_word_of_their_agenda(client, home):
    from tests.factories.live import make_live_session

    make_live_session(title="社区心理支持直播课", description="<p>面向一线社区工作者。</p>")
    found = strip_tags(client.get("/search/", {"q": "心理"}).content.decode())
    assert "社区心理支持直播课" in found
    found = strip_tags(client.get("/search/", {"q": "一线"}).content.decode())
    assert "社区心理支持直播课" in found
