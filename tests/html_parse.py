"""A small DOM summary of an HTML document (stdlib ``html.parser``) for the plan.html tests:
which elements exist, their attributes, and the text as a browser would show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    children: list[Element] = field(default_factory=list)


class _Builder(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "col", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.all: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs))
        self.stack[-1].children.append(el)
        self.all.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self.stack[1:]:
            el.text += data


def parse(document: str) -> list[Element]:
    """Every element in document order (text includes the descendants' text)."""
    builder = _Builder()
    builder.feed(document)
    builder.close()
    return builder.all


def find(elements: list[Element], tag: str, cls: str | None = None) -> list[Element]:
    return [
        e
        for e in elements
        if e.tag == tag and (cls is None or cls in (e.attrs.get("class") or "").split())
    ]


def descendants(el: Element) -> list[Element]:
    out: list[Element] = []
    for child in el.children:
        out += [child, *descendants(child)]
    return out
