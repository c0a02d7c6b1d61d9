"""The sidecar's HTTP app: the `/v1` API for the TPS app, the `/forms` pages for dentists,
and health and metrics.

Engines, the vault and adapters are created in the lifespan (not at import), so the same app
object serves uvicorn, tests and schemathesis on whatever event loop drives it; `serve` opens
the runtime itself first (so that a missing database or key is a one-line error before anything
listens) and hands it in. Background loops (scheduler, actions, webhooks) are started by
`serve`, not here.

Only `/forms` is meant for dentists' browsers: `/v1`, `/docs`, `/openapi.json`, `/metrics` and
the health checks belong on the TPS's internal network (the README shows a proxy set-up).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from connector import __version__
from connector.api import errors
from connector.api.auth import BearerTokens, require_token
from connector.api.limits import BodyLimit
from connector.api.state import ApiContext
from connector.collector import collector_set_for_work
from connector.runtime import Runtime, open_runtime, open_sync_services
from connector.settings import Settings

Hook = Callable[[ApiContext], Any]

OPENAPI_TAGS = [
    {"name": "accounts", "description": "Vendor logins: write-only secrets, status, sync."},
    {"name": "cases", "description": "Synced cases, setups and comments."},
    {"name": "actions", "description": "Comments and setup rejections, exactly once."},
    {"name": "changes", "description": "Every event in commit order (the change feed)."},
    {"name": "practices", "description": "Which TPS practice a vendor's doctor belongs to."},
    {"name": "forms", "description": "Links to the update-credentials form for dentists."},
    {"name": "webhooks", "description": "Webhook delivery management."},
    {"name": "health", "description": "Liveness, readiness and metrics."},
]


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, on_start: Hook | None = None
) -> FastAPI:
    """Build the app. `runtime`, when given, is used (and left open) instead of one opened by
    the lifespan. `on_start` runs inside the lifespan once the context exists (`serve` starts
    its background loops there)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if runtime is None:
                opened = await stack.enter_async_context(open_runtime(settings))
            else:
                opened = runtime
            services = await stack.enter_async_context(open_sync_services(opened))
            ctx = ApiContext(settings=settings, runtime=opened, services=services)
            app.state.ctx = ctx
            app.state.settings = settings
            if on_start is not None:
                result = on_start(ctx)
                if hasattr(result, "__aenter__"):
                    await stack.enter_async_context(result)
            stack.enter_context(collector_set_for_work())
            yield

    app = FastAPI(
        title="tps-connector",
        version=__version__,
        summary="Aligner-vendor portal sync for a treatment-planning service.",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    # Outermost: the token is checked before anything reads the body.
    app.add_middleware(BearerTokens, tokens=settings.api.tokens)

    from connector.api.routes import ROUTERS, V1_ROUTERS
    from connector.forms import FORM_ROUTERS, FORM_V1_ROUTERS

    for router in [*V1_ROUTERS, *FORM_V1_ROUTERS]:
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(require_token)],
            responses=errors.COMMON_RESPONSES,
        )
    for router in [*ROUTERS, *FORM_ROUTERS]:
        app.include_router(router)
    return app
