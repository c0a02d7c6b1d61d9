"""Assembling the connector from settings: logging, the store (migrated), keys and the vault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from adapters.browser import BrowserPool
from adapters.registry import AdapterParts, build_adapter, vendor_names
from connector.clock import utcnow
from connector.credentials import store_audit_sink
from connector.errors import ConfigError
from connector.keys import key_provider
from connector.settings import Settings
from connector.store import Store, upgrade
from connector.store.migrate import current_revision, head_revision
from connector.sync import SchedulePolicy, SyncServices
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


def schedule_policy(settings: Settings) -> SchedulePolicy:
    return SchedulePolicy(
        interval=timedelta(seconds=settings.sync.interval_seconds),
        jitter=settings.sync.jitter,
        backoff_max=timedelta(seconds=settings.sync.backoff_max_seconds),
        full_listing_every=timedelta(hours=settings.sync.full_listing_hours),
    )


@asynccontextmanager
async def open_sync_services(rt: Runtime) -> AsyncIterator[SyncServices]:
    """Adapters for every vendor (one browser pool for the process) and the sync services."""
    browser = rt.settings.browser
    pool = BrowserPool(
        executable_path=str(browser.executable_path) if browser.executable_path else None,
        ws_endpoint=browser.ws_endpoint,
        max_contexts=browser.max_contexts,
    )
    adapters = {
        vendor: build_adapter(
            vendor,
            AdapterParts(
                base_url=rt.settings.vendors.for_vendor(vendor).base_url, pool=pool, clock=utcnow
            ),
        )
        for vendor in vendor_names()
    }
    try:
        yield SyncServices(rt.store, rt.vault, adapters, policy=schedule_policy(rt.settings))
    finally:
        await pool.close()
