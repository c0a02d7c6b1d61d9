"""Byte ranges of served files, against a reference reading of RFC 9110 section 14."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.api.routes.files import content_disposition
from connector.files.ranges import RangeNotSatisfiable, parse_range


@given(st.integers(0, 5000), st.integers(0, 6000), st.one_of(st.none(), st.integers(0, 6000)))
def test_a_single_range_selects_what_the_rfc_says(size: int, start: int, end: int | None) -> None:
    header = f"bytes={start}-{'' if end is None else end}"
    if end is not None and end < start:
        assert parse_range(header, size) is None
        return
    if start >= size:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
        return
    last = size - 1 if end is None else min(end, size - 1)
    assert parse_range(header, size) == (start, last)


@given(st.integers(0, 5000), st.integers(0, 6000))
def test_a_suffix_range_is_the_last_bytes(size: int, length: int) -> None:
    if length == 0 or size == 0:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(f"bytes=-{length}", size)
        return
    assert parse_range(f"bytes=-{length}", size) == (max(0, size - length), size - 1)


@pytest.mark.parametrize(
    "header", [None, "", "bytes=0-1,4-5", "items=0-1", "bytes=-", "bytes=a-b", "bytes 0-1"]
)
def test_anything_else_is_the_whole_file(header: str | None) -> None:
    assert parse_range(header, 100) is None


@given(st.text(max_size=80))
def test_content_disposition_is_one_safe_header_line(name: str) -> None:
    value = content_disposition(name)
    assert value.isascii() and "\n" not in value and "\r" not in value
    assert value.startswith('attachment; filename="') and value.count('"') == 2
