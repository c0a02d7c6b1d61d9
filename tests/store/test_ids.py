"""Server-made ids: 26 Crockford base32 digits that sort as the time they were made."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from connector.store.ids import _ALPHABET, encode_id, new_id


def digit_by_digit(value: int) -> str:
    """The definition: five bits per digit, most significant first."""
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_encoding_is_base32_of_the_value(value: int) -> None:
    assert encode_id(value) == digit_by_digit(value)


def test_ids_sort_by_the_time_they_were_made() -> None:
    earlier = new_id("case")
    time.sleep(0.002)
    later = new_id("case")
    assert earlier.startswith("case_") and len(earlier) == len("case_") + 26
    assert earlier < later
    assert set(earlier[5:]) <= set(_ALPHABET)
