"""Fixtures for the Invisalign sandbox tests: running portals and logged-in httpx clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.common.admin_client import SandboxAdmin
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, serve
from sandbox.invisalign import create_app
from sandbox.invisalign.scenarios import SCENARIOS
from tests.sandbox.invisalign.ids_client import IdsClient

ClientFactory = Callable[..., IdsClient]


def scenario(name: str) -> Any:
    return next(s for s in SCENARIOS if s.name == name)


@pytest.fixture
def portal(start_portals: Callable[..., PortalHandle]) -> PortalHandle:
    """Two generated practices of six patients plus the scenario practice, stopped afterwards."""
    return start_portals("invisalign", practices=2, cases=6, seed=3)


@pytest.fixture
def clients() -> Iterator[Callable[[str], IdsClient]]:
    """Make httpx clients (one cookie jar each); all are closed after the test."""
    with ExitStack() as stack:
        yield lambda url: stack.enter_context(IdsClient(url))


@pytest.fixture
def client_for(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> Callable[[str], IdsClient]:
    """A client logged in with a scenario login (by name) on `portal`."""

    def make(name: str) -> IdsClient:
        login = scenario(name)
        client = clients(portal.url)
        client.login(login.username, login.password)
        return client

    return make


@dataclass
class FakeWall:
    """A wall clock the test moves by hand (sessions, saved logins and lockouts use it)."""

    now: float = 1_767_600_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class WalledPortal:
    url: str
    admin: SandboxAdmin
    wall: FakeWall


@pytest.fixture
def walled_portal() -> Iterator[Callable[..., WalledPortal]]:
    """Start portals whose wall clock the test controls; every one is stopped afterwards."""
    with ExitStack() as stack:

        def start(**config: Any) -> WalledPortal:
            config.setdefault("admin", True)
            config.setdefault("practices", 0)
            config.setdefault("cases", 0)
            wall = FakeWall()
            app = create_app(SandboxConfig(**config), wall=wall)
            running = stack.enter_context(serve(app))
            admin = stack.enter_context(SandboxAdmin(running.url))
            return WalledPortal(running.url, admin, wall)

        yield start
