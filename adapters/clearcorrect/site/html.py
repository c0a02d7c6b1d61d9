"""A small, forgiving HTML document model, enough to read server-rendered pages by id, tag and
class the way the register names their parts.

Real pages are not always well formed: cells, rows, list items and options are closed
implicitly as browsers do, void elements never take children, and an end tag without an open
element is ignored. Text keeps its whitespace (a note's body must come back exactly as posted).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Opening the key closes the nearest open element of these tags first (with everything inside
#: it), looking no further out than the nearest table, list or block.
_IMPLIED_END: dict[str, frozenset[str]] = {
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "tr": frozenset({"tr"}),
    "li": frozenset({"li"}),
    "option": frozenset({"option"}),
    "p": frozenset({"p"}),
}
_SCOPES = frozenset({"table", "ul", "ol", "select", "div", "body", "form"})


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """The text of this element and its descendants, as written (whitespace kept)."""
        parts: list[str] = []
        stack: list[Element | str] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                parts.append(node)
            else:
                stack.extend(reversed(node.children))
        return "".join(parts)

    def words(self) -> str:
        """The text with runs of whitespace (and non-breaking spaces) made one space."""
        return " ".join(self.text().replace("\u00a0", " ").split())

    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """Descendants in document order (not this element)."""
        stack = list(reversed(self.elements()))
        while stack:
            node = stack.pop()
            if tag is None or node.tag == tag:
                yield node
            stack.extend(reversed(node.elements()))

    def first(self, tag: str | None = None, **attrs: str) -> Element | None:
        for node in self.iter(tag):
            if all(node.attrs.get(k.rstrip("_")) == v for k, v in attrs.items()):
                return node
        return None

    def rows(self) -> list[Element]:
        """A table's own rows (through thead/tbody/tfoot, never a nested table's)."""
        found = []
        for child in self.elements():
            if child.tag == "tr":
                found.append(child)
            elif child.tag in ("thead", "tbody", "tfoot"):
                found += [row for row in child.elements() if row.tag == "tr"]
        return found

    def cells(self) -> list[Element]:
        return [c for c in self.elements() if c.tag in ("td", "th")]


class Document:
    """A parsed page: its root element and an index of the elements by id."""

    def __init__(self, root: Element, ids: dict[str, Element]) -> None:
        self.root = root
        self._ids = ids

    def by_id(self, element_id: str) -> Element | None:
        return self._ids.get(element_id)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        return self.root.iter(tag)

    def first(self, tag: str | None = None, **attrs: str) -> Element | None:
        return self.root.first(tag, **attrs)

    @property
    def lang(self) -> str:
        html = self.root.first("html")
        return html.get("lang") if html else ""


_TOKEN = re.compile(
    r"<!--.*?-->"  # a comment
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<![^>]*>"  # a doctype
    r"|<\?[^>]*>"
    r"|</([a-zA-Z][a-zA-Z0-9:-]*)\s*>"  # an end tag
    r"|<([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",  # a start tag
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_RAW_TEXT = frozenset({"script", "style", "textarea", "title"})


class _Builder:
    """Builds the tree from a single pass of one regular expression over the text (several
    times faster than `html.parser`, which matters on a portal read page by page)."""

    def __init__(self) -> None:
        self.root = Element("#document", {})
        self.stack: list[Element] = [self.root]
        self.ids: dict[str, Element] = {}

    def _close_implied(self, tag: str) -> None:
        closes = _IMPLIED_END.get(tag)
        if not closes:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[depth].tag
            if open_tag in closes:
                del self.stack[depth:]
                return
            if open_tag in _SCOPES or (tag in ("td", "th", "tr") and open_tag == "table"):
                return

    def _text(self, text: str) -> None:
        if text:
            self.stack[-1].children.append(unescape(text) if "&" in text else text)

    def _start(self, tag: str, raw: str) -> Element:
        attrs: dict[str, str] = {}
        if raw:
            for name, double, single, bare in _ATTRIBUTE.findall(raw):
                value = double or single or bare
                attrs.setdefault(name.lower(), unescape(value) if "&" in value else value)
        self._close_implied(tag)
        element = Element(tag, attrs)
        element.parent = self.stack[-1]
        self.stack[-1].children.append(element)
        element_id = attrs.get("id")
        if element_id and element_id not in self.ids:
            self.ids[element_id] = element
        if tag not in _VOID and not raw.endswith("/"):
            self.stack.append(element)
        return element

    def _end(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def feed(self, html: str) -> None:
        position = 0
        length = len(html)
        while position < length:
            match = _TOKEN.search(html, position)
            if match is None:
                self._text(html[position:])
                return
            self._text(html[position : match.start()])
            position = match.end()
            end_tag, start_tag = match.group(1), match.group(2)
            if end_tag:
                self._end(end_tag.lower())
            elif start_tag:
                tag = start_tag.lower()
                element = self._start(tag, match.group(3))
                if tag in _RAW_TEXT and self.stack[-1] is element:
                    closing = re.compile(rf"</{tag}\s*>", re.I).search(html, position)
                    stop = closing.start() if closing else length
                    raw = html[position:stop]
                    if raw:
                        element.children.append(
                            unescape(raw) if tag in ("textarea", "title") else raw
                        )
                    self.stack.pop()
                    position = closing.end() if closing else length


def parse(html: str) -> Document:
    builder = _Builder()
    builder.feed(html)
    return Document(builder.root, builder.ids)
