"""Untrusted HTML to chapters: the walker that decides what each element of an imported manual becomes.

- Heading 1 (`<h1>`) starts a chapter; its number comes from the heading (第三章 / 第3章 / "3." / "Chapter 3"),
  else it follows the previous chapter. The number prefix is not part of the title.
- `<h2>` -> `heading` block, `<h3>`-`<h6>` -> `subheading` block (both with anchors in the chapter's contents).
- Paragraphs, lists and quotations -> `paragraph` blocks (rich text, consecutive ones merged), through the allow-list
  of handbook/importing/sanitise.py.
- `<table>` -> `table` block (plain-text cells; the first row is the header when it has `<th>` or the source is Word).
- `<img>` with an embedded picture (Word's pictures, `data:image/…` in HTML, files beside a Markdown/HTML file when
  imported from the command line) -> `image` block; the caption is the Word "Caption"/"题注" paragraph after it, a
  `<figcaption>`, or the image's title.
- Callouts: a paragraph or quotation starting with 【提示】, 【注意】/【警告】 or 【要点】 (optionally 【提示：标题】),
  or one in the Word styles 提示/注意/要点 (Tip/Warning/Key Point) -> `callout` block.
- Checklists: a list right after a paragraph 【清单】标题, a list whose every item starts with □/☐/[ ], or list items in
  the Word style 清单 (Checklist) -> `checklist` block.
- A paragraph 【摘要】… gives the chapter's summary (else the first paragraph's opening, up to 200 characters).

Everything else is dropped and counted in `ImportPlan.dropped`: elements removed with their content (script, style,
iframe …), attributes (onerror, style …), unsafe link addresses, images that are not in the file, text before the
first Heading 1.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

from academy.text import text_clean
from handbook.importing.sanitise import CALLOUT_TAGS, PARAGRAPH_TAGS, SAFE_PROTOCOLS, clean_rich_text
from handbook.importing.tree import Node, parse_html

CONTAINERS = {"html", "body", "div", "section", "article", "main", "header", "footer", "nav", "span", "font",
              "center", "td", "th", "figure", "details", "summary", "dl", "dd", "dt"}
INLINE_RENAMES = {"strong": "b", "em": "i"}
HEADING_MAX = 120
TITLE_MAX = 255
SUMMARY_MAX = 200
CAPTION_MAX = 250
ITEM_MAX = 300
CELL_MAX = 1000
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
CALLOUT_MARK = re.compile(r"^\s*【\s*(提示|注意|警告|要点|重点)\s*(?:[：:]\s*([^】]{0,120}))?】\s*")
CALLOUT_KINDS = {"提示": "tip", "注意": "warning", "警告": "warning", "要点": "key_point", "重点": "key_point"}
CHECKLIST_MARK = re.compile(r"^\s*【\s*(?:清单|检查清单)\s*】\s*")
SUMMARY_MARK = re.compile(r"^\s*【\s*摘要\s*】\s*")
BOX_MARK = re.compile(r"^\s*(?:[□☐❑]|\[\s?\])\s*")
CHINESE_NUMBER = re.compile(r"^\s*第\s*([0-9０-９]+|[〇零一二两三四五六七八九十百]+)\s*[章篇部]\s*[：:、.．·\s]*")
ARABIC_NUMBER = re.compile(r"^\s*(?:chapter\s+)?([0-9]{1,3})(?:\s*[.、．:：]\s*|\s+)", re.IGNORECASE)
DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_numeral(text: str) -> int | None:
    """一 -> 1, 十二 -> 12, 二十 -> 20, 一百零三 -> 103, ３ -> 3; None when it is not a number below 1000."""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    total, current = 0, None
    for char in text:
        if char in DIGITS:
            current = DIGITS[char] if current is None else current * 10 + DIGITS[char]
        elif char in ("十", "百"):
            unit = 10 if char == "十" else 100
            total += (1 if current is None else current) * unit
            current = None
        else:
            return None
    total += current or 0
    return total if 0 < total < 1000 else None


def split_chapter_heading(text: str) -> tuple[int | None, str]:
    """'第三章 社区动员' -> (3, '社区动员'); '3. 社区动员' -> (3, '社区动员'); '社区动员' -> (None, '社区动员')."""
    for pattern in (CHINESE_NUMBER, ARABIC_NUMBER):
        match = pattern.match(text)
        if match:
            number = chinese_numeral(match.group(1))
            rest = text[match.end():].strip()
            if number is not None and number <= 32767:
                return number, rest or text.strip()
    return None, text.strip()


# --- The plan --------------------------------------------------------------------------------------------------


@dataclass
class ImportImage:
    key: str  # SHA-1 of the file: the same picture imported twice is one Wagtail image
    data: bytes
    extension: str
    title: str


@dataclass
class PlannedChapter:
    number: int
    title: str
    summary: str
    blocks: list[tuple[str, object]] = field(default_factory=list)  # image values hold ImportImage

    def block_counts(self) -> dict[str, int]:
        return dict(Counter(block_type for block_type, _value in self.blocks))

    @property
    def characters(self) -> int:
        return sum(len(re.sub(r"<[^>]+>|\s", "", str(value))) for _t, value in self.blocks if isinstance(value, str))


@dataclass
class ImportPlan:
    chapters: list[PlannedChapter]
    dropped: Counter
    messages: list[str] = field(default_factory=list)

    def dropped_lines(self) -> list[str]:
        return [_("%(what)s × %(count)s") % {"what": what, "count": count}
                for what, count in sorted(self.dropped.items(), key=lambda item: (-item[1], item[0]))]


def _clean_text(value: str, limit: int, dropped: Counter) -> str:
    text = text_clean(re.sub(r"\s+", " ", value or ""), required=False)
    if len(text) > limit:
        dropped[_("text cut to %(limit)s characters") % {"limit": limit}] += 1
        text = text[:limit]
    return text


class _Walker:
    def __init__(self, *, kind: str, base_dir: Path | None, dropped: Counter):
        self.kind = kind
        self.base_dir = base_dir
        self.dropped = dropped
        self.chapters: list[PlannedChapter] = []
        self.chapter: PlannedChapter | None = None
        self.rich: list[str] = []  # rich-text HTML waiting to become one paragraph block
        self.checklist_title: str | None = None
        self.summary: str | None = None
        self.first_paragraph: str | None = None
        self.before_first = 0

    # -- output ---------------------------------------------------------------------------------------------------
    def add(self, block_type: str, value) -> None:
        if self.chapter is None:
            self.before_first += 1
            return
        self.flush()
        self.chapter.blocks.append((block_type, value))

    def flush(self) -> None:
        if self.chapter is None or not self.rich:
            self.rich = []
            return
        html = clean_rich_text("".join(self.rich), PARAGRAPH_TAGS).strip()
        self.rich = []
        if html and re.sub(r"<[^>]+>|\s|&nbsp;", "", html):
            self.chapter.blocks.append(("paragraph", html))

    def finish_chapter(self) -> None:
        self.flush()
        if self.chapter is not None:
            summary = self.summary or self.first_paragraph or self.chapter.title
            if len(summary) > SUMMARY_MAX:
                cut = summary[:SUMMARY_MAX]
                end = max(cut.rfind("。"), cut.rfind("！"), cut.rfind("？"))
                summary = cut[: end + 1] if end >= 40 else cut.rstrip() + "…"
            self.chapter.summary = summary
            self.chapters.append(self.chapter)
        self.chapter, self.summary, self.first_paragraph, self.checklist_title = None, None, None, None

    # -- rich text ------------------------------------------------------------------------------------------------
    def rich_html(self, node: Node, allowed=PARAGRAPH_TAGS) -> str:
        """`node` as HTML limited to `allowed`: other tags unwrapped (text kept), attributes dropped and counted."""
        parts: list[str] = []
        for child in node.children:
            if isinstance(child, str):
                parts.append(escape(child, quote=False))
                continue
            tag = INLINE_RENAMES.get(child.tag, child.tag)
            if tag == "img":
                self.dropped[_("image inside text or a table (not imported)")] += 1
                continue
            inner = self.rich_html(child, allowed)
            if tag == "a":
                href = self.safe_href(child.attrs.get("href", ""))
                parts.append(f'<a href="{escape(href)}">{inner}</a>' if href else inner)
            elif tag in allowed and tag != "a":
                parts.append(f"<{tag}>" if tag == "br" else f"<{tag}>{inner}</{tag}>")
            else:
                if tag not in CONTAINERS and tag not in ("u", "s", "sup", "sub", "small", "code", "mark", "cite",
                                                         "abbr", "q", "time", "label", "pre", "h1", "h2", "h3",
                                                         "h4", "h5", "h6", "p", "li", "ul", "ol", "blockquote"):
                    self.dropped[_("formatting <%(tag)s> (its text kept)") % {"tag": tag}] += 1
                parts.append(inner)
        return "".join(parts)

    def safe_href(self, href: str) -> str:
        href = (href or "").strip()
        if not href:
            return ""
        scheme = urlsplit(re.sub(r"[\x00-\x20]", "", href)).scheme.lower()
        if scheme and scheme not in SAFE_PROTOCOLS:
            self.dropped[_("unsafe link address (%(scheme)s:)") % {"scheme": scheme[:20]}] += 1
            return ""
        if not scheme and not href.startswith(("/", "#")):
            return ""  # a relative address means nothing once imported: keep the text
        return href

    # -- images ---------------------------------------------------------------------------------------------------
    def image(self, node: Node, caption: str = "") -> None:
        src = node.attrs.get("src", "").strip()
        data, extension = self.image_data(src)
        if data is None:
            return
        alt = _clean_text(node.attrs.get("alt", ""), 200, self.dropped)
        caption = caption or _clean_text(node.attrs.get("title", ""), CAPTION_MAX, self.dropped)
        key = hashlib.sha1(data).hexdigest()
        title = (alt or caption or (self.chapter.title if self.chapter else "") or key[:8])[:255]
        self.add("image", {"image": ImportImage(key=key, data=data, extension=extension, title=title),
                           "alt": alt, "caption": caption[:CAPTION_MAX]})

    def image_data(self, src: str) -> tuple[bytes | None, str]:
        if src.lower().startswith("data:"):
            header, _sep, payload = src.partition(",")
            media_type = header[5:].split(";")[0].strip().lower()
            if media_type not in IMAGE_TYPES or ";base64" not in header.lower():
                self.dropped[_("embedded file that is not a picture")] += 1
                return None, ""
            try:
                data = base64.b64decode(payload, validate=False)
            except (binascii.Error, ValueError):
                data = b""
            return self.checked_image(data)
        scheme = urlsplit(src).scheme.lower()
        if not scheme and src and self.base_dir is not None:
            path = (self.base_dir / unquote(src.split("#")[0].split("?")[0])).resolve()
            if path.is_file() and path.is_relative_to(self.base_dir.resolve()) and path.stat().st_size <= IMAGE_MAX_BYTES:
                return self.checked_image(path.read_bytes())
        self.dropped[_("image that is not inside the file (%(src)s)") % {"src": (src[:60] or "-")}] += 1
        return None, ""

    def checked_image(self, data: bytes) -> tuple[bytes | None, str]:
        from PIL import Image, UnidentifiedImageError

        if not data or len(data) > IMAGE_MAX_BYTES:
            self.dropped[_("picture that could not be read")] += 1
            return None, ""
        try:
            with Image.open(io.BytesIO(data)) as picture:
                picture.verify()
                fmt = (picture.format or "").lower()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            self.dropped[_("picture that could not be read")] += 1
            return None, ""
        extension = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp"}.get(fmt)
        if extension is None:
            self.dropped[_("picture that could not be read")] += 1
            return None, ""
        return data, extension

    def caption_for_last_image(self, text: str) -> bool:
        if self.chapter and self.chapter.blocks and not self.rich:
            block_type, value = self.chapter.blocks[-1]
            if block_type == "image" and not value["caption"]:
                value["caption"] = _clean_text(text, CAPTION_MAX, self.dropped)
                return True
        return False

    # -- blocks ---------------------------------------------------------------------------------------------------
    def walk(self, node: Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    self.rich.append(f"<p>{escape(child.strip(), quote=False)}</p>")
                    if self.chapter is None:
                        self.before_first += 1
                continue
            self.element(child)

    def element(self, node: Node) -> None:
        tag = node.tag
        text = node.text().strip()
        if tag == "h1":
            self.finish_chapter()
            number, title = split_chapter_heading(text_clean(re.sub(r"\s+", " ", text), required=False))
            if not title:
                return
            if number is None:
                number = (self.chapters[-1].number + 1) if self.chapters else 1
            self.chapter = PlannedChapter(number=number, title=_clean_text(title, TITLE_MAX, self.dropped),
                                          summary="")
            return
        if tag in ("h2", "h3", "h4", "h5", "h6"):
            heading = _clean_text(text, HEADING_MAX, self.dropped)
            if heading:
                self.add("heading" if tag == "h2" else "subheading", heading)
            return
        if tag == "table":
            self.table(node)
            return
        if tag == "img":
            self.image(node)
            return
        if tag == "figure" and any(True for _ in node.find_all("img")):
            caption_node = next(node.find_all("figcaption"), None)
            caption = _clean_text(caption_node.text(), CAPTION_MAX, self.dropped) if caption_node else ""
            for image in node.find_all("img"):
                self.image(image, caption)
            return
        if tag == "aside" and any(c.startswith("callout-") for c in node.classes()):
            kind = next(c for c in node.classes() if c.startswith("callout-"))[len("callout-"):]
            self.callout(kind if kind in ("tip", "warning", "key_point") else "tip", "", node)
            return
        if tag in ("ul", "ol"):
            self.list_(node)
            return
        if tag in ("p", "blockquote"):
            self.paragraph(node, text)
            return
        if tag in ("hr",):
            return
        if tag in ("pre",):
            self.rich.append(f"<p>{escape(text, quote=False)}</p>" if text else "")
            return
        if tag in CONTAINERS or tag in ("figcaption", "aside", "li"):
            self.walk(node)
            return
        self.dropped[_("formatting <%(tag)s> (its text kept)") % {"tag": tag}] += 1
        self.walk(node)

    def paragraph(self, node: Node, text: str) -> None:
        images = list(node.find_all("img"))
        if images:
            caption = _clean_text(node.text(), CAPTION_MAX, self.dropped)
            for image in images:
                self.image(image, caption)
            return
        if not text:
            return
        if self.chapter is None:
            self.before_first += 1
            return
        if "caption" in node.classes() and self.caption_for_last_image(text):
            return
        if "document-title" in node.classes():
            self.before_first += 1
            return
        marker = CALLOUT_MARK.match(text)
        if marker:
            self.callout(CALLOUT_KINDS[marker.group(1)], marker.group(2) or "", node, strip=marker.group(0))
            return
        marker = CHECKLIST_MARK.match(text)
        if marker:
            self.flush()
            self.checklist_title = _clean_text(text[marker.end():], 120, self.dropped) or _("Checklist")
            return
        marker = SUMMARY_MARK.match(text)
        if marker:
            self.summary = _clean_text(text[marker.end():], 500, self.dropped)
            return
        if self.first_paragraph is None and node.tag == "p":
            self.first_paragraph = _clean_text(text, 500, self.dropped)
        tag = "blockquote" if node.tag == "blockquote" else "p"
        inner = self.rich_html(node)
        self.rich.append(f"<{tag}>{inner}</{tag}>" if tag == "blockquote" else f"<p>{inner}</p>")

    def callout(self, kind: str, title: str, node: Node, strip: str = "") -> None:
        html = self.rich_html(node, CALLOUT_TAGS)
        if strip:
            # remove the 【提示】 marker from the start of the text, wherever inline tags put it
            plain_marker = re.escape(strip.strip())
            html = re.sub(r"^((?:\s|<[^>]+>)*)" + plain_marker + r"\s*", r"\1", html, count=1)
        if node.tag in ("p", "blockquote") and not html.lstrip().startswith("<p>"):
            html = f"<p>{html}</p>"
        html = clean_rich_text(html, CALLOUT_TAGS).strip()
        if not re.sub(r"<[^>]+>|\s", "", html):
            return
        if (self.chapter and self.chapter.blocks and not self.rich and self.chapter.blocks[-1][0] == "callout"
                and node.tag == "aside" and self.chapter.blocks[-1][1]["kind"] == kind and not strip):
            self.chapter.blocks[-1][1]["text"] += html  # consecutive Word paragraphs in one callout style
            return
        self.add("callout", {"kind": kind, "title": _clean_text(title, 120, self.dropped), "text": html})

    def list_(self, node: Node) -> None:
        items = [child for child in node.children if isinstance(child, Node) and child.tag == "li"]
        texts = [re.sub(r"\s+", " ", item.text()).strip() for item in items]
        boxed = bool(texts) and all(BOX_MARK.match(text) for text in texts)
        if self.checklist_title is not None or boxed or "checklist" in node.classes():
            cleaned = [_clean_text(BOX_MARK.sub("", text, count=1), ITEM_MAX, self.dropped) for text in texts]
            cleaned = [item for item in cleaned if item]
            title = self.checklist_title or _("Checklist")
            self.checklist_title = None
            if cleaned:
                if (self.chapter and self.chapter.blocks and not self.rich and "checklist" in node.classes()
                        and self.chapter.blocks[-1][0] == "checklist"):
                    self.chapter.blocks[-1][1]["items"].extend(cleaned)
                else:
                    self.add("checklist", {"title": title, "items": cleaned})
            return
        if self.chapter is None:
            self.before_first += 1
            return
        for image in node.find_all("img"):
            self.image(image)
        self.rich.append(f"<{node.tag}>{self.rich_html(node)}</{node.tag}>")

    def table(self, node: Node) -> None:
        rows = []
        has_th = False
        for row in node.find_all("tr"):
            cells = []
            for cell in row.children:
                if isinstance(cell, Node) and cell.tag in ("td", "th"):
                    has_th = has_th or cell.tag == "th"
                    cells.append(_clean_text(cell.text(), CELL_MAX, self.dropped))
            if cells:
                rows.append(cells)
        for image in node.find_all("img"):
            self.image(image)
        if rows:
            caption_node = next(node.find_all("caption"), None)
            caption = _clean_text(caption_node.text(), CAPTION_MAX, self.dropped) if caption_node else ""
            self.add("table", {"caption": caption, "header_row": has_th or self.kind == "docx", "rows": rows})


def plan_from_html(html: str, *, kind: str, base_dir: Path | None = None, messages=None) -> ImportPlan:
    dropped: Counter = Counter()
    root = parse_html(html, dropped)
    walker = _Walker(kind=kind, base_dir=base_dir, dropped=dropped)
    walker.walk(root)
    walker.finish_chapter()
    if walker.before_first:
        dropped[_("text before the first Heading 1")] += walker.before_first
    return ImportPlan(chapters=walker.chapters, dropped=dropped, messages=list(messages or []))
