"""The whole manual as one PDF: cover, table of contents with page numbers, every chapter with its blocks.

Drawn with reportlab's platypus in the project's embedded CJK font (academy/fonts, the certificates' font);
`wordWrap="CJK"` breaks lines between Chinese characters. The contents get their page numbers from a second
layout pass (`multiBuild`). Built when the manual or a chapter is published (handbook/receivers.py) and stored on
the edition (`HandbookEdition.pdf`); `/handbook/pdf/` serves it.
"""
from __future__ import annotations

import io
import logging
from html import escape

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.platypus import (
    BaseDocTemplate, Frame, Image, KeepTogether, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from academy.fonts import register_cjk_font

logger = logging.getLogger(__name__)
INK = colors.HexColor("#1f2a37")
MUTED = colors.HexColor("#6b7280")
BRAND = colors.HexColor("#0b6e4f")
WASH = colors.HexColor("#f1f5f2")
CALLOUT_COLOURS = {"tip": colors.HexColor("#eaf5ef"), "warning": colors.HexColor("#fff4e5"),
                   "key_point": colors.HexColor("#eef2fb")}


def _styles() -> dict[str, ParagraphStyle]:
    font = register_cjk_font()
    registerFontFamily(font, normal=font, bold=font, italic=font, boldItalic=font)
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, textColor=INK, wordWrap="CJK",
                          spaceAfter=6)
    return {
        "body": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=9.5, leading=15),
        "cover_title": ParagraphStyle("cover_title", parent=base, fontSize=26, leading=36, spaceBefore=6 * cm,
                                      spaceAfter=18),
        "cover_meta": ParagraphStyle("cover_meta", parent=base, fontSize=13, leading=20, textColor=MUTED),
        "toc_title": ParagraphStyle("toc_title", parent=base, fontSize=18, leading=26, spaceAfter=12),
        "chapter_number": ParagraphStyle("chapter_number", parent=base, textColor=BRAND, fontSize=11),
        "chapter_title": ParagraphStyle("chapter_title", parent=base, fontSize=20, leading=28, spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base, fontSize=14.5, leading=22, spaceBefore=12, spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=base, fontSize=12, leading=19, spaceBefore=8, spaceAfter=4),
        "quote": ParagraphStyle("quote", parent=base, leftIndent=14, textColor=MUTED),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=16, bulletIndent=4, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=14, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=base, fontSize=9, leading=13, textColor=MUTED),
        "toc0": ParagraphStyle("toc0", parent=base, fontSize=11.5, leading=20, leftIndent=0),
    }


class _ManualDocument(BaseDocTemplate):
    def __init__(self, buffer, *, title: str, footer: str):
        super().__init__(buffer, pagesize=A4, leftMargin=2.2 * cm, rightMargin=2.2 * cm, topMargin=2 * cm,
                         bottomMargin=2 * cm, title=title, author=footer)
        self.footer = footer
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])

    def _decorate(self, canvas, document):
        if document.page == 1:
            return
        canvas.saveState()
        canvas.setFont(register_cjk_font(), 8.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(self.leftMargin, 1.2 * cm, self.footer)
        canvas.drawRightString(A4[0] - self.rightMargin, 1.2 * cm, str(document.page))
        canvas.restoreState()

    def afterFlowable(self, flowable):
        key = getattr(flowable, "toc_key", None)
        if key:
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.toc_text, key, level=0)
            self.notify("TOCEntry", (0, escape(flowable.toc_text), self.page, key))


# --- Rich text -> paragraphs -------------------------------------------------------------------------------------


def _inline(node) -> str:
    from handbook.importing.tree import Node

    parts = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(escape(child, quote=False))
        elif isinstance(child, Node):
            inner = _inline(child)
            if child.tag in ("b", "strong"):
                parts.append(f"<b>{inner}</b>")
            elif child.tag in ("i", "em"):
                parts.append(f"<i>{inner}</i>")
            elif child.tag == "a" and child.attrs.get("href", "").startswith(("http://", "https://", "mailto:")):
                parts.append(f'<a href="{escape(child.attrs["href"])}" color="#0b6e4f">{inner}</a>')
            elif child.tag == "br":
                parts.append("<br/>")
            else:
                parts.append(inner)
    return "".join(parts)


def rich_flowables(html: str, styles) -> list:
    from collections import Counter

    from handbook.importing.tree import Node, parse_html

    flowables = []

    def walk(node, depth=0):
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    flowables.append(Paragraph(escape(child.strip(), quote=False), styles["body"]))
                continue
            if child.tag in ("ul", "ol"):
                items = [item for item in child.children if isinstance(item, Node) and item.tag == "li"]
                for number, item in enumerate(items, start=1):
                    bullet = f"{number}." if child.tag == "ol" else "•"
                    nested = [c for c in item.children if isinstance(c, Node) and c.tag in ("ul", "ol")]
                    text_part = Node("li", children=[c for c in item.children if c not in nested])
                    style = ParagraphStyle(f"li{depth}", parent=styles["bullet"], leftIndent=16 + 14 * depth,
                                           bulletIndent=4 + 14 * depth)
                    flowables.append(Paragraph(_inline(text_part), style, bulletText=bullet))
                    for sub in nested:
                        walk(Node("div", children=[sub]), depth + 1)
            elif child.tag in ("h2", "h3", "h4"):
                flowables.append(Paragraph(_inline(child), styles["h3"]))
            elif child.tag == "blockquote":
                flowables.append(Paragraph(_inline(child), styles["quote"]))
            elif child.tag == "p":
                text = _inline(child)
                if text.strip():
                    flowables.append(Paragraph(text, styles["body"]))
            else:
                walk(child, depth)

    walk(parse_html(html or "", Counter()))
    return flowables


