"""Rebuild the CJK font (certificates, the handbook PDF): a subset of WenQuanYi Micro Hei covering ASCII, Latin-1 and all of GBK.

GBK contains every character of GB 2312 (6,763 hanzi and 682 symbols) plus the 14,000-odd hanzi that GB 2312
lacks but names use (喆 堃 燚 昇 玥 珺 …). WenQuanYi Micro Hei has TrueType (glyf) outlines, which reportlab's
TTFont can embed; CFF-outline fonts (Noto Sans CJK OTF) it cannot.

Source: Debian's fonts-wqy-microhei (0.2.0-beta), licence Apache-2.0 (see LICENSE-WenQuanYi-Micro-Hei.txt).
Run (needs fontTools, from requirements-test.txt):
    .venv/bin/python academy/fonts/make_subset.py /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
"""
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

OUTPUT = Path(__file__).with_name("WenQuanYiMicroHei-GBK.ttf")


def gbk_characters() -> set[str]:
    """GBK, plus GB 2312 as Python's gb2312 codec maps it (A1A4 is U+30FB there, U+00B7 in GBK)."""
    chars = set()
    for encoding in ("gbk", "gb2312"):
        for lead in range(0x81, 0xFF):
            for trail in range(0x40, 0xFF):
                try:
                    chars.add(bytes([lead, trail]).decode(encoding))
                except UnicodeDecodeError:
                    pass
    return chars


def main(source: str) -> None:
    font = TTCollection(source).fonts[0]  # face 0: WenQuanYi Micro Hei (proportional)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    unicodes = {ord(c) for c in gbk_characters()} | set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    subsetter.populate(unicodes=sorted(unicodes & set(font.getBestCmap())))
    subsetter.subset(font)
    font.save(OUTPUT)
    print(f"{OUTPUT}: {len(font.getBestCmap())} characters, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
