"""Chinese-aware site search: the base floor that every app's pages may use.

Wagtail's database search backends (modelsearch: SQLite FTS5 with the unicode61 tokenizer, PostgreSQL tsvector
with the default parser) treat an unbroken run of Chinese characters as ONE token, so 志愿 is not found inside
志愿者招募. We do not segment words with a dictionary; we index overlapping character bigrams instead (the classic
CJK n-gram technique of Lucene's CJKAnalyzer):

- at index time, `cjk_index_text()` rewrites every run of CJK characters as its overlapping bigrams
  (志愿者招募 → "志愿 愿者 者招 招募"; a one-character run stays as itself) and a model indexes that text in an
  extra SearchField (see `CJKSearchMixin` / `cjk_search_fields()`);
- at query time, `cjk_query_terms()` rewrites the query the same way, and the backend is asked for all the terms
  (operator AND): 志愿者 → 志愿 AND 愿者. Every two-character word inside a longer text matches, on both backends,
  with the backends' own indexes; nothing is scanned with LIKE.

Bigrams may match across a word boundary (a false positive such as 者招 above), which is the known trade-off of the
technique; requiring every bigram of the query and ranking exact-substring matches first keeps results precise.

`search_pages()` runs a query against Wagtail pages and returns hits in relevance order, title matches first, and a
highlighted snippet (`highlight()` escapes first, then wraps matches in <mark>).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

MAX_QUERY_LENGTH = 100
QUERY_EMPTY = _("Type a word to search for.")
QUERY_TOO_LONG = _("Your search is too long: use at most %(n)s characters.")
QUERY_HAS_MARKUP = _("Search for words only: markup such as < > is not allowed.")
QUERY_NO_WORDS = _("Your search has no words in it: type Chinese or English words.")

# CJK Unified Ideographs (with extension A), compatibility ideographs, and kana/hangul for completeness.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
CJK_RUN = re.compile(f"[{_CJK}]+")
# A search "word": a CJK run, or a run of letters/digits (other scripts, Latin words, numbers).
WORD = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+", re.UNICODE)
MARKUP = re.compile(r"[<>]|&[#a-zA-Z0-9]+;")


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run; a single character is its own term."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i:i + 2] for i in range(len(run) - 1)]


def cjk_index_text(text: str) -> str:
    """The text with every CJK run rewritten as space-separated bigrams (other words kept, lower-cased)."""
    if not text:
        return ""
    words = []
    for match in WORD.finditer(strip_tags(str(text))):
        word = match.group(0)
        words.extend(cjk_bigrams(word) if CJK_RUN.fullmatch(word) else [word.lower()])
    return " ".join(words)


def cjk_query_terms(query: str) -> list[str]:
    """The query as index terms, de-duplicated in order: 志愿者 心理 → [志愿, 愿者, 心理]."""
    terms: list[str] = []
    for match in WORD.finditer(query):
        word = match.group(0)
        for term in cjk_bigrams(word) if CJK_RUN.fullmatch(word) else [word.lower()]:
            if term not in terms:
                terms.append(term)
    return terms


def query_words(query: str) -> list[str]:
    """The words of a query as typed (CJK runs and other words), for highlighting and title ranking."""
    return [match.group(0) for match in WORD.finditer(query)]


def validate_query(query: str) -> str | None:
    """A Chinese (translated) message when the query cannot be searched, else None."""
    if not query:
        return str(QUERY_EMPTY)
    if len(query) > MAX_QUERY_LENGTH:
        return str(QUERY_TOO_LONG) % {"n": MAX_QUERY_LENGTH}
    if MARKUP.search(query):
        return str(QUERY_HAS_MARKUP)
    if not cjk_query_terms(query):
        return str(QUERY_NO_WORDS)
    return None


# --- Models --------------------------------------------------------------------------------------------------------


def cjk_search_fields() -> list:
    """The extra search fields a page type adds to its search_fields to be found by Chinese words."""
    return [index.SearchField("cjk_search_title", boost=4), index.SearchField("cjk_search_text")]


class CJKSearchMixin:
    """Mix into a Page (or any indexed model) and add `cjk_search_fields()` to its search_fields.

    Override `get_search_text()` to return the plain text worth finding (the default: title, search description).
    """

    def get_search_text(self) -> str:
        return " ".join(filter(None, [getattr(self, "search_description", "")]))

    def cjk_search_title(self) -> str:
        return cjk_index_text(self.title)

    def cjk_search_text(self) -> str:
        return cjk_index_text(self.get_search_text())


# --- Querying and presenting ---------------------------------------------------------------------------------------


def highlight(text: str, words: list[str]) -> SafeString:
    """Escape `text`, then wrap every occurrence of any of `words` in <mark> (case-insensitive)."""
    escaped = escape(text)
    marks = sorted({escape(w) for w in words if w}, key=len, reverse=True)
    if not marks:
        return mark_safe(escaped)
    pattern = re.compile("|".join(re.escape(m) for m in marks), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


def snippet(text: str, words: list[str], *, width: int = 90) -> SafeString:
    """A window of `text` around the first match, highlighted; the start of the text when nothing matches."""
    text = re.sub(r"\s+", " ", strip_tags(text or "")).strip()
    lower = text.lower()
    positions = [lower.find(w.lower()) for w in words if w and w.lower() in lower]
    if positions:
        first = min(positions)
        start = max(0, first - width // 3)
        end = min(len(text), start + width)
    else:
        start, end = 0, min(len(text), width)
    piece = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + highlight(piece, words) + suffix)


@dataclass
class SearchHit:
    page: object
    title: SafeString
    snippet: SafeString
    title_match: bool
    position: int  # in the backend's relevance order (0 = most relevant)


def _plain_text_of(page) -> str | None:
    """The page's searchable plain text, or None for a model that does not offer it (no CJKSearchMixin)."""
    getter = getattr(page, "get_search_text", None)
    if callable(getter):
        return getter()
    return None


