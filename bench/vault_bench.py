"""Vault benchmark: envelope encryptions and decryptions per second, and the time to rotate
100,000 stored credentials onto a new key-encryption key.

Baselines measured in the same run:
- a single AES-256-GCM encryption/decryption of the same payload under one fixed key (what the
  envelope costs on top: a fresh data key, a second AEAD to wrap it, associated data);
- for rotation, the same batched UPDATE of every row without any cryptography (what rewrapping
  costs on top of simply touching every row).

Usage: python bench/vault_bench.py [--records N] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.clock import utcnow
from connector.keys import rotate
from connector.logs import configure_logging
from connector.store import Store, upgrade
from connector.store.ids import new_id
from connector.store.schema import accounts, sealed_secrets
from connector.store.sealed import sealed_row
from vault import Keyring, Purpose, Secret, Vault
from vault.envelope import seal, unseal

PAYLOAD = Secret('{"password": "Cl3arCorrect-Pw!", "totp_secret": null}')


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s"


async def crypto_rates(n: int) -> None:
    keys = Keyring({"k1": os.urandom(32)}, primary="k1")
    start = time.perf_counter()
    records = [await seal(keys, PAYLOAD, f"acc_{i}", Purpose.PORTAL_LOGIN) for i in range(n)]
    enc = time.perf_counter() - start
    start = time.perf_counter()
    for i, record in enumerate(records):
        await unseal(keys, record, f"acc_{i}", Purpose.PORTAL_LOGIN)
    dec = time.perf_counter() - start

    aead = AESGCM(os.urandom(32))
    data = PAYLOAD.reveal_bytes()
    start = time.perf_counter()
    raw = [(nonce := os.urandom(12), aead.encrypt(nonce, data, None)) for _ in range(n)]
    raw_enc = time.perf_counter() - start
    start = time.perf_counter()
    for nonce, ct in raw:
        aead.decrypt(nonce, ct, None)
    raw_dec = time.perf_counter() - start

    print(
        f"envelope encryptions   {rate(n, enc)}   baseline single AES-GCM {rate(n, raw_enc)}"
        f"   ratio {enc / raw_enc:.1f}x"
    )
    print(
        f"envelope decryptions   {rate(n, dec)}   baseline single AES-GCM {rate(n, raw_dec)}"
        f"   ratio {dec / raw_dec:.1f}x"
    )


async def fill(store: Store, keys: Keyring, n: int) -> None:
    now = utcnow()
    batch = 5000
    for start in range(0, n, batch):
        account_rows, sealed_rows = [], []
        for i in range(start, min(n, start + batch)):
            account_id = new_id("acc")
            record = await seal(keys, PAYLOAD, account_id, Purpose.PORTAL_LOGIN)
            account_rows.append(
                {
                    "id": account_id,
                    "vendor": "clearcorrect",
                    "username": f"p{i}@tps.example",
                    "username_key": f"p{i}@tps.example",
                    "status": "active",
                    "capabilities": [],
                    "credential_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            sealed_rows.append(
                sealed_row(new_id("sec"), account_id, Purpose.PORTAL_LOGIN, record, now)
            )
        async with store.transaction() as conn:
            await conn.execute(accounts.insert(), account_rows)
            await conn.execute(sealed_secrets.insert(), sealed_rows)


async def baseline_touch(store: Store, batch_size: int) -> float:
    """Touch every row in the same batches, without crypto."""
    start = time.perf_counter()
    after = ""
    while True:
        async with store.read() as conn:
            ids = (
                await conn.execute(
                    sa.select(sealed_secrets.c.id, sealed_secrets.c.wrapped_key)
                    .where(sealed_secrets.c.id > after)
                    .order_by(sealed_secrets.c.id)
                    .limit(batch_size)
                )
            ).all()
        if not ids:
            break
        after = ids[-1][0]
        async with store.transaction() as conn:
            await conn.execute(
                sealed_secrets.update()
                .where(sealed_secrets.c.id == sa.bindparam("b_id"))
                .values(wrapped_key=sa.bindparam("b_w"), rewrapped_at=utcnow()),
                [{"b_id": i, "b_w": w} for i, w in ids],
            )
    return time.perf_counter() - start


async def rotation(url: str, label: str, n: int) -> None:
    store = Store.connect(url)
    try:
        await upgrade(store)
        old = os.urandom(32)
        await fill(store, Keyring({"old": old}, primary="old"), n)
        base = await baseline_touch(store, 500)

        async def audit(_: object) -> None:
            return None

        vault = Vault(Keyring({"new": os.urandom(32), "old": old}, primary="new"), audit)
        start = time.perf_counter()
        result = await rotate(store, vault, batch_size=500)
        took = time.perf_counter() - start
        assert result.remaining == 0
        assert result.rewrapped == n
        print(
            f"rotate {n:,} credentials ({label}): {took:6.2f} s   ({n / took:,.0f} records/s)"
            f"   baseline plain batched UPDATE {base:6.2f} s   ratio {took / base:.2f}x"
        )
    finally:
        await store.close()


def postgres_url() -> str | None:
    try:
        import psycopg

        name = f"tpsc_bench_{os.getpid()}"
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception:
        return None


def drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--crypto-ops", type=int, default=50_000)
    args = parser.parse_args()
    configure_logging(level="warning", fmt="console")
    await crypto_rates(args.crypto_ops)
    with tempfile.TemporaryDirectory() as tmp:
        await rotation(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", args.records)
    pg = postgres_url()
    if pg is None:
        print("rotate (PostgreSQL): skipped, no server at 127.0.0.1:5432")
        return
    try:
        await rotation(pg, "PostgreSQL", args.records)
    finally:
        drop_postgres(pg)


if __name__ == "__main__":
    asyncio.run(main())
