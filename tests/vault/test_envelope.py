"""Envelope encryption: round trip, tamper detection, binding to account and purpose."""

from __future__ import annotations

import base64
import dataclasses
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault import (
    EnvKeyring,
    Keyring,
    Purpose,
    SealedRecord,
    Secret,
    Vault,
    VaultError,
    associated_data,
)
from vault.envelope import rewrap, seal, unseal

PLAINTEXT = "correct-horse-battery-staple"


def keyring(*kids: str) -> Keyring:
    return Keyring({kid: os.urandom(32) for kid in kids}, primary=kids[0])


async def test_round_trip_and_record_shape() -> None:
    keys = keyring("k1")
    record = await seal(keys, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    assert record.format_version == 1
    assert record.kek_id == "k1"
    assert len(record.nonce) == 12
    assert len(record.wrapped_key) == 12 + 32 + 16
    assert PLAINTEXT.encode() not in record.ciphertext
    opened = await unseal(keys, record, "acc_1", Purpose.PORTAL_LOGIN)
    assert opened.reveal() == PLAINTEXT


async def test_every_record_gets_a_fresh_data_key_and_nonce() -> None:
    keys = keyring("k1")
    a = await seal(keys, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    b = await seal(keys, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    assert a.nonce != b.nonce
    assert a.wrapped_key != b.wrapped_key
    assert a.ciphertext != b.ciphertext


@pytest.mark.parametrize("field", ["wrapped_key", "nonce", "ciphertext"])
async def test_flipping_any_byte_gives_a_clear_error_without_plaintext(field: str) -> None:
    keys = keyring("k1")
    record = await seal(keys, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    original: bytes = getattr(record, field)
    for index in range(len(original)):
        flipped = bytearray(original)
        flipped[index] ^= 0x01
        tampered = dataclasses.replace(record, **{field: bytes(flipped)})  # type: ignore[arg-type]
        with pytest.raises(VaultError) as caught:
            await unseal(keys, tampered, "acc_1", Purpose.PORTAL_LOGIN)
        assert PLAINTEXT not in str(caught.value)
        assert str(caught.value)


async def test_a_record_moved_to_another_account_or_purpose_fails() -> None:
    keys = keyring("k1")
    record = await seal(keys, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError, match="altered, moved"):
        await unseal(keys, record, "acc_2", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError):
        await unseal(keys, record, "acc_1", Purpose.BROWSER_SESSION)


async def test_unknown_kek_and_unknown_version_are_clear_errors() -> None:
    record = await seal(keyring("k1"), Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError, match="'k1' is not configured"):
        await unseal(keyring("k2"), record, "acc_1", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError, match="format version"):
        await unseal(
            keyring("k1"),
            dataclasses.replace(record, format_version=9),
            "acc_1",
            Purpose.PORTAL_LOGIN,
        )


async def test_rewrap_keeps_nonce_and_ciphertext_byte_identical() -> None:
    old_key = os.urandom(32)
    old = Keyring({"old": old_key}, primary="old")
    record = await seal(old, Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    both = Keyring({"new": os.urandom(32), "old": old_key}, primary="new")
    moved = await rewrap(both, record, "acc_1", Purpose.PORTAL_LOGIN)
    assert moved.kek_id == "new"
    assert moved.nonce == record.nonce
    assert moved.ciphertext == record.ciphertext
    assert moved.wrapped_key != record.wrapped_key
    assert (await unseal(both, moved, "acc_1", Purpose.PORTAL_LOGIN)).reveal() == PLAINTEXT


def test_associated_data_is_unambiguous() -> None:
    # Length prefixes: moving a character between fields changes the encoding.
    assert associated_data(1, "acc_1", Purpose.PORTAL_LOGIN) != associated_data(
        1, "acc_1p", Purpose.PORTAL_LOGIN
    )
    assert associated_data(1, "a", "portal_login") != associated_data(2, "a", "portal_login")
    with pytest.raises(VaultError):
        associated_data(1, "", Purpose.PORTAL_LOGIN)


@given(st.text(min_size=12, max_size=200), st.text(min_size=1, max_size=40))
@settings(max_examples=40, deadline=None)
async def test_round_trip_any_text(value: str, account: str) -> None:
    keys = keyring("k1")
    record = await seal(keys, Secret(value), account, Purpose.BROWSER_SESSION)
    assert (await unseal(keys, record, account, Purpose.BROWSER_SESSION)).reveal() == value


def test_record_repr_shows_no_bytes() -> None:
    record = SealedRecord(1, "k1", b"\x01" * 60, b"\x02" * 12, b"secretbytes")
    assert "secretbytes" not in repr(record)


def test_env_keyring_parses_and_validates() -> None:
    k1, k2 = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    ring = EnvKeyring(Secret(f"new:{k1}, old:{k2}"))
    assert ring.primary_kid == "new"
    assert ring.kids() == ("new", "old")
    for bad, message in [
        ("", "no key"),
        ("nokid", "kid:base64"),
        (f"a:{k1},a:{k2}", "twice"),
        ("a:not base64!", "base64"),
        (f"a:{base64.b64encode(b'short').decode()}", "32 bytes"),
        (f"bad kid:{k1}", "key id"),
    ]:
        with pytest.raises(VaultError, match=message) as caught:
            EnvKeyring(Secret(bad))
        assert k1 not in str(caught.value)


async def test_vault_audits_before_decrypting() -> None:
    seen: list[tuple[str, str, str]] = []

    async def audit(event: object) -> None:
        seen.append((event.account_id, str(event.purpose), event.reason))  # type: ignore[attr-defined]

    vault = Vault(keyring("k1"), audit)
    record = await vault.seal(Secret(PLAINTEXT), "acc_1", Purpose.PORTAL_LOGIN)
    assert seen == []
    opened = await vault.open(record, "acc_1", Purpose.PORTAL_LOGIN, reason="sync")
    assert opened.reveal() == PLAINTEXT
    assert seen == [("acc_1", "portal_login", "sync")]

    async def failing(event: object) -> None:
        raise RuntimeError("audit store down")

    with pytest.raises(RuntimeError):
        await Vault(vault.keys, failing).open(record, "acc_1", Purpose.PORTAL_LOGIN, reason="x")
