"""`portal check`: which of the facts an adapter relies on hold on a live portal.

A vendor's check (`adapters/<vendor>/check.py`) walks the pages a signed-in session reaches,
reading them with the adapter's own selectors and parsers, and tells `Walk` what it saw for
each fact: it held, it differed, or the page it lives on was not reached (an MFA page a login
that is still signed in never meets, an unread bubble on a list without unread comments).
`Walk.report()` turns that into one row per fact the adapter declares (`adapters.base.facts`),
with the register's `unverified` mark, in the account's language.

What a report shows is fit to send to a maintainer: expected values are the adapter's own
literals, and a found value is a count, a page's language, a selector's verdict or a UI word
from a closed list, never what a page showed about a patient. Pages are kept only through a
`Recorder`, which writes them sanitized (`adapters.base.recording`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from adapters.base.facts import Fact, Facts
from adapters.base.recording import Keep, sanitize_html, sanitize_json_text, sanitize_url
from adapters.base.register import Register


class Verdict(StrEnum):
    HOLDS = "holds"
    DIFFERS = "differs"
    NOT_REACHED = "not_reached"


@dataclass(frozen=True)
class FactResult:
    fact: str
    expected: str
    found: str
    verdict: Verdict
    #: The register marks the fact `unverified`: an assumed fact the sync needs.
    unverified: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "expected": self.expected,
            "found": self.found,
            "verdict": str(self.verdict),
            "unverified": self.unverified,
        }


@dataclass(frozen=True)
class CheckReport:
    vendor: str
    language: str | None
    results: tuple[FactResult, ...]
    #: Status words the portal showed that the adapter does not know (UI words, not data).
    unknown_words: tuple[str, ...] = ()
    #: Pages the adapter's parsers refused for a reason no differing fact names.
    parser_errors: tuple[str, ...] = ()
    #: Set when nothing was checked: why the portal was not touched.
    refused: str | None = None

    def of(self, verdict: Verdict) -> list[FactResult]:
        return [r for r in self.results if r.verdict is verdict]

    @property
    def differs(self) -> bool:
        """Something the adapter relies on does not hold (what makes the check fail)."""
        return bool(self.of(Verdict.DIFFERS) or self.parser_errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "language": self.language,
            "refused": self.refused,
            "differs": [r.fact for r in self.of(Verdict.DIFFERS)],
            "not_reached": [r.fact for r in self.of(Verdict.NOT_REACHED)],
            "unknown_words": list(self.unknown_words),
            "parser_errors": list(self.parser_errors),
            "facts": [r.to_json() for r in self.results],
        }


@dataclass
class _Seen:
    verdict: Verdict
    found: str


class Walk:
    """What one check saw, fact by fact. A fact that differed once stays differing; one that
    held somewhere holds unless it also differed; a fact nobody saw is not reached."""

    def __init__(self, facts: Facts, register: Register) -> None:
        self.facts = facts
        self.register = register
        self.language: str | None = None
        self.unknown_words: set[str] = set()
        #: What the adapter's own parsers refused that no differing fact explains (details
        #: name facts and elements, never values).
        self.parser_errors: list[str] = []
        self._seen: dict[str, _Seen] = {}
        self._touched: set[str] = set()

    def holds(self, fact_id: str, found: str = "as expected") -> None:
        self._note(fact_id, Verdict.HOLDS, found)

    def differs(self, fact_id: str, found: str) -> None:
        self._note(fact_id, Verdict.DIFFERS, found)

    def present(self, fact_id: str, count: int, *, required: bool) -> bool:
        """A selector's matches on a page that was reached: none is a difference only where
        the page must show it (`required`), else the fact is simply not met here."""
        if count:
            self.holds(fact_id, f"{count} on the page")
        elif required:
            self.differs(fact_id, "not on the page")
        return bool(count)

    def parser_refused(self, page: str, detail: str, facts: tuple[str, ...]) -> None:
        """The adapter's parser refused a page the probes reached. Facts it names that the
        probes saw hold differ after all; a refusal no differing fact explains is kept."""
        if any(self.verdict(f) is Verdict.DIFFERS for f in facts):
            return
        held = [f for f in facts if self.verdict(f) is Verdict.HOLDS]
        for fact_id in held:
            self.differs(fact_id, "the adapter's parser refused it")
        if not held:
            self.parser_errors.append(f"{page}: {detail}")

    def touched(self) -> list[str]:
        """The facts noted since the last call (what the page just read covers)."""
        found, self._touched = sorted(self._touched), set()
        return found

    def _note(self, fact_id: str, verdict: Verdict, found: str) -> None:
        if fact_id not in self.facts.ids() and fact_id not in self.register.ids():
            raise ValueError(f"{fact_id} is neither declared by the adapter nor in the register")
        self._touched.add(fact_id)
        known = self._seen.get(fact_id)
        if known is None or (
            known.verdict is not Verdict.DIFFERS and verdict is not Verdict.NOT_REACHED
        ):
            self._seen[fact_id] = _Seen(verdict, found)

    def verdict(self, fact_id: str) -> Verdict:
        seen = self._seen.get(fact_id)
        return seen.verdict if seen else Verdict.NOT_REACHED

    def _unverified(self, fact_id: str) -> bool:
        return any(row.unverified for row in self.register.rows_of(fact_id))

    def _expected(self, facts: list[Fact]) -> str:
        """The declared value; a label in the account's language (else every language)."""
        words = [f for f in facts if f.lang == self.language] or facts
        return " | ".join(dict.fromkeys(f.value for f in words))

    def report(self) -> CheckReport:
        by_id: dict[str, list[Fact]] = {}
        for fact in self.facts:
            by_id.setdefault(fact.id, []).append(fact)
        for fact_id in self._seen:  # a rule the adapter keeps in code: the register's words
            for row in self.register.rows_of(fact_id) if fact_id not in by_id else ():
                lang = None if row.lang == "*" else row.lang
                by_id.setdefault(fact_id, []).append(Fact(fact_id, row.value, lang))
        results = []
        for fact_id, declared in by_id.items():
            seen = self._seen.get(fact_id)
            results.append(
                FactResult(
                    fact=fact_id,
                    expected=self._expected(declared),
                    found=seen.found if seen else "",
                    verdict=seen.verdict if seen else Verdict.NOT_REACHED,
                    unverified=self._unverified(fact_id),
                )
            )
        return CheckReport(
            self.facts.vendor,
            self.language,
            tuple(results),
            tuple(sorted(self.unknown_words)),
            parser_errors=tuple(self.parser_errors),
        )


