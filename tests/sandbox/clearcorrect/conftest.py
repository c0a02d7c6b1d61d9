"""Fixtures for the ClearCorrect sandbox tests: a small running portal (the Identity app
variant for the JSON API's tests, the WebForms pages for theirs) and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sandbox.clearcorrect import IDENTITY_JSON
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.portal_client import PortalClient


def identity_app(handle: PortalHandle) -> PortalHandle:
    """Switch a running portal to the Identity app with its JSON API."""
    with ClearCorrectAdmin(handle.url) as admin:
        admin.variant(IDENTITY_JSON)
    return handle


@pytest.fixture
def portal(start_portals: Callable[..., PortalHandle]) -> PortalHandle:
    """The Identity app with its JSON API (variant `aspnetcore-json`): six practices of four
    cases (plus the scenario practice), stopped after the test."""
    return identity_app(start_portals("clearcorrect", practices=6, cases=4, seed=7))


@pytest.fixture
def wf_portal(start_portals: Callable[..., PortalHandle]) -> PortalHandle:
    """The WebForms pages (the default variant), same data as `portal`."""
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
