"""Alembic migrations, run programmatically (`tps-connector db upgrade`, or at start-up).

Alembic's env.py is given our live connection rather than opening its own, so migrations run on
the same engine (and SQLite pragmas) as everything else.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.schema import SchemaItem

from connector.store.database import Store

MIGRATIONS = Path(__file__).with_name("migrations")

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
        before = await conn.run_sync(_current)
        await conn.run_sync(_upgrade)
        after = await conn.run_sync(_current)
    return before, after


async def current_revision(store: Store) -> str | None:
    async with store.read() as conn:
        return await conn.run_sync(_current)
