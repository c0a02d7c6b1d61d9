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

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

from fastapi import Depends, FastAPI

from connector import __version__
from connector.api import errors
from connector.api.auth import BearerTokens, require_token
from connector.api.limits import BodyLimit
from connector.api.state import ApiContext
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


#: Container allocations (net of those freed) that start a collection while the app serves.
#: A first page of cases holds some 300 containers until it is written out, so 50 clients have
#: up to 15,000 alive at once.
_COLLECT_AFTER = 20_000


@contextmanager
def _collector_set_for_serving() -> Iterator[None]:
    """Keeps the garbage collector off what startup made (imports, the app and its schemas,
    engines: some 180,000 objects that live as long as the process), and off the pages still
    being served, while the app serves.

    With the default threshold (700) a collection started every request or two, moved the
    pages in flight to older generations, and each full collection walked all of startup's
    objects again. Measured in-process with the API benchmark's first page at 50 concurrent
    requests on SQLite: the collector took 0.52 ms per request as it was, 0.19-0.24 ms with
    startup's objects frozen, and none in 2,000 requests with the threshold above what is in
    flight (what does not die with its request, cycles, still starts a collection)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_COLLECT_AFTER, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


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
            stack.enter_context(_collector_set_for_serving())
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
