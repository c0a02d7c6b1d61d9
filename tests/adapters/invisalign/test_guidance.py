"""The update-credentials form names Invisalign's menus, buttons and roles exactly as the portal
shows them in the dentist's language: Polish as the staff guide copied from IDS screenshots has
them (Konto > Personel > Dodaj nowe konto, only "Zarządzanie preskrypcjami", then "Utwórz"),
German as the facts register has them."""

from __future__ import annotations

import re

import pytest

from adapters.base.register import load_register
from adapters.invisalign import guidance, status

QUOTED = re.compile(r"[\u201e\u201c]([^\u201c\u201d]+)[\u201c\u201d]")
REGISTER = load_register("invisalign")


def steps(lang: str) -> str:
    return " ".join(guidance.STEPS[lang])


def test_the_polish_steps_quote_the_portals_own_words() -> None:
    text = steps("pl")
    assert "Konto > Personel" in text
    assert "\u201eDodaj nowe konto\u201d" in text
    assert "wyłącznie \u201eZarządzanie preskrypcjami\u201d" in text
    assert "\u201eUtwórz\u201d" in text
    assert "\u201eZarządzanie leczeniem\u201d" in text  # what not to tick, by its name
    everything = text + " ".join(t["pl"] for t in guidance.ACCESS_TEXTS.values())
    assert "recept" not in everything.lower()  # a drug prescription is another thing
    assert "Prescription management" not in everything and "Account >" not in everything


def test_the_german_steps_quote_the_registers_words() -> None:
    text = steps("de")
    assert "Konto > Mitarbeiter" in text
    assert "\u201eNeues Konto hinzufügen\u201c" in text
    assert "nur die Rolle \u201eVerschreibungsverwaltung\u201c" in text
    assert "\u201eErstellen\u201c" in text
    assert "Prescription management" not in text


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_every_quoted_label_is_the_portals_in_that_language(lang: str) -> None:
    texts = [*guidance.STEPS[lang]] + (
        [t[lang] for t in guidance.ACCESS_TEXTS.values()] if lang != "en" else []
    )
    quoted = {q for text in texts for q in QUOTED.findall(text)}
    assert quoted
    labels = {
        row.literals[0]
        for row in REGISTER.rows
        if row.lang == lang and row.literals and row.id.startswith(("ids.role.", "ids.staff."))
    }
    assert quoted <= labels, quoted - labels


def test_every_access_sentence_is_translated() -> None:
    sentences = {
        status.DOCTOR_ACCOUNT,
        status.REMOVE_TREATMENT_MANAGEMENT,
        status.UNKNOWN_ROLE,
        status.NO_VIEW_ROLE,
        status.READ_ONLY,
    }
    assert set(guidance.ACCESS_TEXTS) == sentences
    assert (
        "Konto > Personel > Dodaj nowe konto" in guidance.ACCESS_TEXTS[status.DOCTOR_ACCOUNT]["pl"]
    )
