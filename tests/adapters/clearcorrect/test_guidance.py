"""The form's advice names the portal's things as the portal does, in every language: the
Collaborator Suite (German: Partnertool), the permissions, the primary clinician and the
consent step, in the register's words; and every `Access` sentence is translated."""

from __future__ import annotations

import pytest

from adapters.base import Capability
from adapters.base.register import load_register
from adapters.clearcorrect import guidance
from adapters.clearcorrect.status import (
    EXCESSIVE_APPROVE,
    EXCESSIVE_DOCTOR,
    INSUFFICIENT_VIEW,
    NO_REJECT,
)

REGISTER = load_register("clearcorrect")


def word(fact_id: str, lang: str) -> str:
    row = next(r for r in REGISTER.rows_of(fact_id) if r.lang == lang)
    return row.literals[0]


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_the_steps_name_the_tool_the_permissions_and_consent_as_the_portal_does(
    lang: str,
) -> None:
    steps = " ".join(guidance.STEPS[lang])
    for fact in ("cc.role.tool", "cc.perm.decline-setups", "cc.perm.add-orders"):
        assert word(fact, lang) in steps, (fact, lang)
    assert word("cc.role.primary-clinician", lang) in steps
    consent = {"en": "consent", "de": "Einwilligung", "pl": "zgodę"}[lang]
    assert consent in guidance.STEPS[lang][1]
    assert word("cc.role.tool", lang) in guidance.TEXTS[lang]["intro"]


def test_the_german_words_are_the_seeds() -> None:
    steps = " ".join(guidance.STEPS["de"])
    assert "Partnertool" in steps
    assert "„3D-Behandlungsplanungen ablehnen“" in steps
    assert "„Aufträge hinzufügen“" in steps
    assert "primärer Behandler" in steps


@pytest.mark.parametrize(
    "sentence", [EXCESSIVE_DOCTOR, EXCESSIVE_APPROVE, INSUFFICIENT_VIEW, NO_REJECT]
)
def test_every_access_sentence_is_translated_with_the_portals_words(sentence: str) -> None:
    assert "Decline Treatment Setups" in sentence
    for lang in ("de", "pl"):
        translated = guidance.ACCESS_TEXTS[sentence][lang]
        assert word("cc.perm.decline-setups", lang) in translated


def test_a_collaborator_that_cannot_decline_gets_advice() -> None:
    assert guidance.limited_access({Capability.READ_CASES}) == NO_REJECT
    assert guidance.limited_access({Capability.READ_CASES, Capability.REJECT_SETUP}) is None
