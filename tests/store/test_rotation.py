"""Key rotation: rewraps every data key, leaves ciphertexts byte-identical, resumes after an
interruption, and refuses to retire a key still in use."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.accounts.service import create_account
from connector.credentials import reveal_login, store_audit_sink
from connector.errors import ConflictError
from connector.keys import kek_usage, retire_key, rotate
from connector.settings import Settings
from connector.store import Store
from connector.store.schema import sealed_secrets
from tests.conftest import BOTH_DATABASES
from vault import LocalKeyFile, Secret, Vault

ACCOUNTS = 120


class Interrupted(Exception):
    pass


async def _ciphertexts(store: Store) -> dict[str, tuple[bytes, bytes, str]]:
    async with store.read() as conn:
        rows = (await conn.execute(sa.select(sealed_secrets))).all()
    return {r.id: (bytes(r.nonce), bytes(r.ciphertext), r.kek_id) for r in rows}


@BOTH_DATABASES
async def test_rotation_is_complete_resumable_and_keeps_ciphertexts(
    store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    key_file = LocalKeyFile.generate(settings.key_file)
    old_kid = key_file.primary_kid
    vault = Vault(key_file, store_audit_sink(store))
    ids = []
    for n in range(ACCOUNTS):
        account = await create_account(
            store,
            vault,
            vendor="clearcorrect",
            username=f"partner{n}@tps.example",
            password=Secret(f"password-number-{n:04d}"),
        )
        ids.append(account.id)
    before = await _ciphertexts(store)

    new_kid = key_file.add_primary()
    vault = Vault(LocalKeyFile(settings.key_file), store_audit_sink(store))
    usage = {u.kek_id: u for u in await kek_usage(store, vault.keys)}
    assert usage[old_kid].rows == ACCOUNTS and usage[new_kid].rows == 0 and usage[new_kid].primary

    # Interrupt after the second batch: the committed batches stay rotated.
    def stop_after_two(done: int, total: int) -> None:
        if done >= 2 * 25:
            raise Interrupted

    with pytest.raises(Interrupted):
        await rotate(store, vault, batch_size=25, progress=stop_after_two)
    middle = {u.kek_id: u.rows for u in await kek_usage(store, vault.keys)}
    assert middle == {new_kid: 50, old_kid: ACCOUNTS - 50}

    with pytest.raises(ConflictError, match="still wraps 70"):
        await retire_key(store, settings, old_kid)

    seen: list[tuple[int, int]] = []
    result = await rotate(store, vault, batch_size=25, progress=lambda d, t: seen.append((d, t)))
    assert result.rewrapped == ACCOUNTS - 50 and result.remaining == 0
    assert seen[-1] == (ACCOUNTS - 50, ACCOUNTS - 50)

    after = await _ciphertexts(store)
    assert after.keys() == before.keys()
    for sealed_id, (nonce, ciphertext, kid) in after.items():
        assert (nonce, ciphertext) == before[sealed_id][:2]
        assert kid == new_kid
    for n, account_id in enumerate(ids):
        login = await reveal_login(store, vault, account_id, reason="test")
        assert login.password.reveal() == f"password-number-{n:04d}"

    # Nothing left on the old key: it can be retired, and everything still opens.
    await retire_key(store, settings, old_kid)
    final = Vault(LocalKeyFile(settings.key_file), store_audit_sink(store))
    assert final.keys.kids() == (new_kid,)
    assert (await reveal_login(store, final, ids[0], reason="t")).password.reveal() == (
        "password-number-0000"
    )
    assert (await rotate(store, final)).rewrapped == 0
