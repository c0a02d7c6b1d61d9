"""Alembic environment: migrations run on a connection the connector hands over."""

from __future__ import annotations

from alembic import context

from connector.store.migrate import include_object
from connector.store.schema import metadata


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
