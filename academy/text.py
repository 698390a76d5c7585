"""Text that people type, made safe to keep, show and export.

One rule for every free-text field (questions, replies, names, organisations, answers): control characters (C0 and
C1, except the newline of a multi-line field), lone surrogates, the byte-order mark and the bidirectional embedding,
override and isolate characters are removed, so nothing a participant types can break a spreadsheet, reorder what
others see, or hide an empty text behind invisible characters. Text that is blank once the invisible format
characters are set aside is refused with `TEXT_BLANK`.
"""
from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TEXT_BLANK = _("This field cannot be blank or contain only invisible characters.")

# Bidirectional embeddings, overrides and isolates: LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ALWAYS_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff" + _BIDI_CONTROLS + "\ud800-\udfff]"
)


def text_clean(value: str, *, multiline: bool = False, required: bool = True) -> str:
    """`value` without the characters above; tabs become spaces; a single-line field's line breaks become spaces.

    Raises ValidationError(TEXT_BLANK) when `required` and nothing visible is left.
    """
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _ALWAYS_REMOVED.sub("", text)
    if not multiline:
        text = text.replace("\n", " ")
    text = text.strip()
    if required and text_is_blank(text):
        raise ValidationError(TEXT_BLANK, code="blank")
    return text


def text_is_blank(text: str) -> bool:
    """True when nothing but white space and invisible format characters (zero-width space, joiners …) is left."""
    return not any(not char.isspace() and unicodedata.category(char) != "Cf" for char in text)
