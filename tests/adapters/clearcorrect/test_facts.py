"""The adapter against the facts register: every URL, selector, field, cookie, key and word
`site` declares holds in the register for its language; every fact it reads although no
source confirms it is one the register marks `unverified`; and the primary path (the WebForms
pages) rests on confirmed and documented facts wherever the register has them."""

from __future__ import annotations

from adapters.base.register import Confidence, load_register
from adapters.clearcorrect import adapter  # noqa: F401 (its modules declare their facts)
from adapters.clearcorrect.site import FACTS, UNVERIFIED

REGISTER = load_register("clearcorrect")


def test_every_declared_fact_holds_in_the_register() -> None:
    wrong = [(f.id, f.lang, f.value) for f in FACTS if not REGISTER.holds(f.id, f.value, f.lang)]
    assert wrong == []
    assert len(FACTS) > 150


def test_the_unverified_readers_are_the_registers_unverified_facts() -> None:
    for fact_id in UNVERIFIED:
        rows = REGISTER.rows_of(fact_id)
        assert rows, f"{fact_id} is not in the register"
        assert all(row.unverified for row in rows), f"{fact_id} is not marked unverified"
    # And the other way round: a declared fact the register calls unverified is read by a
    # reader flagged so (not silently).
    declared = FACTS.ids()
    marked = {row.id for row in REGISTER.rows if row.unverified and row.id in declared}
    assert marked <= UNVERIFIED


def test_the_pages_path_uses_sourced_facts_wherever_the_register_has_them() -> None:
    """Every assumed fact of the WebForms path is either a word (a label in some language,
    assumed where no source gives it), an unverified reader the sync needs, or resilience
    (second factor, password change) no source mentions at all."""
    resilience = {
        "cc.wf.signin.code-path",
        "cc.wf.signin.code-field",
        "cc.wf.signin.code-provider",
        "cc.wf.signin.code-providers",
        "cc.wf.signin.code-submit",
        "cc.wf.signin.return-param",
        "cc.wf.postback.event-target",
        "cc.wf.postback.event-argument",
        "cc.wf.postback.viewstate",
        "cc.wf.postback.form",
    }
    for fact in FACTS:
        if not fact.id.startswith(("cc.wf.", "cc.list.", "cc.status.", "cc.perm.")):
            continue
        rows = [r for r in REGISTER.rows_of(fact.id) if r.lang in (fact.lang or "*", "*")]
        assert rows, fact.id
        if all(r.confidence is Confidence.ASSUMED for r in rows):
            assert fact.lang is not None or fact.id in UNVERIFIED or fact.id in resilience, fact.id
    confirmed = {
        row.id
        for row in REGISTER.rows
        if row.confidence is Confidence.CONFIRMED and row.id in FACTS.ids()
    }
    assert {
        "cc.wf.case.path",
        "cc.wf.case.number-label",
        "cc.wf.case.notes-grid",
        "cc.wf.case.note-box",
        "cc.wf.case.note-save",
        "cc.wf.setup.header",
        "cc.wf.setup.files-grid",
        "cc.wf.setup.files-link",
        "cc.wf.signin.signed-in-user",
    } <= confirmed
