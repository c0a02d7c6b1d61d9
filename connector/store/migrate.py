"""Alembic migrations, run programmatically (`tps-connector db upgrade`, or at start-up).

Alembic's env.py is given our live connection rather than opening its own, so migrations run on
the same engine (and SQLite pragmas) as everything else.

Every process upgrades at start-up (unless `database.auto_upgrade` is off), so processes starting
together (a rolling restart, `serve` beside its workers) would race: each would find the
database behind and run the same migration. One at a time, then: on PostgreSQL under a
transaction-level advisory lock taken before the current revision is read; on SQLite inside the
store's write transaction (`BEGIN IMMEDIATE`, exclusive among writers in WAL mode). The ones that
wait find the database up to date and do nothing.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import SchemaItem

from connector.store.database import Store

MIGRATIONS = Path(__file__).with_name("migrations")

#: The advisory lock key of migrations ("tps_migr"; the feed's stamper uses another).
MIGRATION_LOCK_KEY = 0x7470735F6D696772

# Tables that other tools own and that live beside ours (procrastinate's job queue).
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def include_object(
    obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    """Alembic filter: our tables only, so autogenerate never proposes dropping theirs."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(store: Store) -> tuple[str | None, str | None]:
    """Apply pending migrations; returns (revision before, revision after)."""
    async with store.transaction() as conn:
        await take_migration_lock(conn)
        before = await conn.run_sync(_current)
        await conn.run_sync(_upgrade)
        after = await conn.run_sync(_current)
    return before, after


async def take_migration_lock(conn: AsyncConnection) -> None:
    """Wait for, then hold until the transaction ends, the one lock schema changes take."""
    if conn.dialect.name != "sqlite":
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )


async def current_revision(store: Store) -> str | None:
    async with store.read() as conn:
        return await conn.run_sync(_current)