def search_pages(queryset, query: str, *, limit: int = 200) -> list[SearchHit]:
    """Search `queryset` (pages) for `query`: CJK bigram terms ANDed, title matches first, snippets highlighted.

    Callers validate the query first (`validate_query`). Ranking: pages whose title contains the query words come
    first; within each group, the backend's relevance order (BM25 on SQLite, ts_rank on PostgreSQL).
    """
    terms = cjk_query_terms(query)
    if not terms:
        return []
    words = query_words(query)
    # Pages of models that index CJK bigrams match the expanded terms; pages of models that do not (yet) still
    # match the query as typed, as Wagtail alone would find them. The two result lists are merged.
    # The backends' scores are not comparable (SQLite's bm25 is better when lower, PostgreSQL's ts_rank when
    # higher): each result keeps its best position in the backends' own relevance order.
    found: dict[int, tuple[object, int]] = {}
    searches = [" ".join(terms)]
    plain = " ".join(words)
    if plain.lower() != searches[0]:
        searches.append(plain)
    for search_string in searches:
        results = queryset.search(search_string, operator="and", order_by_relevance=True)
        for position, page in enumerate(results[:limit]):
            if page.pk not in found or found[page.pk][1] > position:
                found[page.pk] = (page, position)
    hits = []
    for page, position in found.values():
        specific = page.specific_deferred if hasattr(page, "specific_deferred") else page
        title = specific.title
        title_match = all(w.lower() in title.lower() for w in words)
        text = _plain_text_of(specific)
        if text is not None:
            # Bigrams may match across word boundaries (志愿 者招 …): keep only pages holding every word as typed.
            haystack = f"{title} {text}".lower()
            if not all(w.lower() in haystack for w in words):
                continue
        else:
            text = getattr(specific, "search_description", "") or ""
        hits.append(SearchHit(page=specific, title=highlight(title, words), snippet=snippet(text, words),
                              title_match=title_match, position=position))
    hits.sort(key=lambda hit: (not hit.title_match, hit.position))
    return hits
