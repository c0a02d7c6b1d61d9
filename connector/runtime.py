"""Assembling the connector from settings: logging, the store (migrated), keys and the vault.

Start-up fails with one line and an exit code of its own for each thing it could not get (the
database, the keys, a port, the remote browser), so that an operator, or a container platform's
restart policy, can tell them apart without a traceback.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from adapters.browser import BrowserPool
from adapters.http import connection_pool
from adapters.registry import AdapterParts, build_adapter, vendor_names
from connector.clock import utcnow
from connector.credentials import store_audit_sink
from connector.errors import ConfigError, ConnectorError
from connector.keys import key_provider
from connector.settings import Settings
from connector.store import Store, sealed, upgrade
from connector.store.diagnostics import database_label, driver_message, sqlite_file
from connector.store.migrate import current_revision, head_revision
from connector.sync import SchedulePolicy, SyncServices
from vault import KeyProvider, Vault

_log = structlog.get_logger("connector.runtime")


class StartupError(ConnectorError):
    """Something the process needs before it can do anything is not there."""


class DatabaseUnavailable(StartupError):
    exit_code = 3


class KeysUnavailable(StartupError):
    exit_code = 4


class CannotListen(StartupError):
    """The port is in use (another process serves there), or not ours to take."""

    exit_code = 5


class BrowserUnavailable(StartupError):
    exit_code = 6


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    vault: Vault


# --- the database ---------------------------------------------------------------------------


def database_error(error: BaseException, url: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot use the database ({database_label(url)}): {driver_message(error, url)}"
    )


def _require_existing(settings: Settings) -> None:
    database = sqlite_file(settings.database_url) if settings.embedded else None
    if database and not Path(database).is_file():
        raise DatabaseUnavailable(
            f"there is no connector database at {database}: run the command where "
            "connector.toml is, pass --config, or set data_dir"
        )


async def connect_store(settings: Settings) -> Store:
    """Connect and make one round trip: the database's own words when it cannot be used."""
    url = settings.database_url
    try:
        store = Store.connect(
            url, echo=settings.database.echo, pool_size=settings.database.pool_size
        )
    except (ValueError, OSError) as exc:
        raise database_error(exc, url) from None
    try:
        await store.ping()
    except Exception as exc:
        await store.close()
        raise database_error(exc, url) from None
    return store


async def open_store(settings: Settings, *, existing_only: bool = False) -> Store:
    """Connect, and bring the schema up to date (or insist on `db upgrade` when told not to).

    `existing_only` (commands that only read): an embedded database that does not exist yet is
    an error, rather than a new empty one made in whatever folder the command ran from.
    """
    if existing_only:
        _require_existing(settings)
    store = await connect_store(settings)
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


# --- keys -----------------------------------------------------------------------------------


class NoKeys:
    """The keys of a read-only command before any key exists: none, and a clear error if asked
    to seal or open anything."""

    def __init__(self, why: str) -> None:
        self._why = why

    @property
    def primary_kid(self) -> str:
        return ""

    def kids(self) -> tuple[str, ...]:
        return ()

    async def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        raise KeysUnavailable(self._why)

    async def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes:
        raise KeysUnavailable(self._why)


async def open_keys(
    settings: Settings, store: Store, *, create: bool, read_only: bool = False
) -> KeyProvider:
    """The configured keys. A key file is made only when no sealed record exists (and `create`
    allows it): a missing file must never be replaced by a new one while records need the old."""
    if settings.vault.provider == "file" and not settings.key_file.exists():
        async with store.read() as conn:
            counts = await sealed.kek_counts(conn)
        if counts:
            used = ", ".join(f"{kid} ({n} record(s))" for kid, n in sorted(counts.items()))
            raise KeysUnavailable(
                f"the key file {settings.key_file} is missing, and sealed records use {used}: "
                "restore it from your backup or point vault.key_file at it (a new key file "
                "would not open them)"
            )
        if read_only:
            # Nothing is sealed yet, and a read-only command seals nothing: no key file appears
            # where the command happened to run.
            return NoKeys(f"the key file {settings.key_file} does not exist yet")
        if not create:
            raise KeysUnavailable(
                f"the key file {settings.key_file} does not exist: on one machine, create it "
                "with `tps-connector keys generate`; with several, give every process the same "
                "keys (vault.provider = 'env', see 'Several machines' in the README)"
            )
    return key_provider(settings, create=create)


