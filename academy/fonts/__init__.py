"""The embedded CJK font of the project's PDFs (certificates, the work manual): a TrueType subset of WenQuanYi
Micro Hei covering GBK (see make_subset.py and the licence beside it). Base floor: any app may use it.

`register_cjk_font()` parses and registers it with reportlab once per process (thread-safe) and returns its name.
"""
from __future__ import annotations

import threading
from pathlib import Path

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).resolve().with_name("WenQuanYiMicroHei-GBK.ttf")

_lock = threading.Lock()
_registered = False


def register_cjk_font() -> str:
    global _registered
    if not _registered:
        with _lock:
            if not _registered:
                from reportlab.pdfbase import pdfmetrics
                from reportlab.pdfbase.ttfonts import TTFont

                pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
                _registered = True
    return FONT_NAME
