"""StreamField blocks of handbook chapters.

The block type names (heading, subheading, paragraph, callout, checklist, case_story, procedure, document, image,
video, table) are
part of the stored data and of handbook/demo_content.py: never rename them. Each block has an icon, a template
under handbook/blocks/ and a preview_value for the editor's block picker.
"""
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

PREVIEW_TEMPLATE = "handbook/blocks/preview.html"  # the editor's block preview, styled like the site
RICH_FEATURES = ["bold", "italic", "link", "ol", "ul", "document-link"]
TABLE_CELL_MAX = 1000
PARAGRAPH_FEATURES = ["h3", "bold", "italic", "link", "ol", "ul", "blockquote", "document-link"]
VIDEO_SOURCE_REQUIRED = _("Give either a video page address (embed) or a video file address.")


def heading_anchor(text: str, index: int | None = None) -> str:
    """An anchor id for a section heading: a slug of its text (Chinese kept), else its position."""
    slug = slugify(text or "", allow_unicode=True)
    if slug:
        return f"s-{slug}"[:80]
    return f"section-{index if index is not None else 0}"


class HeadingBlock(blocks.CharBlock):
    """A section heading: an <h2> with an anchor that the chapter's contents link to."""

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context.setdefault("anchor", heading_anchor(value))
        return context

    class Meta:
        icon = "title"
        label = _("Section heading")
        template = "handbook/blocks/heading.html"
        preview_template = PREVIEW_TEMPLATE
        max_length = 120
        preview_value = "一、“联动”到底指什么"
        description = _("Starts a section; appears in the chapter's contents with its own anchor.")


class SubheadingBlock(HeadingBlock):
    """A heading inside a section: an <h3> with its own anchor (Word's Heading 3 on import)."""

    class Meta:
        icon = "title"
        label = _("Subsection heading")
        template = "handbook/blocks/subheading.html"
        preview_template = PREVIEW_TEMPLATE
        max_length = 120
        preview_value = "（一）先摸清底数"
        description = _("A heading inside a section; appears indented in the chapter's contents.")


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[("tip", _("Tip")), ("warning", _("Warning")), ("key_point", _("Key point"))], default="tip",
        label=_("Kind"),
    )
    title = blocks.CharBlock(required=False, max_length=120, label=_("Title"))
    text = blocks.RichTextBlock(features=RICH_FEATURES, label=_("Text"))

    class Meta:
        icon = "warning"
        label = _("Callout (tip, warning, key point)")
        template = "handbook/blocks/callout.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {
            "kind": "key_point", "title": "启动联动前先回答三个问题",
            "text": "<p>谁牵头、信息怎么传、出了问题找谁。</p>",
        }


class ChecklistBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120, label=_("Title"))
    items = blocks.ListBlock(blocks.CharBlock(max_length=300, label=_("Item")), min_num=1, label=_("Items"))

    class Meta:
        icon = "list-ul"
        label = _("Checklist")
        template = "handbook/blocks/checklist.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"title": "联动机制自查清单", "items": ["三方牵头人已确认", "求助有统一登记入口"]}


class CaseStoryBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120, label=_("Title"))
    situation = blocks.RichTextBlock(features=RICH_FEATURES, label=_("Situation"))
    action = blocks.RichTextBlock(features=RICH_FEATURES, label=_("What was done"))
    lessons = blocks.RichTextBlock(features=RICH_FEATURES, label=_("Lessons"))

    class Meta:
        icon = "openquote"
        label = _("Case story")
        template = "handbook/blocks/case_story.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {
            "title": "一个老旧小区里的三方分工",
            "situation": "<p>居委会人手不足，热心居民不知道能帮什么忙。</p>",
            "action": "<p>社工把求助统一登记，按类别分派给志愿者。</p>",
            "lessons": "<p>分工清楚、信息统一，是联动的前提。</p>",
        }


class ProcedureStepBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120, label=_("Step"))
    detail = blocks.RichTextBlock(features=RICH_FEATURES, required=False, label=_("Detail"))

    class Meta:
        icon = "arrow-right"
        label = _("Step")


class ProcedureBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120, label=_("Title"))
    steps = blocks.ListBlock(ProcedureStepBlock(), min_num=1, label=_("Steps"))

    class Meta:
        icon = "list-ol"
        label = _("Step-by-step procedure")
        template = "handbook/blocks/procedure.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {
            "title": "在一个社区启动三社联动",
            "steps": [
                {"title": "摸清底数", "detail": "<p>核对住户情况和重点人群。</p>"},
                {"title": "书面分工", "detail": "<p>把牵头人和各方职责写成简短说明。</p>"},
            ],
        }


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    title = blocks.CharBlock(required=False, max_length=120, label=_("Title"),
                             help_text=_("Leave empty to use the document's own title."))
    description = blocks.TextBlock(required=False, max_length=400, label=_("Description"))

    class Meta:
        icon = "doc-full"
        label = _("Downloadable form or template")
        template = "handbook/blocks/document.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"title": "居民求助登记表（模板）", "description": "可打印的登记表，供楼栋长使用。"}


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt = blocks.CharBlock(required=False, max_length=200, label=_("Text alternative"),
                           help_text=_("Describe the image for readers who cannot see it."))
    caption = blocks.CharBlock(required=False, max_length=250, label=_("Caption"))

    class Meta:
        icon = "image"
        label = _("Image with caption")
        template = "handbook/blocks/image.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"caption": "社区物资分发点的无接触交接"}


class VideoBlock(blocks.StructBlock):
    """A video: a page address that Wagtail can embed, or the address of a video file played by the browser."""

    title = blocks.CharBlock(required=False, max_length=120, label=_("Title"))
    embed = EmbedBlock(required=False, label=_("Video page address (embed)"))
    file_url = blocks.URLBlock(required=False, label=_("Video file address (MP4)"))
    caption = blocks.CharBlock(required=False, max_length=250, label=_("Caption"))

    def clean(self, value):
        value = super().clean(value)
        if not value.get("embed") and not value.get("file_url"):
            raise StructBlockValidationError(block_errors={"file_url": ValidationError(VIDEO_SOURCE_REQUIRED)})
        return value

    class Meta:
        icon = "media"
        label = _("Embedded video")
        template = "handbook/blocks/video.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {"title": "课程回放", "file_url": "https://example.org/video.mp4", "caption": "第一讲回放"}


class TableBlock(blocks.StructBlock):
    """A table of plain-text cells (typed: rows of cells), the first row optionally its header."""

    caption = blocks.CharBlock(required=False, max_length=250, label=_("Caption"))
    header_row = blocks.BooleanBlock(required=False, default=True, label=_("The first row is a header"))
    rows = blocks.ListBlock(
        blocks.ListBlock(blocks.CharBlock(required=False, max_length=TABLE_CELL_MAX, label=_("Cell")),
                         label=_("Row")),
        min_num=1, label=_("Rows"),
    )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        rows = [list(row) for row in value.get("rows") or []]
        width = max((len(row) for row in rows), default=0)
        rows = [row + [""] * (width - len(row)) for row in rows]
        if value.get("header_row") and rows:
            context["header"], context["body_rows"] = rows[0], rows[1:]
        else:
            context["header"], context["body_rows"] = None, rows
        return context

    class Meta:
        icon = "table"
        label = _("Table")
        template = "handbook/blocks/table.html"
        preview_template = PREVIEW_TEMPLATE
        preview_value = {
            "caption": "三方分工", "header_row": True,
            "rows": [["角色", "负责"], ["社区", "统筹协调"], ["社会组织", "专业服务"]],
        }


class ChapterBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    subheading = SubheadingBlock()
    paragraph = blocks.RichTextBlock(
        features=PARAGRAPH_FEATURES,
        icon="pilcrow", label=_("Rich text"), template="handbook/blocks/paragraph.html",
        preview_template=PREVIEW_TEMPLATE,
        preview_value="<p>“三社”指社区、社会组织和社会工作者。</p>",
    )
    callout = CalloutBlock()
    checklist = ChecklistBlock()
    case_story = CaseStoryBlock()
    procedure = ProcedureBlock()
    document = DocumentBlock()
    image = ImageBlock()
    video = VideoBlock()
    table = TableBlock()


__all__ = ["PARAGRAPH_FEATURES", "RICH_FEATURES", "ChapterBodyBlock", "heading_anchor"]
