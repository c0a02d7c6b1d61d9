"""Property tests of the portal's input validators and parsers."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.invisalign.access import HOME, return_path
from sandbox.invisalign.api import MAX_TEXT, InputError, ListQuery, clean_text, parse_list_query
from sandbox.invisalign.auth import mask_email, password_policy_error, solve_challenge
from sandbox.invisalign.layout import FIELD_RENAMES_V2, fields, markup_ids

params = st.dictionaries(
    st.sampled_from(["page", "pageSize", "filter", "other"]),
    st.one_of(st.text(max_size=12), st.integers(-5, 200_000).map(str)),
)


@given(params)
def test_list_query_is_valid_or_refused_with_input_error(query: dict[str, str]) -> None:
    try:
        parsed = parse_list_query(query)
    except InputError:
        return
    assert 1 <= parsed.page <= 100_000
    assert 1 <= parsed.page_size <= 100
    assert parsed.filter in ("ALL", "ACTION_REQUIRED")


@given(st.integers(1, 100_000), st.integers(1, 100), st.sampled_from(["ALL", "ACTION_REQUIRED"]))
def test_valid_list_queries_parse_exactly(page: int, size: int, kind: str) -> None:
    parsed = parse_list_query({"page": str(page), "pageSize": str(size), "filter": kind})
    assert parsed == ListQuery(page, size, kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "١", "²", " 1", "101"])
def test_odd_page_sizes_are_refused(bad: str) -> None:
    with pytest.raises(InputError):
        parse_list_query({"pageSize": bad})


@given(st.text(max_size=MAX_TEXT + 50))
def test_clean_text_keeps_what_it_accepts(value: str) -> None:
    try:
        text = clean_text(value, "body")
    except InputError:
        return
    assert text
    assert text == text.strip()
    assert len(text) <= MAX_TEXT
    assert "\r" not in text
    assert clean_text(text, "body") == text  # stored text is accepted as it is


@given(st.one_of(st.none(), st.integers(), st.lists(st.text())))
def test_clean_text_refuses_non_strings(value: object) -> None:
    with pytest.raises(InputError):
        clean_text(value, "body")


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_password_policy(new: str, confirm: str, old: str) -> None:
    problem = password_policy_error(new, confirm, old)
    if problem is None:
        assert new == confirm
        assert new != old
        assert 12 <= len(new) <= 128
        assert any(c.isdigit() for c in new)
        assert any(c.isalpha() for c in new)


@given(st.text(max_size=200))
def test_return_path_stays_on_the_app(raw: str) -> None:
    path = return_path(raw)
    assert path == HOME or (path.startswith("/v3/auth/") and "//" not in path)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80))
def test_authorize_state_round_trips_app_paths(suffix: str) -> None:
    target = "/v3/auth/" + suffix.replace("/", "").replace("\\", "")
    state = base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")
    assert return_path(state) == target


def test_foreign_return_paths_go_home() -> None:
    for target in ("https://evil.example/", "//evil.example/v3/auth/", "/__sandbox/state"):
        state = base64.urlsafe_b64encode(target.encode()).decode()
        assert return_path(state) == HOME


@given(st.text(max_size=30), st.text(max_size=30))
def test_challenge_answers_are_eight_hex_digits(challenge: str, state: str) -> None:
    answer = solve_challenge(challenge, state)
    assert len(answer) == 8
    assert int(answer, 16) >= 0
    assert answer == solve_challenge(challenge, state)


def test_masked_email() -> None:
    assert mask_email("mfa.email@smile-dental.example") == "m***@smile-dental.example"
    assert mask_email("nobody") == "***"


def test_layout_2_renames_every_listed_field_and_id() -> None:
    sample = {name: [{name: 1}] for name in FIELD_RENAMES_V2}
    renamed = fields(2, sample)
    assert set(renamed) == set(FIELD_RENAMES_V2.values())
    assert fields(1, sample) is sample
    v1, v2 = markup_ids(1), markup_ids(2)
    assert v1["card"] == "Card-patient"
    assert v2["card"] == "PatientCard"
    assert v1["filterAction"] == "Filter-option-ACTION_REQUIRED"
    assert {k for k in v1 if v1[k] != v2[k]} >= {"card", "name", "id", "status", "next"}