async def missing_keys(store: Store, keys: KeyProvider) -> dict[str, int]:
    """Key ids that sealed records use and these keys do not hold, with their record counts."""
    async with store.read() as conn:
        counts = await sealed.kek_counts(conn)
    held = set(keys.kids())
    return {kid: n for kid, n in sorted(counts.items()) if kid not in held}


@asynccontextmanager
async def open_runtime(settings: Settings, *, read_only: bool = False) -> AsyncIterator[Runtime]:
    """Everything a command needs. In embedded mode the key file is created on first run (when
    no record is sealed yet); `read_only` commands create neither a database nor keys."""
    store = await open_store(settings, existing_only=read_only)
    try:
        keys = await open_keys(
            settings, store, create=settings.embedded and not read_only, read_only=read_only
        )
        missing = await missing_keys(store, keys)
        if missing:
            _log.warning(
                "vault.keys_missing",
                missing=", ".join(f"{kid} ({n} record(s))" for kid, n in missing.items()),
                hint="every process needs every key that records use",
            )
        yield Runtime(settings, store, Vault(keys, store_audit_sink(store)))
    finally:
        await store.close()


# --- the network ----------------------------------------------------------------------------


def bind_listener(host: str, port: int, what: str = "the API") -> socket.socket:
    """A listening socket, bound now: a port in use is a one-line error before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CannotListen(
                f"cannot listen for {what} on {host}:{port}: the address is already in use "
                "(another process serves there)"
            ) from None
        raise CannotListen(
            f"cannot listen for {what} on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.setblocking(False)
    return sock


def browser_pool(settings: Settings) -> BrowserPool:
    browser = settings.browser
    return BrowserPool(
        executable_path=str(browser.executable_path) if browser.executable_path else None,
        ws_endpoint=browser.ws_endpoint,
        max_contexts=browser.max_contexts,
        sandbox=browser.sandbox,
    )


def _endpoint_label(ws_endpoint: str) -> str:
    """scheme://host:port only: the path of a launch-server endpoint works like a password."""
    parts = urlsplit(ws_endpoint)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def check_browser(pool: BrowserPool, settings: Settings) -> None:
    """Reach the remote browser once at start-up, when one is configured."""
    endpoint = settings.browser.ws_endpoint
    if not endpoint:
        return
    try:
        async with pool.context():
            pass
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.replace(endpoint, _endpoint_label(endpoint))
        raise BrowserUnavailable(
            f"cannot reach the remote browser at {_endpoint_label(endpoint)} "
            f"(browser.ws_endpoint): {first[:200]}"
        ) from None


async def probe_browser(settings: Settings) -> None:
    """`check_browser` with a pool of its own, closed again."""
    if not settings.browser.ws_endpoint:
        return
    pool = browser_pool(settings)
    try:
        await check_browser(pool, settings)
    finally:
        await pool.close()


# --- syncing --------------------------------------------------------------------------------


def schedule_policy(settings: Settings) -> SchedulePolicy:
    return SchedulePolicy(
        interval=timedelta(seconds=settings.sync.interval_seconds),
        jitter=settings.sync.jitter,
        backoff_max=timedelta(seconds=settings.sync.backoff_max_seconds),
        full_listing_every=timedelta(hours=settings.sync.full_listing_hours),
    )


@asynccontextmanager
async def open_sync_services(rt: Runtime, *, check: bool = False) -> AsyncIterator[SyncServices]:
    """Adapters for every vendor (one browser pool for the process) and the sync services.
    `check` reaches a configured remote browser first (long-running commands and `sync`)."""
    pool = browser_pool(rt.settings)
    connections = connection_pool()
    try:
        if check:
            await check_browser(pool, rt.settings)
        adapters = {
            vendor: build_adapter(
                vendor,
                AdapterParts(
                    base_url=rt.settings.vendors.for_vendor(vendor).base_url,
                    pool=pool,
                    clock=utcnow,
                    connections=connections,
                ),
            )
            for vendor in vendor_names()
        }
        yield SyncServices(rt.store, rt.vault, adapters, policy=schedule_policy(rt.settings))
    finally:
        await connections.close()
        await pool.close()
