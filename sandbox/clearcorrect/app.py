"""Assembles the portal app: both variants' pages (each answers 404 while the other variant is
active), the JSON API (while served), and the admin API when asked.

The request recorder wraps everything (so fault answers are counted too) and the faults sit
inside it, in front of the portal; both leave `/__sandbox/` alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.clearcorrect.admin import clearcorrect_admin_routes
from sandbox.clearcorrect.api import api_routes
from sandbox.clearcorrect.auth import auth_routes
from sandbox.clearcorrect.pages import page_routes
from sandbox.clearcorrect.portal import IDENTITY_JSON, WEBFORMS, ClearCorrectPortal
from sandbox.clearcorrect.webforms import common as wf
from sandbox.clearcorrect.webforms.pages import page_routes as webforms_page_routes
from sandbox.clearcorrect.webforms.signin import signin_routes
from sandbox.clearcorrect.webforms.viewstate import Signer
from sandbox.common.admin import admin_routes
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import FaultsMiddleware
from sandbox.common.recorder import RecorderMiddleware

Endpoint = Callable[[Request], Awaitable[Response]]


def _only_when(active: Callable[[], bool], routes: list[Route]) -> list[Route]:
    """The same routes, answering the 404 page while `active()` is false."""

    def guard(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if not active():
                return wf.not_found()
            return await endpoint(request)

        return guarded

    return [
        Route(r.path, guard(r.endpoint), methods=sorted(r.methods or ()), name=r.name)
        for r in routes
    ]


def create_app(config: SandboxConfig, wall: Callable[[], float] | None = None) -> Starlette:
    """The ClearCorrect Doctor Portal sandbox, seeded from `config` (variant `webforms`).

    `wall` is the wall clock for sessions and lockouts (tests pass a fake one to move it);
    `config.wall` by default. The portal object is on `app.state.portal` for in-process tools.
    """
    portal = ClearCorrectPortal(config, wall or config.wall)
    signer = Signer()

    async def home(request: Request) -> Response:
        if portal.variant == WEBFORMS:
            signed_in = wf.visitor(portal, request) is not None
            return RedirectResponse(wf.CASES_PATH if signed_in else wf.LOGIN_PATH, 302)
        return RedirectResponse("/Cases", status_code=302)

    identity = _only_when(
        lambda: portal.variant == IDENTITY_JSON, [*auth_routes(portal), *page_routes(portal)]
    )
    api = _only_when(lambda: portal.api_served, api_routes(portal))
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        *signin_routes(portal, signer),
        *webforms_page_routes(portal, signer),
        *identity,
        *api,
    ]
    if config.admin:
        routes = [*clearcorrect_admin_routes(portal), *admin_routes(portal), *routes]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RecorderMiddleware, recorder=portal.recorder),
            Middleware(FaultsMiddleware, faults=portal.faults),
        ],
    )
    app.state.portal = portal
    return app
