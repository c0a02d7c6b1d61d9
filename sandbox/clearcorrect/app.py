"""Assembles the portal app: sign-in flow, pages, JSON API, and the admin API when asked.

The request recorder wraps everything (so fault answers are counted too) and the faults sit
inside it, in front of the portal; both leave `/__sandbox/` alone.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from sandbox.clearcorrect.api import api_routes
from sandbox.clearcorrect.auth import auth_routes
from sandbox.clearcorrect.pages import page_routes
from sandbox.clearcorrect.portal import ClearCorrectPortal
from sandbox.common.admin import admin_routes
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import FaultsMiddleware
from sandbox.common.recorder import RecorderMiddleware


def create_app(config: SandboxConfig) -> Starlette:
    """The ClearCorrect Doctor Portal sandbox, seeded from `config`.

    The portal object is on `app.state.portal` for in-process tools.
    """
    portal = ClearCorrectPortal(config, config.wall)
    routes: list[BaseRoute] = [*auth_routes(portal), *page_routes(portal), *api_routes(portal)]
    if config.admin:
        routes = [*admin_routes(portal), *routes]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RecorderMiddleware, recorder=portal.recorder),
            Middleware(FaultsMiddleware, faults=portal.faults),
        ],
    )
    app.state.portal = portal
    return app
