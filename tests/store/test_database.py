"""`Store.statement()`: one read without BEGIN and COMMIT, which must not leave the pooled
connection outside transactions for whoever takes it next."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connector.clock import utcnow
from connector.store import Store, upgrade
from connector.store.schema import practice_mappings
from tests.conftest import BOTH_DATABASES


class Abandoned(Exception):
    pass


async def _insert_then_fail(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            practice_mappings.insert().values(
                vendor="clearcorrect",
                vendor_doctor_id="dr-1",
                practice_id="p-1",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        raise Abandoned


@BOTH_DATABASES
async def test_a_transaction_after_a_lone_statement_is_still_atomic(database_url: str) -> None:
    store = Store.connect(database_url, pool_size=1)
    try:
        await upgrade(store)
        async with store.statement() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(practice_mappings)) == 0
            if store.dialect == "postgresql":
                # Outside a transaction: PostgreSQL reports none open after the statement.
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                assert driver.info.transaction_status.name == "IDLE"
        pool = store.engine.pool
        assert pool.checkedin() == 1  # type: ignore[attr-defined]
        # The same pooled connection, now in a transaction that fails half-way.
        with pytest.raises(Abandoned):
            await _insert_then_fail(store)
        async with store.statement() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(practice_mappings)) == 0
    finally:
        await store.close()