def _plain(text) -> str:
    return escape(str(text or ""), quote=False)


# --- Blocks --------------------------------------------------------------------------------------------------------


def _image_flowable(image, width: float):
    try:
        rendition = image.get_rendition("max-1200x1200")
        with rendition.file.open("rb") as handle:
            data = handle.read()
    except Exception:  # a missing file must not stop the whole manual
        logger.warning("handbook PDF: image %s could not be read", getattr(image, "pk", None), exc_info=True)
        return None
    w, h = rendition.width or 1, rendition.height or 1
    scale = min(1.0, width / w, (12 * cm) / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


def block_flowables(block, styles, width: float) -> list:
    kind, value = block.block_type, block.value
    if kind == "heading":
        return [Paragraph(_plain(value), styles["h2"])]
    if kind == "subheading":
        return [Paragraph(_plain(value), styles["h3"])]
    if kind == "paragraph":
        return rich_flowables(value.source, styles)
    if kind == "callout":
        label = {"warning": _("Warning"), "key_point": _("Key point")}.get(value["kind"], _("Tip"))
        inner = [Paragraph(f"<b>{_plain(label)}</b>" + (f"　{_plain(value['title'])}" if value["title"] else ""),
                           styles["body"])] + rich_flowables(value["text"].source, styles)
        box = Table([[inner]], colWidths=[width])
        box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), CALLOUT_COLOURS.get(value["kind"], WASH)),
                                 ("LINEBEFORE", (0, 0), (0, -1), 3, BRAND),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                                 ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        return [Spacer(1, 4), box, Spacer(1, 6)]
    if kind == "checklist":
        return [Paragraph(_plain(value["title"]), styles["h3"])] + [
            Paragraph(_plain(item), styles["bullet"], bulletText="□") for item in value["items"]]
    if kind == "case_story":
        out = [Paragraph(_plain(value["title"]), styles["h3"])]
        for label, key in ((_("Situation"), "situation"), (_("What was done"), "action"), (_("Lessons"), "lessons")):
            out.append(Paragraph(f"<b>{_plain(label)}</b>", styles["body"]))
            out += rich_flowables(value[key].source, styles)
        return out
    if kind == "procedure":
        out = [Paragraph(_plain(value["title"]), styles["h3"])]
        for number, step in enumerate(value["steps"], start=1):
            out.append(Paragraph(f"<b>{_plain(step['title'])}</b>", styles["bullet"], bulletText=f"{number}."))
            if step.get("detail"):
                out += rich_flowables(step["detail"].source, styles)
        return out
    if kind == "document":
        title = value.get("title") or (value["document"].title if value.get("document") else "")
        return [Paragraph(_plain(_("Form or template: %(title)s") % {"title": title}), styles["body"])]
    if kind == "image":
        out = []
        picture = _image_flowable(value["image"], width) if value.get("image") else None
        if picture is not None:
            out.append(picture)
        if value.get("caption"):
            out.append(Paragraph(_plain(value["caption"]), styles["caption"]))
        return [KeepTogether(out)] if out else []
    if kind == "video":
        text = value.get("title") or value.get("caption") or ""
        return [Paragraph(_plain(_("Video: %(title)s") % {"title": text}), styles["muted"])]
    if kind == "table":
        rows = [[Paragraph(_plain(cell), styles["cell"]) for cell in row] for row in value["rows"]]
        columns = max((len(row) for row in rows), default=0)
        if not columns:
            return []
        rows = [row + [""] * (columns - len(row)) for row in rows]
        table = Table(rows, colWidths=[width / columns] * columns, repeatRows=1 if value.get("header_row") else 0)
        style = [("GRID", (0, 0), (-1, -1), 0.5, MUTED), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if value.get("header_row"):
            style.append(("BACKGROUND", (0, 0), (-1, 0), WASH))
        table.setStyle(TableStyle(style))
        out = [Spacer(1, 4), table]
        if value.get("caption"):
            out.append(Paragraph(_plain(value["caption"]), styles["caption"]))
        return out + [Spacer(1, 6)]
    return []


def render_manual_pdf(*, title: str, edition: str, date_text: str, introduction_html: str, chapters) -> bytes:
    """`chapters`: ChapterPage objects (live or as copied into an edition), in reading order."""
    with translation.override("zh-hans"):
        styles = _styles()
        buffer = io.BytesIO()
        footer = " · ".join(part for part in (title, edition) if part)
        document = _ManualDocument(buffer, title=title, footer=footer)
        width = document.width
        story = [Paragraph(_plain(title), styles["cover_title"])]
        meta = " · ".join(part for part in (edition, date_text) if part)
        if meta:
            story.append(Paragraph(_plain(meta), styles["cover_meta"]))
        story.append(Spacer(1, 24))
        story += rich_flowables(introduction_html, styles)
        story.append(PageBreak())
        story.append(Paragraph(_plain(_("Contents")), styles["toc_title"]))
        contents = TableOfContents(dotsMinLevel=0)
        contents.levelStyles = [styles["toc0"]]
        story.append(contents)
        for chapter in chapters:
            story.append(PageBreak())
            story.append(Paragraph(_plain(_("Chapter %(n)s") % {"n": chapter.number}), styles["chapter_number"]))
            heading = Paragraph(_plain(chapter.title), styles["chapter_title"])
            heading.toc_key = f"chapter-{chapter.number}-{chapter.slug}"
            heading.toc_text = _("Chapter %(n)s") % {"n": chapter.number} + "　" + chapter.title
            story.append(heading)
            if chapter.summary:
                story.append(Paragraph(_plain(chapter.summary), styles["muted"]))
            for block in chapter.body:
                story += block_flowables(block, styles, width)
        document.multiBuild(story)
        return buffer.getvalue()
