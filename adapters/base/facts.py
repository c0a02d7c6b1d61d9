"""Portal facts: every URL, selector, field and label an adapter relies on, named by its id in
the facts register (`docs/portal-facts/<vendor>.md`).

A vendor's `site.py` declares what it uses through one `Facts` set:

    FACTS = Facts("invisalign")
    LOGIN_PATH = FACTS.value("ids.login.path", "/u/login")
    ACTION_REQUIRED = FACTS.label("ids.status.action-required", {"en": "...", "ko": "..."})

so that a test can hold every declared value against the register (same id, same literal, per
language), `portal check` can walk them on a live portal, and a `PortalChanged` can name the
facts that no longer hold. The register itself is read by `adapters.base.register`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    id: str
    value: str
    #: The language of a label; None for a fact that does not depend on it.
    lang: str | None = None


class Facts:
    """The facts one adapter declares, in declaration order."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._facts: dict[tuple[str, str | None], Fact] = {}

    def value(self, fact_id: str, value: str) -> str:
        """Declare a literal (a path, a selector, a field name) and return it."""
        self._add(Fact(fact_id, value))
        return value

    def label(self, fact_id: str, words: Mapping[str, str]) -> dict[str, str]:
        """Declare a label in each language it is read in; returns {lang: words}."""
        for lang, text in words.items():
            self._add(Fact(fact_id, text, lang))
        return dict(words)

    def _add(self, fact: Fact) -> None:
        key = (fact.id, fact.lang)
        known = self._facts.get(key)
        if known is not None and known.value != fact.value:
            raise ValueError(f"fact {fact.id} ({fact.lang}) declared twice with other values")
        self._facts[key] = fact

    def __iter__(self) -> Iterator[Fact]:
        return iter(self._facts.values())

    def __len__(self) -> int:
        return len(self._facts)

    def ids(self) -> set[str]:
        return {fact.id for fact in self._facts.values()}
