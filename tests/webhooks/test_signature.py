"""Signatures: the format, rotation, the five-minute window, and malformed headers."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from connector.webhooks import signature_header, verify_signature
from tests.webhooks.conftest import NEW_SECRET, SECRET
from vault import Secret

BODY = b'{"id":"evt_1","type":"case.created","created_at":"2026-11-23T10:00:00Z","data":{}}'
T = 1_800_000_000


def test_header_format_matches_the_documented_recipe() -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert verify_signature(header, BODY, [SECRET], now=T + 10)
    assert verify_signature(header, BODY, [Secret(SECRET)], now=datetime.fromtimestamp(T, UTC))


def test_rotation_sends_two_signatures_new_first_and_either_secret_verifies() -> None:
    header = signature_header(BODY, [Secret(NEW_SECRET), Secret(SECRET)], T)
    parts = header.split(",")
    assert parts[0] == f"t={T}" and len(parts) == 3
    new = hmac.new(NEW_SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert parts[1] == f"v1={new}"
    assert verify_signature(header, BODY, [NEW_SECRET], now=T)
    assert verify_signature(header, BODY, [SECRET], now=T)
    assert not verify_signature(header, BODY, ["some-other-secret-value"], now=T)


def test_old_and_future_timestamps_are_rejected() -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    assert verify_signature(header, BODY, [SECRET], now=T + 300)
    assert not verify_signature(header, BODY, [SECRET], now=T + 301)
    assert not verify_signature(header, BODY, [SECRET], now=T - 301)
    assert verify_signature(header, BODY, [SECRET], now=T + 3000, tolerance=3600)


def test_a_changed_body_or_timestamp_is_rejected() -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    assert not verify_signature(header, BODY + b" ", [SECRET], now=T)
    moved = header.replace(f"t={T}", f"t={T + 1}")
    assert not verify_signature(moved, BODY, [SECRET], now=T)
    # Leading zeros name the same second but not the signed text.
    assert not verify_signature(header.replace("t=", "t=0"), BODY, [SECRET], now=T)


def test_unknown_schemes_are_ignored_and_duplicates_of_t_refused() -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    assert verify_signature(header + ",v2=whatever", BODY, [SECRET], now=T)
    assert verify_signature(header.replace(",", ", "), BODY, [SECRET], now=T)
    assert not verify_signature(f"t={T}," + header, BODY, [SECRET], now=T)
    assert not verify_signature(header.upper(), BODY, [SECRET], now=T)
    assert not verify_signature("", BODY, [SECRET], now=T)
    assert not verify_signature(None, BODY, [SECRET], now=T)
    assert not verify_signature(f"t={T}", BODY, [SECRET], now=T)
    assert not verify_signature(header, BODY, [], now=T)


@given(header=st.text(max_size=300), body=st.binary(max_size=64), now=st.integers(0, 2**40))
def test_arbitrary_headers_never_raise(header: str, body: bytes, now: int) -> None:
    assert verify_signature(header, body, [SECRET], now=now) is False


_PIECES = st.sampled_from(["t", "v1", "v2", "=", ",", " ", "0", "9", "a", "f", "\u0663", "-"])


@given(st.lists(_PIECES, max_size=80).map("".join))
def test_header_shaped_noise_is_rejected(header: str) -> None:
    assert verify_signature(header, BODY, [SECRET], now=T) is False


@given(data=st.data())
def test_any_single_character_change_to_a_valid_header_is_rejected(data: st.DataObject) -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    index = data.draw(st.integers(0, len(header) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != header[index]))
    mutated = header[:index] + replacement + header[index + 1 :]
    assert verify_signature(mutated, BODY, [SECRET], now=T) is False
    dropped = header[:index] + header[index + 1 :]
    assert verify_signature(dropped, BODY, [SECRET], now=T) is False


def test_the_timestamp_is_ascii_digits_only() -> None:
    header = signature_header(BODY, [Secret(SECRET)], T)
    arabic = re.sub(r"t=1", "t=\u0661", header)
    assert not verify_signature(arabic, BODY, [SECRET], now=T)


def test_the_readme_receiver_snippet_agrees() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Webhooks and the change feed", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    verify = namespace["verify"]
    assert callable(verify)
    import time

    now = int(time.time())
    header = signature_header(BODY, [Secret(NEW_SECRET), Secret(SECRET)], now)
    assert verify(header, BODY, [SECRET]) and verify(header, BODY, [NEW_SECRET])
    assert not verify(header, BODY + b"x", [SECRET])
    old = signature_header(BODY, [Secret(SECRET)], now - 301)
    assert not verify(old, BODY, [SECRET])
