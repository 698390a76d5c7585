"""Importing the manual from Word, HTML and Markdown: chapters as drafts, blocks, images, and nothing hostile."""
import io

import docx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches
from PIL import Image as PILImage
from wagtail.images import get_image_model

from handbook.importing import (
    ImportFailed, SourceError, chinese_numeral, handbook_import, import_plan, split_chapter_heading,
)
from handbook.models import ChapterPage
from tests.factories.handbook import make_chapter

pytestmark = pytest.mark.django_db

HOSTILE_MARKERS = ["<script", "alert(", "onerror", "javascript:", "<iframe", "data:text", "style=\"color",
                   "<style", "<object", "onclick"]


def png_bytes(color="red", size=(60, 40)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def add_hyperlink(paragraph, url: str, text: str) -> None:
    """python-docx has no API for links: write the w:hyperlink element with its relationship."""
    rel_id = paragraph.part.relate_to(url, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink",
                                      is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    text_element = OxmlElement("w:t")
    text_element.text = text
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def manual_docx(*, second_chapter_text="志愿者上岗前要完成培训：了解防护要求，熟悉求助登记流程。") -> bytes:
    document = docx.Document()
    for style in ("提示", "注意", "题注"):
        document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("三社联动工作手册（修订稿）", style="Title")
    document.add_heading("第三章 三社联动是什么", 1)
    document.add_paragraph("【摘要】本章说明社区、社会组织和社会工作者如何分工。")
    document.add_paragraph("“三社联动”指社区、社会组织、社会工作者三方协同；它不是新设一个机构！")
    document.add_heading("一、三方各做什么", 2)
    table = document.add_table(rows=3, cols=2)
    for r, row in enumerate([("角色", "负责"), ("社区", "统筹协调、摸清底数"), ("社会组织", "专业服务（心理、物资）")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("遇到困难时先联系社区；紧急情况拨打110。", style="提示")
    document.add_heading("（一）社区的职责", 3)
    document.add_paragraph("登记求助，统一派单。", style="List Bullet")
    document.add_paragraph("每天汇总一次情况。", style="List Bullet")
    hostile = document.add_paragraph("恶意内容：<script>alert(1)</script><img src=x onerror=alert(1)> ")
    add_hyperlink(hostile, "javascript:alert(document.cookie)", "点我")
    safe = document.add_paragraph("参考：")
    add_hyperlink(safe, "https://example.org/guide", "民政部指南")
    document.add_heading("第十二章 志愿者上岗", 1)
    document.add_paragraph(second_chapter_text)
    document.add_paragraph("【清单】出发前检查")
    document.add_paragraph("口罩和手套", style="List Bullet")
    document.add_paragraph("工作证", style="List Bullet")
    document.add_paragraph("【注意：不要独自上门】遇到独居老人，两人一组上门。")
    document.add_picture(io.BytesIO(png_bytes()), width=Inches(1))
    document.add_paragraph("图12-1 物资分发点的无接触交接", style="题注")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HOSTILE_HTML = """<html><head><title>手册</title><style>body{display:none}</style>
<script>alert('head')</script></head><body>
<style>p{background:url(javascript:alert(0))}</style>
<h1 onclick="alert(1)">第一章 总则</h1>
<p style="color:red" onmouseover="alert(2)">社区是联动的平台，社会组织是载体，社工是支撑。</p>
<iframe src="https://evil.example/"></iframe>
<p><a href="javascript:alert(3)">危险链接</a>，<a href="  JaVaScRiPt:alert(4)">变形链接</a>，
<a href="data:text/html,<script>alert(5)</script>">数据链接</a>，<a href="https://example.org/" target="_blank">安全链接</a></p>
<img src="x" onerror="alert(6)">
<object data="evil.swf"></object><svg><script>alert(7)</script></svg>
<form action="https://evil.example/"><input name="password"></form>
<h2>一、<span style="font-size:40px">表格</span></h2>
<table><tr><th>项目</th><th onclick="x()">说明</th></tr><tr><td><script>alert(8)</script>登记</td><td>每天一次</td></tr></table>
<figure><img src="data:image/png;base64,{png}" alt="分发点"><figcaption>图1 分发点</figcaption></figure>
<ul><li>□ 戴口罩</li><li>□ 带工作证</li></ul>
<blockquote>【要点】先摸清需求，再分工协作。</blockquote>
</body></html>"""


def hostile_html() -> bytes:
    import base64

    return HOSTILE_HTML.replace("{png}", base64.b64encode(png_bytes("blue")).decode()).encode()


def rendered(page) -> str:
    request = RequestFactory().get(page.url or "/")
    response = page.get_latest_revision_as_object().make_preview_request(request)
    response.render()
    return response.content.decode()


# --- numbers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, number", [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23),
                                          ("一百零三", 103), ("两", 2), ("１２", 12), ("7", 7), ("章", None)])
def test_chinese_numerals_become_numbers(text, number):
    assert chinese_numeral(text) == number


@pytest.mark.parametrize("heading, expected", [
    ("第三章 社区动员", (3, "社区动员")), ("第十二章：志愿者", (12, "志愿者")), ("第 4 章　心理支持", (4, "心理支持")),
    ("5. 物资保障", (5, "物资保障")), ("Chapter 6 Safety", (6, "Safety")), ("社区动员", (None, "社区动员")),
])
def test_the_chapter_number_comes_from_the_heading(heading, expected):
    assert split_chapter_heading(heading) == expected


# --- Word ------------------------------------------------------------------------------------------------------

def test_word_manual_becomes_chapter_drafts_with_numbers_titles_and_blocks(handbook):
    plan = import_plan(file_name="手册.docx", data=manual_docx())
    result = handbook_import(plan=plan, handbook=handbook)

    assert [page.number for page in result.added] == [3, 12]
    third, twelfth = (ChapterPage.objects.get(pk=page.pk) for page in result.added)
    assert (third.title, twelfth.title) == ("三社联动是什么", "志愿者上岗")
    assert not third.live and not twelfth.live  # drafts: an import never publishes
    assert third.summary == "本章说明社区、社会组织和社会工作者如何分工。"
    assert twelfth.summary.startswith("志愿者上岗前要完成培训：")

    blocks = [(block.block_type, block.value) for block in third.get_latest_revision_as_object().body]
    types = [block_type for block_type, _ in blocks]
    assert types[:5] == ["paragraph", "heading", "table", "callout", "subheading"]
    assert blocks[1][1] == "一、三方各做什么"
    table = blocks[2][1]
    assert table["header_row"] is True
    assert [list(row) for row in table["rows"]][2] == ["社会组织", "专业服务（心理、物资）"]
    assert blocks[3][1]["kind"] == "tip" and "紧急情况拨打110。" in blocks[3][1]["text"].source
    assert "“三社联动”指社区、社会组织、社会工作者三方协同；它不是新设一个机构！" in blocks[0][1].source  # full-width kept

    body = twelfth.get_latest_revision_as_object().body
    checklist = next(block.value for block in body if block.block_type == "checklist")
    assert checklist["title"] == "出发前检查" and list(checklist["items"]) == ["口罩和手套", "工作证"]
    callout = next(block.value for block in body if block.block_type == "callout")
    assert callout["kind"] == "warning" and callout["title"] == "不要独自上门"
    image = next(block.value for block in body if block.block_type == "image")
    assert image["caption"] == "图12-1 物资分发点的无接触交接"
    assert image["image"].width == 60


def test_word_links_keep_safe_addresses_with_noopener_and_lose_javascript(handbook):
    plan = import_plan(file_name="手册.docx", data=manual_docx())
    result = handbook_import(plan=plan, handbook=handbook)
    html = rendered(ChapterPage.objects.get(pk=result.added[0].pk))
    assert '<a href="https://example.org/guide" rel="noopener">民政部指南</a>' in html
    assert "点我" in html  # the text of the unsafe link is kept, the link is not
    for marker in ("javascript:", "<script>alert", "<img src=x"):
        assert marker not in html
    assert any("javascript" in line for line in plan.dropped_lines())


def test_hostile_html_is_reported_and_nothing_of_it_reaches_the_rendered_page(handbook):
    plan = import_plan(file_name="manual.html", data=hostile_html())
    dropped = "\n".join(plan.dropped_lines())
    for what in ("<script>", "<style>", "<iframe>", "<object>", "onclick", "onmouseover", "style", "javascript",
                 "data:"):
        assert what in dropped, what
    result = handbook_import(plan=plan, handbook=handbook)
    page = ChapterPage.objects.get(pk=result.added[0].pk)
    body = page.get_latest_revision_as_object().body
    assert [block.block_type for block in body] == ["paragraph", "heading", "table", "image", "checklist", "callout"]
    assert body[1].value == "一、表格"
    assert [list(row) for row in body[2].value["rows"]] == [["项目", "说明"], ["登记", "每天一次"]]
    assert body[3].value["caption"] == "图1 分发点" and body[3].value["alt"] == "分发点"
    assert list(body[4].value["items"]) == ["戴口罩", "带工作证"]
    assert body[5].value["kind"] == "key_point"
    html = rendered(page)
    chapter_html = html[html.index('class="chapter-body"'):html.index('class="chapter-end"')]
    for marker in HOSTILE_MARKERS:
        assert marker not in chapter_html.lower() or marker == "alert(" and "alert(" not in chapter_html, marker
    assert '<a href="https://example.org/" rel="noopener">安全链接</a>' in chapter_html
    assert "evil.example" not in html and "password" not in chapter_html


def test_markdown_manual_with_raw_html_and_task_lists(handbook):
    text = """# 第二章 信息发布

【摘要】统一口径，及时发布。

居民最关心的是**准确**的信息，发布要*及时*。<script>alert(1)</script>

## 一、发布流程

1. 核实
2. 审核

- [ ] 核对来源
- [ ] 标注时间

> 【提示】不转发未经核实的消息。

| 渠道 | 频率 |
| --- | --- |
| 微信群 | 每日 |

<a href="javascript:alert(1)" onclick="x()">坏链接</a>
"""
    plan = import_plan(file_name="manual.md", data=text.encode())
    result = handbook_import(plan=plan, handbook=handbook)
    page = result.added[0]
    assert (page.number, page.title, page.summary) == (2, "信息发布", "统一口径，及时发布。")
    body = page.get_latest_revision_as_object().body
    assert [block.block_type for block in body] == ["paragraph", "heading", "paragraph", "checklist", "callout",
                                                    "table", "paragraph"]
    assert "<b>准确</b>" in body[0].value.source and "<i>及时</i>" in body[0].value.source
    assert "alert" not in body[0].value.source
    assert list(body[3].value["items"]) == ["核对来源", "标注时间"]
    assert "javascript" not in body[6].value.source and "onclick" not in body[6].value.source


def test_files_in_gb18030_are_read(handbook):
    plan = import_plan(file_name="旧手册.htm", data="<h1>第一章 总则</h1><p>旧文件，用国标编码保存。</p>".encode("gb18030"))
    assert plan.chapters[0].title == "总则"


@pytest.mark.parametrize("name, data, error", [
    ("manual.pdf", b"%PDF-1.4", SourceError),
    ("manual.docx", b"this is not a zip file", SourceError),
    ("manual.html", b"<p>no heading at all</p>", ImportFailed),
    ("manual.md", "# 第一章 甲\n\n# 第一章 乙\n".encode(), ImportFailed),
])
def test_files_that_cannot_be_imported_are_refused_with_a_reason(name, data, error):
    with pytest.raises(error):
        import_plan(file_name=name, data=data)


# --- importing again ----------------------------------------------------------------------------------------------

def test_importing_again_updates_chapters_by_number_as_new_revisions(handbook):
    live = make_chapter(handbook, number=12, slug="volunteers", title="旧标题")
    first = handbook_import(plan=import_plan(file_name="a.docx", data=manual_docx()), handbook=handbook)
    assert [p.number for p in first.added] == [3] and [p.number for p in first.changed] == [12]
    live.refresh_from_db()
    assert live.live and live.title == "旧标题"  # the published version stays until someone publishes
    assert live.has_unpublished_changes and live.get_latest_revision_as_object().title == "志愿者上岗"

    again = handbook_import(plan=import_plan(file_name="a.docx", data=manual_docx()), handbook=handbook)
    assert (again.added, again.changed) == ([], [])
    assert sorted(p.number for p in again.unchanged) == [3, 12]
    assert get_image_model().objects.count() == 1  # the same picture is one image

    edited = handbook_import(plan=import_plan(file_name="a.docx", data=manual_docx(second_chapter_text="改过的正文。")),
                             handbook=handbook)
    assert [p.number for p in edited.changed] == [12] and [p.number for p in edited.unchanged] == [3]
    assert ChapterPage.objects.child_of(handbook).count() == 2


def test_import_command_prints_what_it_did(handbook, tmp_path):
    path = tmp_path / "手册.docx"
    path.write_bytes(manual_docx())
    out = io.StringIO()
    call_command("import_handbook", str(path), "--handbook", handbook.slug, stdout=out)
    text = out.getvalue()
    assert "三社联动是什么" in text and "志愿者上岗" in text
    assert ChapterPage.objects.child_of(handbook).filter(live=False).count() == 2
    with pytest.raises(CommandError):
        call_command("import_handbook", str(path), "--handbook", "no-such-manual", stdout=io.StringIO())


def test_import_command_dry_run_writes_nothing(handbook, tmp_path):
    path = tmp_path / "manual.md"
    path.write_text("# 第一章 总则\n\n正文。\n", encoding="utf-8")
    call_command("import_handbook", str(path), "--dry-run", stdout=io.StringIO())
    assert not ChapterPage.objects.exists()


def test_markdown_images_beside_the_file_are_imported_from_the_command_line_only(handbook, tmp_path):
    (tmp_path / "pic.png").write_bytes(png_bytes("green"))
    (tmp_path / "manual.md").write_text('# 第一章 总则\n\n![分发点](pic.png "图1 分发点")\n\n![x](../../etc/passwd)\n',
                                        encoding="utf-8")
    call_command("import_handbook", str(tmp_path / "manual.md"), stdout=io.StringIO())
    body = ChapterPage.objects.get().get_latest_revision_as_object().body
    assert [b.block_type for b in body] == ["image"] and body[0].value["caption"] == "图1 分发点"
    plan = import_plan(file_name="manual.md", data=(tmp_path / "manual.md").read_bytes())  # an upload: no folder
    assert plan.chapters[0].blocks == []
