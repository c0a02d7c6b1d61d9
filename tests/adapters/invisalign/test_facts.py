"""Everything the Invisalign adapter knows about the portal is a fact of the register: every
value `site.py` declares holds there (same id, same literal, per language), every fact id the
adapter names (in `PortalChanged` details, in its unverified list) exists, and the facts its
primary path stands on are confirmed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.base.register import Confidence, Register, load_register
from adapters.invisalign import site

PACKAGE = Path(site.__file__).resolve().parent
_FACT_ID = re.compile(r"""["'](ids\.[a-z0-9][a-z0-9.-]*[a-z0-9])["']""")


@pytest.fixture(scope="module")
def register() -> Register:
    return load_register("invisalign")


def test_every_declared_fact_holds_in_the_register(register: Register) -> None:
    assert len(site.FACTS) > 250
    missing = [f for f in site.FACTS if not register.holds(f.id, f.value, f.lang)]
    assert not missing, missing


def test_every_label_is_declared_in_every_language(register: Register) -> None:
    for fact in site.FACTS:
        if fact.lang is not None:
            langs = {f.lang for f in site.FACTS if f.id == fact.id}
            assert langs == set(site.LANGUAGES), fact.id


def test_every_fact_the_adapter_names_exists(register: Register) -> None:
    """`PortalChanged(..., facts=...)` and the unverified list name register ids only."""
    named = {
        fact_id
        for path in PACKAGE.glob("*.py")
        for fact_id in _FACT_ID.findall(path.read_text(encoding="utf-8"))
    }
    assert named - register.ids() == set()
    assert {"ids.list.card", "ids.host.login", "ids.case.url"} <= named


def test_unverified_readers_are_the_registers(register: Register) -> None:
    for fact_id in site.UNVERIFIED:
        rows = register.rows_of(fact_id)
        assert rows and all(r.confidence is Confidence.ASSUMED for r in rows), fact_id
    flagged = {r.id for r in register.rows if r.unverified}
    assert set(site.UNVERIFIED) <= flagged


PRIMARY = (
    "ids.host.app",
    "ids.host.login",
    "ids.login.entry",
    "ids.login.path",
    "ids.login.username-field",
    "ids.login.password-field",
    "ids.login.submit",
    "ids.session.cookie",
    "ids.list.url",
    "ids.list.container",
    "ids.list.shadow-host",
    "ids.list.root",
    "ids.list.card",
    "ids.list.name",
    "ids.list.id",
    "ids.list.status",
    "ids.list.filter-container",
    "ids.list.filter-button",
    "ids.list.filter-option-action",
    "ids.list.filter-tag-action",
    "ids.list.legacy-tab",
    "ids.list.legacy-tab-on",
    "ids.list.classic-table",
    "ids.list.classic-patient-cell",
    "ids.list.param.filter",
    "ids.list.param.page",
    "ids.list.empty-container",
    "ids.case.url",
    "ids.case.param",
)


def test_the_primary_path_stands_on_confirmed_facts(register: Register) -> None:
    declared = site.FACTS.ids()
    for fact_id in PRIMARY:
        assert fact_id in declared, fact_id
        levels = {r.confidence for r in register.rows_of(fact_id)}
        assert levels <= {Confidence.CONFIRMED, Confidence.DOCUMENTED}, fact_id


def test_the_fast_path_is_assumed(register: Register) -> None:
    """The JSON API is an invention of the sandbox: none of it may pass for confirmed."""
    for fact in site.FACTS:
        if fact.id.startswith("ids.api."):
            assert {r.confidence for r in register.rows_of(fact.id)} == {Confidence.ASSUMED}
