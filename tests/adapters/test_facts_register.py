"""The facts register (`docs/portal-facts/`) is well formed: every fact has an id, a language, a
confidence and dated sources that exist, so the tests that hold the sandboxes and adapters
against it can trust what they read."""

from __future__ import annotations

import re

import pytest

from adapters.base.facts import Facts
from adapters.base.register import Confidence, load_register, parse_register

VENDORS = ("invisalign", "clearcorrect")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_fact_has_an_id_a_dated_source_and_a_confidence(vendor: str) -> None:
    register = load_register(vendor)
    assert len(register.rows) > 100 and register.sources and register.variants
    for source in register.sources.values():
        assert DATE.match(source.read), source
    seen: set[tuple[str, str]] = set()
    for row in register.rows:
        assert (row.id, row.lang) not in seen, f"{row.id} ({row.lang}) is listed twice"
        seen.add((row.id, row.lang))
        if row.confidence is Confidence.ASSUMED:
            assert row.notes, f"{row.id}: an assumed fact says why it is plausible"
        else:
            assert row.sources, f"{row.id}: a {row.confidence} fact names its source"
        for key in row.sources:
            assert key in register.sources, f"{row.id}: unknown source {key}"
        if row.variant is not None:
            assert row.variant in register.variants, f"{row.id}: unknown variant {row.variant}"
    assert sum(v.default for v in register.variants.values()) >= 1


def test_a_malformed_row_is_refused_with_its_line() -> None:
    text = (
        "| key | source | read | what it shows |\n|---|---|---|---|\n"
        "| S1 | seed | 2026-12-06 | x |\n\n"
        "| id | lang | value | confidence | source | notes |\n|---|---|---|---|---|---|\n"
        "| ids.a | * | `x` | likely | S1 | |\n"
    )
    with pytest.raises(ValueError, match=r"line 7.*confidence"):
        parse_register("invisalign", text)


def test_declared_facts_are_checked_by_id_value_and_language() -> None:
    text = (
        "| id | lang | value | confidence | source | notes |\n|---|---|---|---|---|---|\n"
        "| ids.login.path | * | `/u/login` | assumed | - | plausible |\n"
        "| ids.status.x | de | `Abgeschlossen` | assumed | - | plausible |\n"
        "| ids.pipe | * | `a | b` | assumed | - | a pipe inside backticks |\n"
    )
    register = parse_register("invisalign", text)
    facts = Facts("invisalign")
    facts.value("ids.login.path", "/u/login")
    facts.label("ids.status.x", {"de": "Abgeschlossen"})
    assert all(register.holds(f.id, f.value, f.lang) for f in facts)
    assert register.holds("ids.pipe", "a | b")
    assert not register.holds("ids.status.x", "Abgeschlossen", "pl")
    assert not register.holds("ids.login.path", "/login")
    with pytest.raises(ValueError, match="twice"):
        facts.value("ids.login.path", "/u/other")
