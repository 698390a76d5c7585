"""The one allow-list for imported rich text: exactly the tags the chapter body's rich-text features produce.

Every fragment of rich text an import writes passes `clean_rich_text()` (bleach): no script, style, event
attribute, iframe or form survives, link addresses are limited to http(s), mailto and tel (no `javascript:`, no
`data:`), and every link gets rel="noopener". The structure walker (handbook/importing/structure.py) already drops
what is not allowed and reports it; bleach is the second, independent line.
"""
from __future__ import annotations

import bleach
from bleach.html5lib_shim import Filter

from handbook.blocks import PARAGRAPH_FEATURES, RICH_FEATURES

# What each Wagtail rich-text feature writes into the stored HTML (Wagtail's database format).
FEATURE_TAGS: dict[str, set[str]] = {
    "bold": {"b"},
    "italic": {"i"},
    "link": {"a"},
    "document-link": {"a"},
    "ol": {"ol", "li"},
    "ul": {"ul", "li"},
    "blockquote": {"blockquote"},
    "h2": {"h2"},
    "h3": {"h3"},
    "h4": {"h4"},
}
ALWAYS = {"p", "br"}
SAFE_PROTOCOLS = ["http", "https", "mailto", "tel"]
# Elements removed with everything inside them (their text is not content a reader should see).
REMOVED_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template", "svg",
    "math", "form", "input", "button", "select", "textarea", "option", "link", "meta", "base", "title", "head",
    "canvas", "audio", "video", "source", "track", "param", "portal", "dialog",
}


def allowed_tags(features) -> set[str]:
    tags = set(ALWAYS)
    for feature in features:
        tags |= FEATURE_TAGS.get(feature, set())
    return tags


PARAGRAPH_TAGS = frozenset(allowed_tags(PARAGRAPH_FEATURES))
CALLOUT_TAGS = frozenset(allowed_tags(RICH_FEATURES))


class _NoopenerFilter(Filter):
    """Every link opens without giving the new page a handle on ours."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = dict(token.get("data") or {})
                attrs[(None, "rel")] = "noopener"
                token["data"] = attrs
            yield token


_cleaners: dict[frozenset, bleach.Cleaner] = {}


def clean_rich_text(html: str, tags=PARAGRAPH_TAGS) -> str:
    """`html` reduced to the allow-list: disallowed tags are stripped (their text kept), attributes other than a
    link's href are removed, unsafe link addresses are removed, links get rel="noopener"."""
    key = frozenset(tags)
    cleaner = _cleaners.get(key)
    if cleaner is None:
        cleaner = _cleaners[key] = bleach.Cleaner(
            tags=key, attributes={"a": ["href", "rel"]}, protocols=SAFE_PROTOCOLS, strip=True,
            strip_comments=True, filters=[_NoopenerFilter],
        )
    return cleaner.clean(html)
