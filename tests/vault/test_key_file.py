"""The local key file: created 0600, refused when others can read it, rotated by adding keys."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from vault import LocalKeyFile, Purpose, Secret, VaultError
from vault.envelope import rewrap, seal, unseal


def test_generate_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys.json"
    keys = LocalKeyFile.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.primary_kid.startswith("kek-")
    doc = json.loads(path.read_text())
    assert doc["primary"] == keys.primary_kid
    with pytest.raises(VaultError, match="already exists"):
        LocalKeyFile.generate(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_a_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keys.json"
    LocalKeyFile.generate(path)
    os.chmod(path, mode)
    with pytest.raises(VaultError, match=f"mode {mode:04o}.*chmod 600"):
        LocalKeyFile(path)


def test_missing_and_corrupt_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="keys generate"):
        LocalKeyFile(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    os.chmod(bad, 0o600)
    with pytest.raises(VaultError, match="not a valid key file"):
        LocalKeyFile(bad)


async def test_add_primary_keeps_old_keys_and_remove_refuses_primary(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = LocalKeyFile.generate(path)
    record = await seal(first, Secret("a-password-1234"), "acc", Purpose.PORTAL_LOGIN)
    old_kid = first.primary_kid
    new_kid = first.add_primary()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reloaded = LocalKeyFile(path)
    assert reloaded.primary_kid == new_kid == first.primary_kid
    assert reloaded.kids() == (new_kid, old_kid)
    assert (
        await unseal(reloaded, record, "acc", Purpose.PORTAL_LOGIN)
    ).reveal() == "a-password-1234"
    moved = await rewrap(reloaded, record, "acc", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError, match="primary"):
        reloaded.remove(new_kid)
    reloaded.remove(old_kid)
    final = LocalKeyFile(path)
    assert final.kids() == (new_kid,)
    assert (await unseal(final, moved, "acc", Purpose.PORTAL_LOGIN)).reveal() == "a-password-1234"
