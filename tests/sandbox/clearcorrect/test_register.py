"""The sandbox against the facts register: every route is a literal of a register row and is
listed in ROUTES.md with its fact and that fact's confidence, and every word the pages show
holds in the register for its language (German bilingual labels as "English (German)")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route

from adapters.base.register import Confidence, load_register
from sandbox.clearcorrect import create_app, labels
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import ADMIN_PREFIX

REGISTER = load_register("clearcorrect")
ROUTES_MD = Path(__file__).resolve().parents[3] / "sandbox" / "clearcorrect" / "ROUTES.md"
_PARAM = re.compile(r"\{[^}]*\}|<[^>]*>")


def _shape(path: str) -> str:
    """A path with its parameters folded (`/Cases/{case_id}` and `/Cases/{caseNumber}` agree)."""
    return _PARAM.sub("{}", path)


def _literal_paths() -> dict[str, set[str]]:
    """Register literals that look like paths, by shape: fact ids holding each."""
    found: dict[str, set[str]] = {}
    for row in REGISTER.rows:
        for literal in row.literals:
            method, _, rest = literal.partition(" ")
            text = rest if method.isupper() and rest else literal
            text = text.split("?", 1)[0].strip()
            if text.startswith("/"):
                found.setdefault(_shape(text), set()).add(row.id)
    return found


def _routes() -> list[Route]:
    app = create_app(SandboxConfig(admin=True))
    return [r for r in app.routes if isinstance(r, Route) and not r.path.startswith(ADMIN_PREFIX)]


def test_every_route_is_a_literal_of_the_register() -> None:
    literals = _literal_paths()
    missing = [r.path for r in _routes() if _shape(r.path) not in literals]
    assert missing == []


def test_routes_md_lists_every_route_with_its_fact_and_confidence() -> None:
    table: dict[str, tuple[str, str]] = {}
    for line in ROUTES_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`") and cells[2].startswith("`cc."):
            path = cells[0].strip("`").split(" ", 1)[-1]
            table[_shape(path)] = (cells[2].strip("`"), cells[3])
    for route in _routes():
        assert _shape(route.path) in table, f"ROUTES.md does not list {route.path}"
        fact, confidence = table[_shape(route.path)]
        rows = REGISTER.rows_of(fact)
        assert rows, f"ROUTES.md names an unknown fact {fact}"
        assert fact in _literal_paths()[_shape(route.path)], f"{fact} does not hold {route.path}"
        assert confidence == rows[0].confidence.value, f"{route.path}: {fact} is {confidence}?"


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_every_word_the_pages_show_holds_in_the_register(lang: str) -> None:
    wrong = [
        (fact, words[lang])
        for fact, words in labels.W.items()
        if not REGISTER.holds(fact, words[lang], lang)
    ]
    assert wrong == []


def test_german_shows_the_labels_the_vendor_writes_bilingually_in_both_languages() -> None:
    assert REGISTER.rows_of("cc.lang.de-bilingual")[0].confidence is Confidence.DOCUMENTED
    for fact in labels.BILINGUAL:
        shown = labels.word(fact, "de")
        english, german = labels.W[fact]["en"], labels.W[fact]["de"]
        assert shown == f"{english} ({german})"
        assert REGISTER.holds(fact, english, "en") and REGISTER.holds(fact, german, "de")
    assert labels.word("cc.status.awaiting-setup", "de") == (
        "Awaiting Setup (Behandlungsplanung wird erwartet)"
    )
    assert labels.word("cc.status.closed", "de") == "Abgeschlossen"


def test_languages_follow_the_profile_then_the_browser() -> None:
    assert labels.negotiate("pl-PL,pl;q=0.9,en;q=0.5") == "pl"
    assert labels.negotiate("fr-FR, de;q=0.7, pl;q=0.8") == "pl"
    assert labels.negotiate("fr-FR") == "en"
    assert labels.negotiate(None) == "en"
    assert labels.negotiate("de;q=0, pl") == "pl"
