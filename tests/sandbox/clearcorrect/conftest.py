"""Fixtures for the ClearCorrect sandbox tests: a small running portal and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.portal_client import PortalClient


@pytest.fixture
def portal(start_portals: Callable[..., PortalHandle]) -> PortalHandle:
    """Six practices of four cases (plus the scenario practice), stopped after the test."""
    return start_portals("clearcorrect", practices=6, cases=4, seed=7)


@pytest.fixture
def client_for(portal: PortalHandle) -> Iterator[Callable[..., PortalClient]]:
    """Make httpx clients on the running portal, optionally logged in; all closed afterwards."""
    made: list[PortalClient] = []

    def make(username: str | None = None, password: str | None = None) -> PortalClient:
        client = PortalClient(portal.url)
        made.append(client)
        if username is not None:
            assert password is not None
            client.login(username, password)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def good(client_for: Callable[..., PortalClient]) -> PortalClient:
    login = scenario("good")
    return client_for(login.username, login.password)
