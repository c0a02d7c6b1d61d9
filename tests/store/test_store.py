"""Repository functions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from connector.accounts.service import (
    create_account,
    remove_account,
    rollback_credentials,
    update_credentials,
)
from connector.clock import utcnow
from connector.credentials import reveal_login, store_audit_sink
from connector.domain import AccountStatus, EventType
from connector.errors import ConflictError, InputError, NotFoundError
from connector.store import Store, accounts, audit, events, leases, practices, runs, sealed
from connector.store.ids import new_id
from connector.store.migrate import current_revision, head_revision, upgrade
from connector.store.schema import browser_sessions, credentials, metadata, sealed_secrets
from tests.conftest import BOTH_DATABASES
from vault import Keyring, Purpose, Secret, Vault

PASSWORD = "Sup3r-Secret-Pass!"


def make_vault(store: Store, kids: tuple[str, ...] = ("k1",)) -> Vault:
    keys = Keyring({kid: os.urandom(32) for kid in kids}, primary=kids[0])
    return Vault(keys, store_audit_sink(store))


@BOTH_DATABASES
async def test_schema_is_at_head_and_upgrade_is_idempotent(store: Store) -> None:
    assert await current_revision(store) == head_revision()
    assert await upgrade(store) == (head_revision(), head_revision())
    async with store.read() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert set(metadata.tables) <= names


@BOTH_DATABASES
async def test_account_lifecycle_with_credentials(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store,
        vault,
        vendor="ClearCorrect",
        username=" Dr@Example.com ",
        password=Secret(PASSWORD),
        practice_id="p1",
    )
    assert account.status == AccountStatus.VERIFYING
    assert account.vendor == "clearcorrect"
    assert account.username == "Dr@Example.com"
    assert account.credential_version == 1
    assert PASSWORD not in repr(account) and PASSWORD not in str(account.to_json())

    with pytest.raises(ConflictError):
        await create_account(
            store,
            vault,
            vendor="clearcorrect",
            username="dr@example.COM",
            password=Secret(PASSWORD),
        )

    login = await reveal_login(store, vault, account.id, reason="test")
    assert login.password.reveal() == PASSWORD
    assert login.username == "Dr@Example.com"
    assert login.totp_secret is None
    assert PASSWORD not in repr(login)

    async with store.read() as conn:
        entries = await audit.list_audit(conn, account.id)
    assert [(e.action, e.purpose, e.reason) for e in entries] == [
        ("decrypt", "portal_login", "test")
    ]

    # Update keeps the id; the previous version is kept for rollback, older ones are shredded.
    await update_credentials(store, vault, account.id, password=Secret("second-password-22"))
    updated = await update_credentials(
        store,
        vault,
        account.id,
        password=Secret("third-password-333"),
        totp_secret=Secret("jbsw y3dp ehpk 3pxp"),
    )
    assert updated.id == account.id and updated.credential_version == 3
    login = await reveal_login(store, vault, account.id, reason="test")
    assert login.password.reveal() == "third-password-333"
    assert login.totp_secret is not None and login.totp_secret.reveal() == "JBSWY3DPEHPK3PXP"
    async with store.read() as conn:
        states = (
            await conn.execute(
                sa.select(credentials.c.version, credentials.c.state).order_by(
                    credentials.c.version
                )
            )
        ).all()
        assert [tuple(r) for r in states] == [(2, "previous"), (3, "current")]
        assert await conn.scalar(sa.select(sa.func.count()).select_from(sealed_secrets)) == 2

    rolled = await rollback_credentials(store, account.id)
    assert rolled.credential_version == 2 and rolled.status == AccountStatus.VERIFYING
    assert (
        await reveal_login(store, vault, account.id, reason="t")
    ).password.reveal() == "second-password-22"
    rolled_back_again = await rollback_credentials(store, account.id)
    assert rolled_back_again.credential_version == 3

    await remove_account(store, account.id, reason="test")
    async with store.read() as conn:
        with pytest.raises(NotFoundError):
            await accounts.get_account(conn, account.id)
        assert await conn.scalar(sa.select(sa.func.count()).select_from(sealed_secrets)) == 0
        assert await conn.scalar(sa.select(sa.func.count()).select_from(credentials)) == 0
        assert (await audit.list_audit(conn, account.id))[-1].action == "shred"
    with pytest.raises(NotFoundError):
        await reveal_login(store, vault, account.id, reason="after delete")


@BOTH_DATABASES
async def test_bad_input_changes_nothing(store: Store) -> None:
    vault = make_vault(store)
    for kwargs, message in [
        ({"vendor": "nope", "username": "a@b.c", "password": Secret(PASSWORD)}, "unknown vendor"),
        ({"vendor": "invisalign", "username": "  ", "password": Secret(PASSWORD)}, "username"),
        ({"vendor": "invisalign", "username": "a\x00b", "password": Secret(PASSWORD)}, "control"),
        ({"vendor": "invisalign", "username": "a@b.c", "password": Secret("")}, "empty"),
        (
            {
                "vendor": "invisalign",
                "username": "a@b.c",
                "password": Secret(PASSWORD),
                "totp_secret": Secret("not base32!"),
            },
            "TOTP",
        ),
        (
            {
                "vendor": "invisalign",
                "username": "a@b.c",
                "password": Secret(PASSWORD),
                "practice_id": "",
            },
            "practice",
        ),
    ]:
        with pytest.raises(InputError, match=message) as caught:
            await create_account(store, vault, **kwargs)  # type: ignore[arg-type]
        assert PASSWORD not in str(caught.value)
    async with store.read() as conn:
        assert await accounts.list_accounts(conn) == []
        assert await conn.scalar(sa.select(sa.func.count()).select_from(sealed_secrets)) == 0


@BOTH_DATABASES
async def test_a_record_copied_to_another_account_does_not_open(store: Store) -> None:
    vault = make_vault(store)
    a = await create_account(
        store, vault, vendor="invisalign", username="a@x.io", password=Secret(PASSWORD)
    )
    b = await create_account(
        store, vault, vendor="invisalign", username="b@x.io", password=Secret("other-password-1")
    )
    async with store.transaction() as conn:
        row_a = (
            await conn.execute(sa.select(sealed_secrets).where(sealed_secrets.c.account_id == a.id))
        ).one()
        await conn.execute(
            sealed_secrets.update()
            .where(sealed_secrets.c.account_id == b.id)
            .values(
                wrapped_key=row_a.wrapped_key,
                nonce=row_a.nonce,
                ciphertext=row_a.ciphertext,
                kek_id=row_a.kek_id,
            )
        )
    from vault import VaultError

    with pytest.raises(VaultError) as caught:
        await reveal_login(store, vault, b.id, reason="test")
    assert PASSWORD not in str(caught.value)


@BOTH_DATABASES
async def test_datetimes_round_trip_as_aware_utc(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="t@x.io", password=Secret(PASSWORD)
    )
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=plus_two)
    async with store.transaction() as conn:
        updated = await accounts.update_account(conn, account.id, now=utcnow(), next_sync_at=moment)
    assert updated.next_sync_at == moment
    assert updated.next_sync_at is not None and updated.next_sync_at.tzinfo == UTC
    async with store.transaction() as conn:
        with pytest.raises(sa.exc.StatementError, match="naive"):
            await accounts.update_account(
                conn, account.id, now=utcnow(), next_sync_at=datetime(2026, 1, 1)
            )


@BOTH_DATABASES
async def test_leases_give_one_holder_at_a_time(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="l@x.io", password=Secret(PASSWORD)
    )
    now = utcnow()
    ttl = timedelta(minutes=5)
    async with store.transaction() as conn:
        assert await leases.acquire_lease(conn, account.id, "worker-a", ttl, now)
    async with store.transaction() as conn:
        assert not await leases.acquire_lease(conn, account.id, "worker-b", ttl, now)
        assert await leases.acquire_lease(conn, account.id, "worker-a", ttl, now)  # re-entrant
        assert await leases.renew_lease(conn, account.id, "worker-a", ttl, now)
        assert not await leases.renew_lease(conn, account.id, "worker-b", ttl, now)
    # An expired lease can be taken over.
    async with store.transaction() as conn:
        assert await leases.acquire_lease(conn, account.id, "worker-b", ttl, now + ttl * 2)
        assert not await leases.release_lease(conn, account.id, "worker-a")
        assert await leases.release_lease(conn, account.id, "worker-b")
        assert await leases.acquire_lease(conn, account.id, "worker-a", ttl, now)


@BOTH_DATABASES
async def test_concurrent_lease_attempts_have_exactly_one_winner(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="c@x.io", password=Secret(PASSWORD)
    )

    async def attempt(holder: str) -> bool:
        async with store.transaction() as conn:
            return await leases.acquire_lease(
                conn, account.id, holder, timedelta(minutes=1), utcnow()
            )

    results = await asyncio.gather(*(attempt(f"h{i}") for i in range(8)))
    assert sum(results) == 1


@BOTH_DATABASES
async def test_read_then_write_transactions_do_not_fail_under_concurrency(store: Store) -> None:
    """SQLite's deferred transactions fail with 'database is locked' here (BEGIN IMMEDIATE waits);
    PostgreSQL would lose updates without the row lock."""
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="w@x.io", password=Secret(PASSWORD)
    )

    async def bump() -> None:
        async with store.transaction() as conn:
            current = await accounts.get_account(conn, account.id, lock=True)
            await asyncio.sleep(0.005)
            await accounts.update_account(
                conn, account.id, now=utcnow(), credential_version=current.credential_version + 1
            )

    await asyncio.gather(*(bump() for _ in range(10)))
    async with store.read() as conn:
        assert (await accounts.get_account(conn, account.id)).credential_version == 11


@BOTH_DATABASES
async def test_practice_mappings_upsert(store: Store) -> None:
    now = utcnow()
    async with store.transaction() as conn:
        await practices.put_mapping(conn, "clearcorrect", "doc-1", "practice-a", now)
        await practices.put_mapping(conn, "clearcorrect", "doc-1", "practice-b", now)
        await practices.put_mapping(conn, "invisalign", "doc-1", "practice-c", now)
    async with store.read() as conn:
        assert await practices.practice_for(conn, "clearcorrect", "doc-1") == "practice-b"
        assert await practices.practice_for(conn, "clearcorrect", "doc-2") is None
        assert [m.practice_id for m in await practices.list_mappings(conn)] == [
            "practice-b",
            "practice-c",
        ]


@BOTH_DATABASES
async def test_events_and_runs(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="e@x.io", password=Secret(PASSWORD)
    )
    now = utcnow()
    async with store.transaction() as conn:
        ids = [
            await events.append_event(
                conn,
                type=EventType.CASE_CREATED,
                account_id=account.id,
                subject_id=None,
                data={"n": n},
                now=now,
            )
            for n in range(5)
        ]
        run_id = new_id("run")
        await runs.start_run(
            conn, run_id=run_id, account_id=account.id, holder="h", full=True, now=now
        )
        await runs.finish_run(
            conn, run_id, outcome="succeeded", counts={"cases": 5}, error=None, now=now
        )
    async with store.read() as conn:
        first = await events.read_events(conn, limit=3)
        rest = await events.read_events(conn, after_seq=first[-1].seq)
        history = await runs.list_runs(conn, account.id)
    assert [e.id for e in first + rest] == ids
    assert [e.data["n"] for e in first + rest] == list(range(5))
    assert history[0].outcome == "succeeded" and history[0].counts == {"cases": 5}
    # Deleting the account purges its events (their data may name patients).
    await remove_account(store, account.id, reason="test")
    async with store.read() as conn:
        assert await events.read_events(conn) == []


@BOTH_DATABASES
async def test_browser_session_is_dropped_with_its_credentials(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="invisalign", username="s@x.io", password=Secret(PASSWORD)
    )
    record = await vault.seal(Secret('{"cookies": []}'), account.id, Purpose.BROWSER_SESSION)
    sealed_id = new_id("sec")
    async with store.transaction() as conn:
        await sealed.insert_sealed(
            conn,
            sealed_id=sealed_id,
            account_id=account.id,
            purpose=Purpose.BROWSER_SESSION,
            record=record,
            now=utcnow(),
        )
        await conn.execute(
            browser_sessions.insert().values(
                account_id=account.id, sealed_id=sealed_id, credential_version=1, saved_at=utcnow()
            )
        )
    await update_credentials(store, vault, account.id, password=Secret("next-password-123"))
    async with store.read() as conn:
        assert (await conn.execute(sa.select(browser_sessions))).first() is None
        with pytest.raises(NotFoundError):
            await sealed.load_sealed(conn, sealed_id)
