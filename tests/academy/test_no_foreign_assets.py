"""Every asset is served by the app: foreign CDNs are blocked or slow in mainland China."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["academy", "handbook", "courses", "live"]
FOREIGN = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//(?!localhost|127\.0\.0\.1)""", re.I)
IMPORT = re.compile(r"""@import\s+(?:url\()?["']?(?:https?:)?//""", re.I)


def _asset_files():
    for app in APPS:
        for path in (ROOT / app).rglob("*"):
            if path.suffix in {".html", ".css", ".js"} and path.is_file():
                yield path


def test_templates_and_static_files_load_nothing_from_another_host():
    offenders = []
    for path in _asset_files():
        text = path.read_text(encoding="utf-8")
        for pattern in (FOREIGN, IMPORT):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not offenders, "assets from another host:\n" + "\n".join(offenders)


def test_the_check_catches_a_cdn_link():
    assert FOREIGN.search('<script src="https://cdn.jsdelivr.net/npm/x.js"></script>')
    assert FOREIGN.search("<link href='//fonts.googleapis.com/css'>")
    assert IMPORT.search("@import url(https://fonts.googleapis.com/css2)")
    assert not FOREIGN.search('<script src="/static/live/room.js"></script>')
