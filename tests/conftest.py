"""Shared test fixtures.

PostgreSQL and Chromium tests skip on a developer machine that lacks them, but fail loudly when
CI=true: CI must prove the code on both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from adapters.browser import chromium_launch_options
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal

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
