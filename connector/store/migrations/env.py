"""Alembic environment: migrations run on a connection the connector hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.schema import SchemaItem

from connector.store.schema import metadata

# Tables that other tools own and that live beside ours (procrastinate's job queue).
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def include_object(
    obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `tps-connector db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


run()