#: The holes of a label template (`created: … by <username>`).
_HOLE = re.compile(r"…|<[^<>]*>")


def keep_words(facts: Facts, register: Register) -> Keep:
    """What a recording keeps verbatim: the register's literals and the adapter's own values
    (labels, test ids, codes), and the fixed words of a label template around its holes.
    None of them is patient data."""
    words = {*register.literals(), *(fact.value for fact in facts)}
    pieces = {piece.strip() for word in words for piece in _HOLE.split(word)}
    return Keep(words | pieces)


@dataclass
class Recorder:
    """Writes what a check saw into `directory`, sanitized: one file per page (`.html` for a
    rendered DOM, `.json` for a body the pages loaded) and `manifest.json`, page -> the fact
    ids it covers. Nothing is written unsanitized, and no cookie is written at all."""

    directory: Path
    keep: Keep
    manifest: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def _name(self, page: str, suffix: str) -> str:
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in page)
        name, n = f"{stem}{suffix}", 1
        while name in self.manifest:
            n += 1
            name = f"{stem}-{n}{suffix}"
        return name

    def html(self, page: str, url: str, html: str, facts: list[str]) -> str:
        name = self._name(page, ".html")
        (self.directory / name).write_text(sanitize_html(html, self.keep), encoding="utf-8")
        self._add(name, page, url, facts)
        return name

    def json(self, page: str, url: str, body: str, facts: list[str]) -> str:
        name = self._name(page, ".json")
        (self.directory / name).write_text(sanitize_json_text(body, self.keep), encoding="utf-8")
        self._add(name, page, url, facts)
        return name

    def _add(self, name: str, page: str, url: str, facts: list[str]) -> None:
        self.manifest[name] = {
            "page": page,
            "url": sanitize_url(url, self.keep),
            "facts": sorted(set(facts)),
        }

    def finish(self, report: CheckReport) -> None:
        manifest = {
            "vendor": report.vendor,
            "language": report.language,
            "pages": self.manifest,
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False)
        (self.directory / "manifest.json").write_text(text + "\n", encoding="utf-8")
