"""Assemble the portal: its routes, the admin API when asked for, and the shared middleware."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware

from sandbox.common.admin import admin_routes
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import FaultsMiddleware
from sandbox.common.recorder import RecorderMiddleware
from sandbox.invisalign.api import api_routes
from sandbox.invisalign.auth import auth_routes
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.views import view_routes


def create_app(config: SandboxConfig, wall: Callable[[], float] | None = None) -> Starlette:
    """The Invisalign Doctor Site sandbox; `app.state.portal` is its `InvisalignPortal`.

    `wall` is the wall clock for sessions and lockouts (tests pass a fake one to move it);
    `config.wall` by default.
    """
    return build_app(InvisalignPortal(config, wall or config.wall), admin=config.admin)


def build_app(portal: InvisalignPortal, admin: bool) -> Starlette:
    routes = [*auth_routes(portal), *view_routes(portal), *api_routes(portal)]
    if admin:
        routes += admin_routes(portal)
    # The recorder is outermost so it also counts the 5xx and 429 answers faults inject.
    middleware = [
        Middleware(RecorderMiddleware, recorder=portal.recorder),
        Middleware(FaultsMiddleware, faults=portal.faults),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = portal
    return app
