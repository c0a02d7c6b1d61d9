"""A small, forgiving HTML document model on the standard library's parser, enough to read
server-rendered pages by id, tag and class the way the register names their parts.

Real pages are not always well formed: cells, rows, list items and options are closed
implicitly as browsers do, void elements never take children, and an end tag without an open
element is ignored. Text keeps its whitespace (a note's body must come back exactly as posted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Opening the key closes an open element of these tags first (up to the nearest table/list).
_IMPLIED_END: dict[str, frozenset[str]] = {
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "tr": frozenset({"td", "th", "tr"}),
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


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close_implied(tag)
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs})
        element.parent = self.stack[-1]
        self.stack[-1].children.append(element)
        if element.id and element.id not in self.ids:
            self.ids[element.id] = element
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Document:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return Document(builder.root, builder.ids)
