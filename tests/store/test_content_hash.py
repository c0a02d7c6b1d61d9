"""Content hashes are the SHA-256 of exactly the bytes `json.dumps` gave when every stored hash
was made: a different byte would make every case look changed on the next sync."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CaseStatus
from connector.store.cases import _default, content_hash


def reference(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(encoded.encode()).hexdigest()


moments = st.datetimes(
    timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=2))]),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(),  # control characters, DEL, Polish and German letters, astral characters
    moments,
    st.sampled_from(list(CaseStatus)),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=5),
    ),
    max_leaves=20,
)


@given(values)
def test_a_hash_is_made_from_the_bytes_json_dumps_gives(value: Any) -> None:
    assert content_hash(value) == reference(value)


def test_a_value_json_cannot_write_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot hash"):
        content_hash({"at": object()})
    assert content_hash({"Łódź": "Müller", "at": datetime(2026, 12, 7, tzinfo=UTC)}) == (
        reference({"Łódź": "Müller", "at": datetime(2026, 12, 7, tzinfo=UTC)})
    )
