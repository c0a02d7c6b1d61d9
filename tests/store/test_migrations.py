"""The migrations produce exactly the schema the code declares, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connector.store import Store
from connector.store.migrate import include_object
from connector.store.schema import metadata
from tests.conftest import BOTH_DATABASES


@BOTH_DATABASES
async def test_models_and_migrations_agree(store: Store) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))

    async with store.read() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
