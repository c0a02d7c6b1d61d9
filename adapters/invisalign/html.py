"""A small DOM for page snapshots: parse serialized HTML (open shadow roots included as
`<template shadowrootmode="open">`) and find elements with the simple CSS the register writes.

Why not query the live page: a parser that works on a snapshot string is a pure function, so the
same code reads the live portal, pages recorded from the sandbox in every language and variant,
and hypothesis's inventions. Shadow roots are serialized in place, so selectors pierce them the
way Playwright's CSS engine does.

Selectors: comma lists; descendant (space) and child (`>`) combinators; compounds of a tag, `#id`,
`.class`, `[attr]`, `[attr="value"]` / `[attr=value]`. Nothing else is needed for the register's
selectors, and anything else is refused (`ValueError`) rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_RAW_TEXT = frozenset({"script", "style"})


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset((self.attrs.get("class") or "").split())

    def text(self) -> str:
        """The text content (scripts and styles left out), as a browser's textContent."""
        return "".join(self._texts())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            elif child.tag not in _RAW_TEXT:
                yield from child._texts()

    def descendants(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.descendants()

    def select(self, selector: str) -> list[Element]:
        """Descendants matching `selector`, in document order, each once."""
        alternatives = _compile(selector)
        return [e for e in self.descendants() if any(_matches(e, a, self) for a in alternatives)]

    def first(self, selector: str) -> Element | None:
        found = self.select(selector)
        return found[0] if found else None

    def __repr__(self) -> str:  # never the content: it may be patient data
        return f"<{self.tag}>"


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


# Selectors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    attrs: tuple[tuple[str, str | None], ...]


_Step = tuple[str, _Compound]  # (combinator to the previous step: " " or ">", compound)

_TOKEN = re.compile(
    r"""(?:
      (?P<comb>\s*>\s*)
    | (?P<tag>[a-zA-Z][a-zA-Z0-9-]*|\*)
    | \#(?P<id>[A-Za-z0-9_-]+)
    | \.(?P<cls>[A-Za-z0-9_-]+)
    | \[\s*(?P<attr>[A-Za-z_:][A-Za-z0-9_:.-]*)\s*
        (?:=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[A-Za-z0-9_-]+)))?\s*\]
    | (?P<space>\s+)
    )""",
    re.X,
)


@lru_cache(maxsize=512)
def _compile(selector: str) -> tuple[tuple[_Step, ...], ...]:
    return tuple(_compile_one(part) for part in _split_list(selector))


def _split_list(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _compile_one(selector: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    combinator = " "
    tag: str | None = None
    ids: list[str] = []
    classes: list[str] = []
    attrs: list[tuple[str, str | None]] = []
    open_compound = False

    def close() -> None:
        nonlocal tag, ids, classes, attrs, open_compound, combinator
        if open_compound:
            steps.append((combinator, _Compound(tag, tuple(ids), tuple(classes), tuple(attrs))))
            combinator = " "
        tag, ids, classes, attrs, open_compound = None, [], [], [], False

    position = 0
    text = selector.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unsupported selector {selector!r}")
        position = match.end()
        if match.group("comb"):
            close()
            combinator = ">"
        elif match.group("space") is not None:
            close()
        elif match.group("tag"):
            if open_compound:
                raise ValueError(f"unsupported selector {selector!r}")
            tag = None if match.group("tag") == "*" else match.group("tag").lower()
            open_compound = True
        elif match.group("id"):
            ids.append(match.group("id"))
            open_compound = True
        elif match.group("cls"):
            classes.append(match.group("cls"))
            open_compound = True
        else:
            value = match.group("dq")
            if value is None:
                value = match.group("sq")
            if value is None:
                value = match.group("bare")
            attrs.append((match.group("attr"), value))
            open_compound = True
    close()
    if not steps:
        raise ValueError(f"empty selector {selector!r}")
    return tuple(steps)


def _matches_compound(element: Element, compound: _Compound) -> bool:
    if compound.tag is not None and element.tag != compound.tag:
        return False
    if any(element.attrs.get("id") != value for value in compound.ids):
        return False
    if compound.classes and not set(compound.classes) <= element.classes:
        return False
    for name, value in compound.attrs:
        if name not in element.attrs or (value is not None and element.attrs[name] != value):
            return False
    return True


def _matches(element: Element, steps: tuple[_Step, ...], scope: Element) -> bool:
    """Right to left: the last compound matches `element`, the others its ancestors (below
    `scope`)."""
    return _match_from(element, steps, len(steps) - 1, scope)


def _match_from(element: Element, steps: tuple[_Step, ...], index: int, scope: Element) -> bool:
    combinator, compound = steps[index]
    if not _matches_compound(element, compound):
        return False
    if index == 0:
        return True
    ancestor = element.parent
    while ancestor is not None and ancestor is not scope:
        if _match_from(ancestor, steps, index - 1, scope):
            return True
        if combinator == ">":
            return False
        ancestor = ancestor.parent
    return False
