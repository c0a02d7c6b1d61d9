"""The page readers over every language x variant, without a browser: pages recorded from the
sandbox (`recorded.py`) parse to exactly what the sandbox held, strictly, in every language; the
snapshot DOM and its selectors; and hypothesis's inventions parse or raise `PortalChanged`,
never anything else and never an empty list."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import CaseStatus, PortalChanged, utc
from adapters.invisalign import pages, site, status
from adapters.invisalign.html import parse
from sandbox.invisalign import i18n
from sandbox.invisalign.variants import CLASSIC_TABLE, LEGACY_TAB, VARIANTS
from tests.adapters.invisalign import recorded

MATRIX = [(lang, variant) for lang in i18n.LANGUAGES for variant in VARIANTS]
BASE = "http://127.0.0.1:8700"


def matrix_id(value: Any) -> str:
    return str(value)


@pytest.fixture(scope="module", params=MATRIX, ids=lambda p: f"{p[0]}-{p[1]}")
def recording(request: pytest.FixtureRequest) -> dict[str, Any]:
    lang, variant = request.param
    return recorded.load(lang, variant)


def root_of(recording: dict[str, Any], name: str) -> Any:
    return parse(recording["pages"][name])


def test_the_list_shows_every_patient_once_in_its_language(recording: dict[str, Any]) -> None:
    expected = recording["expected"]
    view = pages.read_list(root_of(recording, "list"))
    assert view.state == "ok" and not view.action_filter_on
    assert view.layout == ("table" if recording["variant"] == CLASSIC_TABLE else "cards")
    assert view.control == ("dropdown" if recording["variant"] == VARIANTS[0] else "tabs")
    assert [r.patient_id for r in view.rows] == expected["visible"]
    assert not view.has_next
    for row in view.rows:
        case = expected["cases"][row.patient_id]
        assert row.name == case["name"]
        assert row.status == case["status"]  # the current treatment's card or row
        assert status.case_status(row.status) is not CaseStatus.UNKNOWN
        assert row.last_activity == utc(case["updated_at"])
        if recording["variant"] != CLASSIC_TABLE:
            assert row.doctor_name == case["doctor"]
    unread = {
        case_id: sum(c[3] for c in case["comments"]) for case_id, case in expected["cases"].items()
    }
    assert {r.patient_id: r.unread for r in view.rows} == unread
    # A patient in a second phase has more than one card or row; the reader keeps one.
    shown = recording["pages"]["list"]
    assert any(c["treatments"] > 1 for c in expected["cases"].values())
    for case_id, case in expected["cases"].items():
        assert shown.count(f"#{case_id}") >= case["treatments"]


def test_action_required_is_read_from_the_filter_and_its_markers(
    recording: dict[str, Any],
) -> None:
    expected = recording["expected"]
    view = pages.read_list(root_of(recording, "list-action"))
    assert view.action_filter_on
    waiting = [i for i in expected["visible"] if expected["cases"][i]["action_required"]]
    assert [r.patient_id for r in view.rows] == waiting and waiting
    html = recording["pages"]["list-action"]
    if recording["variant"] == VARIANTS[0]:
        assert 'data-testid="Tag-tag-ACTION_REQUIRED"' in html
        assert i18n.text("ids.list.filter-count", recording["lang"]) in html
    else:
        assert re.search(r'id="tab-action"[^>]*aria-selected="true"', html)


def test_a_search_without_match_shows_the_empty_state(recording: dict[str, Any]) -> None:
    view = pages.read_list(root_of(recording, "list-empty"))
    assert view.state == "empty" and view.rows == () and not view.has_next
    root = root_of(recording, "list-empty")
    assert pages._text(root.first(site.EMPTY_TEXT)) == i18n.text(
        "ids.list.empty-message", recording["lang"]
    )
    assert root.first(f"{site.LIST_CONTAINER} {site.SEARCH_INPUT}") is not None


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_patient_files_show_plans_and_comments_as_held(lang: str) -> None:
    data = recorded.load(lang, VARIANTS[0])
    expected = data["expected"]
    for case_id in expected["visible"]:
        found = pages.read_patient_file(parse(data["pages"][f"patient-{case_id}"]), BASE)
        case = expected["cases"][case_id]
        assert found.state == "ok" and found.patient_id == case_id
        assert (found.name, found.status, found.doctor_name) == (
            case["name"],
            case["status"],
            case["doctor"],
        )
        assert found.action_required == case["action_required"]
        assert [
            [s.vendor_setup_id, s.version, s.vendor_state, len(s.files)] for s in found.setups
        ] == case["setups"]
        assert all(status.plan_state(s.vendor_state) is s.state for s in found.setups)
        assert [
            [c.vendor_comment_id, c.author_role.value, c.body, c.unread] for c in found.comments
        ] == case["comments"]
        assert found.latest == utc(case["updated_at"])


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_profile_and_the_menu_say_who_the_login_is(lang: str) -> None:
    data = recorded.load(lang, VARIANTS[0])
    staff = parse(data["pages"]["profile"])
    assert not pages.doctor_only_tabs(staff)
    profile = pages.read_profile(staff)
    assert list(profile.roles) == data["expected"]["roles"]
    assert status.access_of("staff", profile.roles).ok
    doctor = parse(data["pages"]["profile-doctor"])
    assert pages.doctor_only_tabs(doctor)
    assert pages.read_profile(doctor).roles == ()  # "All (account owner)" is not a role


def test_layout_2_cards_are_a_portal_change_naming_the_facts() -> None:
    html = recorded.load("en", VARIANTS[0])["pages"]["list"]
    renamed = html.replace('data-testid="Card-patient"', 'data-testid="PatientCard"')
    with pytest.raises(PortalChanged) as caught:
        pages.read_list(parse(renamed))
    assert "ids.list.card" in caught.value.facts
    one_card = html.replace('data-testid="Patient-id"', 'data-testid="PatientCard-id"', 1)
    with pytest.raises(PortalChanged) as caught:
        pages.read_list(parse(one_card))
    assert caught.value.facts == ("ids.list.id",)


def test_a_table_without_its_known_columns_is_not_read() -> None:
    html = recorded.load("ko", CLASSIC_TABLE)["pages"]["list"]
    assert pages.read_list(parse(html)).layout == "table"
    renamed = html.replace("<th>주문 상태</th>", "<th>상태</th>")
    with pytest.raises(PortalChanged):
        pages.read_list(parse(renamed))


def test_details_never_contain_values() -> None:
    """PortalChanged details name facts, never values (values are patient data)."""
    html = recorded.load("en", LEGACY_TAB)["pages"]["list"]
    name = recorded.load("en", LEGACY_TAB)["expected"]["cases"]
    broken = re.sub(r'(data-testid="Patient-last-activity" datetime=")[^"]+', r"\1soon", html)
    with pytest.raises(PortalChanged) as caught:
        pages.read_list(parse(broken))
    assert not any(c["name"] in str(caught.value) for c in name.values())


# The snapshot DOM --------------------------------------------------------------------------------


def test_selectors_pierce_serialized_shadow_roots() -> None:
    root = parse(
        '<nav class="account-tabs x"><a>One</a><b><a>Two</a></b></nav>'
        '<div id="patient-list" class="shadow-root-container"><template shadowrootmode="open">'
        '<input type="search"><div data-testid="A"><span data-testid="B">x &amp; y</span></div>'
        "</template></div>"
    )
    assert [e.text() for e in root.select("nav.account-tabs a")] == ["One", "Two"]
    assert [e.text() for e in root.select("nav.account-tabs > a")] == ["One"]
    assert len(root.select(f"{site.LIST_CONTAINER} {site.SEARCH_INPUT}")) == 1
    assert root.first('[data-testid="A"] [data-testid="B"]').text() == "x & y"  # type: ignore[union-attr]
    assert len(root.select('#nothing, [data-testid="B"], .shadow-root-container')) == 2
    with pytest.raises(ValueError, match="unsupported selector"):
        root.select("div:has(span)")


def test_every_declared_selector_compiles() -> None:
    for fact in site.FACTS:
        value = fact.value
        selector = (fact.lang is None and value.startswith(("[", "#", "."))) or " [" in value
        if selector and ":not(" not in value:
            parse("<p></p>").select(value)


tag = st.sampled_from(["div", "span", "p", "a", "table", "tr", "td", "th", "time", "nav"])
testid = st.sampled_from(
    [
        "Card-patient",
        "Patient-name",
        "Patient-id",
        "Tracker-status",
        "Patient-last-activity",
        "Unread-comments",
        "PatientList-root",
        "EmptySearch-container",
        "Pagination-next",
        "Doctor-name",
        "ClinCheck-plan",
        "Comment",
        "Comment-role",
        "Plan-state",
    ]
)
attrs = st.fixed_dictionaries(
    {},
    optional={
        "data-testid": testid,
        "datetime": st.sampled_from(["2026-01-01T10:00:00Z", "soon", ""]),
        "data-role": st.sampled_from(["doctor", "staff", "robot"]),
        "data-plan-id": st.sampled_from(["1", ""]),
        "data-version": st.sampled_from(["1", "x", "0"]),
        "data-comment-id": st.just("7"),
    },
)
texts = st.sampled_from(["#1234567", "Ann Lee", "", "Shipped", "치료 계획 검토", "3 unread", "x"])


def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def render(name: str, attributes: dict[str, str], inner: list[str]) -> str:
        rendered = "".join(f' {k}="{v}"' for k, v in attributes.items())
        return f"<{name}{rendered}>{''.join(inner)}</{name}>"

    return st.builds(render, tag, attrs, st.lists(children, max_size=4))


documents = st.recursive(texts, element, max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_invented_pages_parse_or_are_a_portal_change(html: str) -> None:
    root = parse(f'<div id="patient-file" class="shadow-root-container">{html}</div>{html}')
    with contextlib.suppress(PortalChanged):
        view = pages.read_list(root)
        if view.state == "ok":
            assert view.rows, "an ok list is never empty"
            assert all(r.patient_id.isdigit() and r.name and r.status for r in view.rows)
    with contextlib.suppress(PortalChanged):
        found = pages.read_patient_file(root, BASE)
        if found.state == "ok":
            assert found.patient_id.isdigit() and found.name
    with contextlib.suppress(PortalChanged):
        pages.read_profile(root)
