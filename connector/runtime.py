"""Assembling the connector from settings: logging, the store (migrated), keys and the vault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from connector.credentials import store_audit_sink
from connector.errors import ConfigError
from connector.keys import key_provider
from connector.settings import Settings
from connector.store import Store, upgrade
from connector.store.migrate import current_revision, head_revision
from vault import Vault


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    vault: Vault


async def open_store(settings: Settings) -> Store:
    """Connect, and bring the schema up to date (or insist on `db upgrade` when told not to)."""
    store = Store.connect(settings.database_url, echo=settings.database.echo)
    try:
        if settings.database.auto_upgrade:
            await upgrade(store)
        elif await current_revision(store) != head_revision():
            raise ConfigError(
                "the database schema is not up to date: run `tps-connector db upgrade`"
            )
    except BaseException:
        await store.close()
        raise
    return store


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Everything a command needs. In embedded mode the key file is created on first run."""
    keys = key_provider(settings, create=settings.embedded)
    store = await open_store(settings)
    try:
        yield Runtime(settings, store, Vault(keys, store_audit_sink(store)))
    finally:
        await store.close()
