"""A small, forgiving tree of untrusted HTML (the standard library's parser; no dependency).

Elements that are never content (script, style, iframe, forms … see sanitise.REMOVED_WITH_CONTENT) are dropped
with everything inside them while parsing, and every attribute the walker does not read is dropped; both are
counted in `dropped`. Unclosed <p> and <li> end at the next one; stray end tags are ignored.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.translation import gettext as _

from handbook.importing.sanitise import REMOVED_WITH_CONTENT

VOID = {"img", "br", "hr", "input", "meta", "link", "area", "base", "col", "embed", "param", "source", "track", "wbr"}
# Attributes the walker reads (or that converters write and mean nothing here); every other one is reported.
KEPT_ATTRIBUTES = {"href", "src", "alt", "title", "class", "id", "lang", "dir", "colspan", "rowspan", "scope"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list = field(default_factory=list)  # Node or str

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str):
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag:
                    yield child
                yield from child.find_all(tag)


class _TreeBuilder(HTMLParser):
    def __init__(self, dropped: Counter):
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]
        self.skipping: list[str] = []
        self.dropped = dropped

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            if tag == self.skipping[-1] and tag not in VOID:
                self.skipping.append(tag)
            return
        if tag in REMOVED_WITH_CONTENT:
            self.dropped[_("element <%(tag)s> with its content") % {"tag": tag}] += 1
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if tag in ("p", "li") and self.stack[-1].tag == tag:  # an unclosed <p> or <li> ends at the next one
            self.stack.pop()
        for name, _value in attrs:
            if name not in KEPT_ATTRIBUTES:
                self.dropped[_("attribute %(name)s") % {"name": name[:40]}] += 1
        node = Node(tag, {name: value or "" for name, value in attrs if name in KEPT_ATTRIBUTES})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and not self.skipping and self.stack[-1].tag == tag:
            self.stack.pop()
        elif tag not in VOID and self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.skipping:
            self.stack[-1].children.append(data)

    def handle_comment(self, data):
        pass


def parse_html(html: str, dropped: Counter) -> Node:
    builder = _TreeBuilder(dropped)
    builder.feed(html)
    builder.close()
    return builder.root
