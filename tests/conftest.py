"""Shared test fixtures.

PostgreSQL and Chromium tests skip on a developer machine that lacks them, but fail loudly when
CI=true: CI must prove the code on both.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import respx.mocks

from adapters.browser import chromium_launch_options
from connector.store import Store, upgrade
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal

# respx intercepts at the httpx client (not in httpcore), so mocks hold whatever transport a
# client uses: adapters' clients run on their own transport (adapters/http/transport.py).
respx.mocks.DEFAULT_MOCKER = "httpx"

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    """Skip locally, fail in CI, when a required service is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def chromium_options() -> dict[str, Any]:
    """Launch options for Chromium (Playwright's build or Debian's)."""
    try:
        return chromium_launch_options()
    except FileNotFoundError:
        require(False, "Chromium")
        raise


PortalFactory = Callable[..., PortalHandle]


@pytest.fixture
def start_portals() -> Iterator[PortalFactory]:
    """Start sandbox portals on free loopback ports; every one is stopped after the test.

    Usage: `portal = start_portals("clearcorrect", practices=2, cases=5)`.
    """
    with ExitStack() as stack:

        def start(vendor: str, **config: Any) -> PortalHandle:
            config.setdefault("admin", True)
            return stack.enter_context(start_portal(vendor, SandboxConfig(**config)))

        yield start


# --- databases ------------------------------------------------------------------------------

PG_ADMIN_DSN = os.environ.get("CONNECTOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


@contextmanager
def throwaway_pg_database() -> Iterator[str]:
    """Create a PostgreSQL database for one test and drop it afterwards; yields its async URL."""
    import psycopg

    name = f"tpsc_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_available: bool
) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a throwaway PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'connector.db'}"
        return
    require(pg_available, "PostgreSQL at 127.0.0.1:5432")
    with throwaway_pg_database() as url:
        yield url


BOTH_DATABASES = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on the parametrized database (use with `@BOTH_DATABASES`)."""
    store = Store.connect(database_url)
    await upgrade(store)
    try:
        yield store
    finally:
        await store.close()
