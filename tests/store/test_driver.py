"""A driver plan reads and writes what SQLAlchemy's `execute` of the same statement does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from connector.accounts.service import create_account
from connector.credentials import store_audit_sink
from connector.store import Store, runs
from connector.store.driver import driver_plan
from connector.store.schema import sync_runs
from tests.conftest import BOTH_DATABASES
from vault import Keyring, Secret, Vault

#: A literal beside the bound parameter: the plan binds it as SQLAlchemy does.
_RUNNING = sa.select(sync_runs).where(
    sync_runs.c.account_id == sa.bindparam("b_account"), sync_runs.c.outcome == "running"
)
_ERROR = sync_runs.update().where(sync_runs.c.id == sa.bindparam("b_id")).values(error="x")


@BOTH_DATABASES
async def test_a_plan_reads_and_writes_as_execute_does(store: Store) -> None:
    vault = Vault(Keyring({"k1": b"k" * 32}, primary="k1"), store_audit_sink(store))
    account = await create_account(
        store, vault, vendor="clearcorrect", username="u@x.example", password=Secret("pw")
    )
    now = datetime(2026, 3, 2, 9, 30, 0, 120000, tzinfo=UTC)
    async with store.transaction() as conn:
        # JSON, a boolean and a time go in through their types' bind processors ...
        await runs.start_run(
            conn, run_id="run_1", account_id=account.id, holder="h", full=True, now=now
        )
        await runs.finish_run(
            conn, "run_1", outcome="running", counts={"a": 1}, error=None, now=now, details=None
        )
        plan = driver_plan(_RUNNING, conn.dialect)
        # ... and come out through their result processors, as `execute` gives them.
        expected = [
            dict(r._mapping) for r in await conn.execute(_RUNNING, {"b_account": account.id})
        ]
        assert await plan.mappings(conn, {"b_account": account.id}) == expected
        assert expected[0]["full"] is True and expected[0]["counts"] == {"a": 1}
        assert expected[0]["started_at"] == now
        assert await plan.mappings(conn, {"b_account": "acc_none"}) == []
        error = driver_plan(_ERROR, conn.dialect)
        assert await error.rowcount(conn, {"b_id": "run_1"}) == 1
        assert await error.rowcount(conn, {"b_id": "run_none"}) == 0


@BOTH_DATABASES
async def test_a_driver_error_comes_out_as_sqlalchemys(store: Store) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(sa.exc.IntegrityError):
        async with store.transaction() as conn:
            # No such account: the foreign key refuses the row.
            await runs.start_run(
                conn, run_id="run_1", account_id="acc_none", holder="h", full=False, now=now
            )
