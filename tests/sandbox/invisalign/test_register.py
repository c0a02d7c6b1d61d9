"""The sandbox follows the facts register: every route of the app is a literal of a register row,
`ROUTES.md` lists each with that fact and its confidence (so assumed routes are marked), and every
word the sandbox shows holds in the register in its language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route

from adapters.base.register import Confidence, Register, load_register
from sandbox.common.config import SandboxConfig
from sandbox.invisalign import create_app, i18n
from sandbox.invisalign.variants import VARIANTS

ROUTES_MD = Path(__file__).resolve().parents[3] / "sandbox" / "invisalign" / "ROUTES.md"
_ROW = re.compile(r"^\| `([A-Z, ]+) (/[^`]*)` \| (login|app|both) \| ([a-z0-9., -]+) \| (\w+) \|$")
_PLACEHOLDER = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def register() -> Register:
    return load_register("invisalign")


def app_routes() -> dict[str, tuple[Route, set[str]]]:
    app = create_app(SandboxConfig(admin=True, practices=0, cases=0))
    found: dict[str, tuple[Route, set[str]]] = {}
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path.startswith("/__sandbox/"):
            continue
        found[route.path] = (route, set(route.methods or ()) - {"HEAD"})
    return found


def documented() -> dict[str, tuple[set[str], list[str], str]]:
    rows = {}
    for line in ROUTES_MD.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            methods, path, _, facts, confidence = match.groups()
            rows[path] = ({m.strip() for m in methods.split(",")}, facts.split(", "), confidence)
    return rows


def literal_paths(register: Register, fact_id: str) -> list[str]:
    """The path literals of a fact, `<id>` placeholders filled with a sample and queries cut."""
    paths = []
    for row in register.rows_of(fact_id):
        for literal in row.literals:
            path = _PLACEHOLDER.sub("1234567", literal.split("?")[0])
            if path.startswith("/"):
                paths.append(path)
    return paths


def test_every_route_is_a_register_literal_and_documented_with_its_confidence(
    register: Register,
) -> None:
    routes, rows = app_routes(), documented()
    assert set(routes) == set(rows), "ROUTES.md lists exactly the app's routes"
    for path, (route, methods) in routes.items():
        listed_methods, facts, confidence = rows[path]
        assert methods == listed_methods, path
        matching = [
            f for f in facts if any(route.path_regex.match(p) for p in literal_paths(register, f))
        ]
        assert matching == facts, f"{path}: {set(facts) - set(matching)} do not hold this route"
        levels = {row.confidence for f in facts for row in register.rows_of(f)}
        strongest = min(levels, key=list(Confidence).index)
        assert confidence == strongest.value, f"{path} is {strongest.value} in the register"


def test_every_word_the_sandbox_shows_holds_in_its_language(register: Register) -> None:
    for fact_id, words in i18n.TEXTS.items():
        assert set(words) == set(i18n.LANGUAGES), fact_id
        for lang, value in words.items():
            assert register.holds(fact_id, value, lang), f"{fact_id} ({lang}): {value!r}"
    tables = (
        i18n.ROLE_FACTS,
        i18n.STATUS_FACTS,
        i18n.PLAN_STATE_FACTS,
        i18n.ACTION_FACTS,
        i18n.CONDITION_FACTS,
        i18n.ROLE_LABEL_FACTS,
    )
    for table in tables:
        assert set(table.values()) <= set(i18n.TEXTS)


def test_the_variants_are_the_registers(register: Register) -> None:
    assert set(VARIANTS) <= set(register.variants)
    default = next(v.name for v in register.variants.values() if v.default and "-" in v.name)
    assert default == VARIANTS[0] == "filter-dropdown"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
        ("de-AT", "de"),
        ("fr-FR,pl;q=0.5,en;q=0.4", "pl"),
        ("fr-FR", "en"),
        ("", "en"),
        ("en;q=0.2,pl;q=0.9", "pl"),
        ("pl;q=0", "en"),
    ],
)
def test_the_language_follows_the_browser_when_the_profile_has_none(
    header: str, expected: str
) -> None:
    assert i18n.choose(None, header) == expected
    assert i18n.choose("de", header) == "de"


def test_templates_fill_their_numbers_in_every_language() -> None:
    assert i18n.text("ids.list.page-info-label", "ko", N=2, M=5) == "2 / 5 페이지"
    assert i18n.text("ids.list.label.count", "ko", N=6) == "환자 6명"
    assert i18n.text("ids.comment.label.mark-read", "ko", N=3) == "3개 읽음으로 표시"
    assert i18n.text("ids.list.empty-message", "pl") == "Nie znaleziono pasujących pacjentów"
