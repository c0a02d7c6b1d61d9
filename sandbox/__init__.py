"""Local, realistic simulations of the vendor portals (the other side of the wire).

Each vendor package exposes `create_app(config: SandboxConfig) -> Starlette` and `SCENARIOS`.
Nothing here imports the connector, the adapters or the vault.
"""

from __future__ import annotations

import importlib

from starlette.applications import Starlette

from sandbox.common.config import SandboxConfig

VENDORS: tuple[str, ...] = ("invisalign", "clearcorrect")


def create_app(vendor: str, config: SandboxConfig | None = None) -> Starlette:
    """Build one vendor's portal app."""
    if vendor not in VENDORS:
        raise ValueError(f"unknown vendor {vendor!r}; expected one of {', '.join(VENDORS)}")
    module = importlib.import_module(f"sandbox.{vendor}")
    app: Starlette = module.create_app(config or SandboxConfig())
    return app
