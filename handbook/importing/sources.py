"""A manual file to HTML: Word (.docx, through mammoth), HTML (.html/.htm) and Markdown (.md/.markdown).

The HTML produced here is *untrusted*: handbook/importing/structure.py walks it and keeps only what the chapter
body allows. Word paragraph styles that mark callouts and captions are mapped to elements the walker recognises
(see docs/handbook.md, "Importing a manual").
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import markdown
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 20 * 1024 * 1024
KINDS = {".docx": "docx", ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}
UNSUPPORTED = _("Only Word (.docx), HTML (.html, .htm) and Markdown (.md) files can be imported.")
TOO_LARGE = _("The file is larger than 20 MB.")
UNREADABLE = _("The file could not be read as a Word document.")
NOT_TEXT = _("The file is not text in UTF-8 or GB18030.")

# Word paragraph styles (English or Chinese names) -> elements the structure walker turns into blocks.
# Built-in headings are matched by mammoth itself ("heading 1" is the style's internal name in every language);
# WPS and some templates name them 标题 1 …
DOCX_STYLE_MAP = "\n".join([
    "p[style-name='标题 1'] => h1:fresh",
    "p[style-name='标题 2'] => h2:fresh",
    "p[style-name='标题 3'] => h3:fresh",
    "p[style-name='Title'] => p.document-title:fresh",
    "p[style-name='标题'] => p.document-title:fresh",
    "p[style-name='Caption'] => p.caption:fresh",
    "p[style-name='题注'] => p.caption:fresh",
    "p[style-name='Tip'] => aside.callout-tip > p:fresh",
    "p[style-name='提示'] => aside.callout-tip > p:fresh",
    "p[style-name='Warning'] => aside.callout-warning > p:fresh",
    "p[style-name='注意'] => aside.callout-warning > p:fresh",
    "p[style-name='警告'] => aside.callout-warning > p:fresh",
    "p[style-name='Key Point'] => aside.callout-key_point > p:fresh",
    "p[style-name='Key point'] => aside.callout-key_point > p:fresh",
    "p[style-name='要点'] => aside.callout-key_point > p:fresh",
    "p[style-name='Checklist'] => ul.checklist > li:fresh",
    "p[style-name='清单'] => ul.checklist > li:fresh",
])


class SourceError(ValueError):
    pass


@dataclass
class SourceHTML:
    html: str
    kind: str
    messages: list[str] = field(default_factory=list)  # the converter's own warnings (unknown Word styles …)


def kind_of(file_name: str) -> str:
    lower = (file_name or "").lower()
    for suffix, kind in KINDS.items():
        if lower.endswith(suffix):
            return kind
    raise SourceError(UNSUPPORTED)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(NOT_TEXT)


def to_html(*, file_name: str, data: bytes) -> SourceHTML:
    kind = kind_of(file_name)
    if len(data) > MAX_BYTES:
        raise SourceError(TOO_LARGE)
    if kind == "docx":
        import mammoth

        try:
            result = mammoth.convert_to_html(io.BytesIO(data), style_map=DOCX_STYLE_MAP)
        except Exception as error:  # a broken or disguised file: zipfile, KeyError, XML errors …
            raise SourceError(UNREADABLE) from error
        messages = sorted({str(message.message) for message in result.messages})
        return SourceHTML(html=result.value, kind=kind, messages=messages)
    text = _decode(data)
    if kind == "markdown":
        html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
        return SourceHTML(html=html, kind=kind)
    return SourceHTML(html=text, kind=kind)
