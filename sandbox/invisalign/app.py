"""Assemble the portal: its routes on two hosts, the admin API when asked for, the middleware."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware

from sandbox.common.admin import admin_routes
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import FaultsMiddleware
from sandbox.common.recorder import RecorderMiddleware
from sandbox.invisalign.access import HostSplit
from sandbox.invisalign.admin import site_admin_routes
from sandbox.invisalign.api import api_routes
from sandbox.invisalign.auth import auth_routes
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.views import API_BASE, HIDDEN_API_BASE, view_routes


def create_app(config: SandboxConfig, wall: Callable[[], float] | None = None) -> Starlette:
    """The Invisalign Doctor Site sandbox; `app.state.portal` is its `InvisalignPortal`.

    `wall` is the wall clock for sessions and lockouts (tests pass a fake one to move it);
    `config.wall` by default. The hosted login answers on `config.login_host` at the same port
    (`app.state.extra_hosts` tells `sandbox.common.server.serve` to listen there too).
    """
    return build_app(InvisalignPortal(config, wall or config.wall), admin=config.admin)


def build_app(portal: InvisalignPortal, admin: bool) -> Starlette:
    routes = [
        *auth_routes(portal),
        *view_routes(portal),
        *api_routes(portal, API_BASE, guessed=True),
        *api_routes(portal, HIDDEN_API_BASE, guessed=False),
    ]
    if admin:
        routes += [*admin_routes(portal), *site_admin_routes(portal)]
    # The recorder is outermost so it also counts the 5xx and 429 answers faults inject.
    middleware = [
        Middleware(RecorderMiddleware, recorder=portal.recorder),
        Middleware(FaultsMiddleware, faults=portal.faults),
        Middleware(HostSplit, login_host=portal.config.login_host),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = portal
    app.state.extra_hosts = (portal.config.login_host,)
    return app
