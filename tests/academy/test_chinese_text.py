"""Chinese text uses Chinese (full-width) punctuation: demo content, block previews and translations."""
import re
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
# ASCII , : ; ? ! directly after a Chinese character (URLs and times such as 19:30 never follow a CJK character).
HALF_WIDTH_AFTER_CJK = re.compile(r"[\u3400-\u9fff][,;?!]|[\u3400-\u9fff]:(?!//)")
CONTENT = ["handbook/demo_content.py", "courses/demo_content.py", "live/demo_content.py", "handbook/blocks.py",
           "courses/blocks.py"]


def _offenders(text: str) -> list[str]:
    return [text[max(0, m.start() - 8):m.end() + 8] for m in HALF_WIDTH_AFTER_CJK.finditer(text)]


def test_demo_content_and_block_previews_use_full_width_punctuation():
    found = {path: _offenders((ROOT / path).read_text(encoding="utf-8")) for path in CONTENT if (ROOT / path).exists()}
    assert not {path: hits for path, hits in found.items() if hits}


def test_translations_use_full_width_punctuation():
    found = {}
    for po in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"):
        if ".venv" in po.parts:
            continue
        hits = [hit for entry in polib.pofile(str(po)) for hit in _offenders(entry.msgstr)]
        if hits:
            found[str(po.relative_to(ROOT))] = hits
    assert not found


def test_the_check_catches_half_width_punctuation():
    assert _offenders("先摸清需求,再分工协作")
    assert not _offenders("时间 19:30，见 https://example.org")


def test_compiled_catalogues_match_their_sources():
    """The committed .mo files are what the site uses without gettext installed: they must not lag the .po files."""
    stale = {}
    for po_path in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"):
        if ".venv" in po_path.parts:
            continue
        compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(po_path.with_suffix(".mo")))}
        lagging = [e.msgid for e in polib.pofile(str(po_path))
                   if not e.obsolete and e.msgstr and "fuzzy" not in e.flags
                   and compiled.get((e.msgctxt, e.msgid)) != e.msgstr]
        if lagging:
            stale[str(po_path.relative_to(ROOT))] = lagging[:5]
    assert not stale
