"""Reading the portal facts register (`docs/portal-facts/<vendor>.md`; format in its README).

The register is Markdown for people and tables for programs: a Sources table, fact tables
(`| id | lang | value | confidence | source | notes |`) and a Variants table. Tests hold the
sandboxes and the adapters' declared facts (`adapters.base.facts`) against it; `portal check`
reports its confidence and `unverified` marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

#: Where the register lives in a checkout (and in the container image).
REGISTER_DIR = Path(__file__).resolve().parents[2] / "docs" / "portal-facts"

FACT_ID = re.compile(r"^(ids|cc)\.[a-z0-9][a-z0-9.-]*$")
SOURCE_KEY = re.compile(r"^S[0-9]+$")
LANGS = frozenset({"*", "en", "de", "pl", "ko"})
_LITERAL = re.compile(r"`([^`]*)`")
_VARIANT = re.compile(r"variant:\s*([a-z0-9-]+)")


class Confidence(StrEnum):
    CONFIRMED = "confirmed"
    DOCUMENTED = "documented"
    ASSUMED = "assumed"


@dataclass(frozen=True)
class Source:
    key: str
    where: str
    read: str
    shows: str


@dataclass(frozen=True)
class Row:
    id: str
    lang: str
    value: str
    confidence: Confidence
    sources: tuple[str, ...]
    notes: str

    @property
    def literals(self) -> tuple[str, ...]:
        """The backticked literals of the value (what code may rely on verbatim)."""
        return tuple(_LITERAL.findall(self.value))

    @property
    def unverified(self) -> bool:
        """An assumed fact the sync needs: its reader is flagged, `portal check` reports it.
        (On a confirmed row the word only qualifies the source.)"""
        return self.confidence is Confidence.ASSUMED and "unverified" in self.notes

    @property
    def variant(self) -> str | None:
        found = _VARIANT.search(self.notes)
        return found.group(1) if found else None


@dataclass(frozen=True)
class Variant:
    name: str
    default: bool
    facts: str
    sources: str


@dataclass(frozen=True)
class Register:
    vendor: str
    sources: dict[str, Source]
    rows: tuple[Row, ...]
    variants: dict[str, Variant]

    def rows_of(self, fact_id: str) -> list[Row]:
        return [row for row in self.rows if row.id == fact_id]

    def ids(self) -> set[str]:
        return {row.id for row in self.rows}

    def holds(self, fact_id: str, value: str, lang: str | None = None) -> bool:
        """Whether the register has `fact_id` (in `lang`, or language-independent) with `value`
        as one of its literals."""
        for row in self.rows_of(fact_id):
            if lang is not None and row.lang not in (lang, "*"):
                continue
            if value in row.literals:
                return True
        return False

    def literals(self) -> set[str]:
        return {literal for row in self.rows for literal in row.literals}


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row; `|` inside backticks does not split."""
    cells: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line.strip().strip("|"):
        if char == "`":
            quoted = not quoted
        if char == "|" and not quoted:
            cells.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    cells.append("".join(current).strip())
    return cells


def parse_register(vendor: str, text: str) -> Register:
    """Parse a register; raises `ValueError` naming the line of any malformed row."""
    sources: dict[str, Source] = {}
    rows: list[Row] = []
    variants: dict[str, Variant] = {}
    header: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = []
            continue
        cells = _cells(line)
        if not header:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue
        where = f"{vendor}.md line {number}"
        if header[:2] == ["key", "source"]:
            if len(cells) != 4 or not SOURCE_KEY.match(cells[0]):
                raise ValueError(f"{where}: a source row needs key | source | read | shows")
            sources[cells[0]] = Source(*cells)
        elif header[:2] == ["id", "lang"]:
            if len(cells) != 6:
                raise ValueError(f"{where}: a fact row has 6 cells, not {len(cells)}")
            fact_id, lang, value, confidence, source, notes = cells
            if not FACT_ID.match(fact_id):
                raise ValueError(f"{where}: {fact_id!r} is not a fact id")
            if lang not in LANGS:
                raise ValueError(f"{where}: {lang!r} is not a language")
            try:
                level = Confidence(confidence)
            except ValueError:
                raise ValueError(f"{where}: {confidence!r} is not a confidence") from None
            keys = () if source == "-" else tuple(source.split())
            rows.append(Row(fact_id, lang, value, level, keys, notes))
        elif header[:1] == ["variant"]:
            if len(cells) != 4:
                raise ValueError(f"{where}: a variant row needs variant | default | facts | source")
            variants[cells[0]] = Variant(cells[0], cells[1] == "yes", cells[2], cells[3])
    return Register(vendor, sources, tuple(rows), variants)


def load_register(vendor: str, directory: Path = REGISTER_DIR) -> Register:
    return parse_register(vendor, (directory / f"{vendor}.md").read_text(encoding="utf-8"))
