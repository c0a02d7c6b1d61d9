"""The connector's API started in-process for a test: every API test starts it this way."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
from fastapi import FastAPI

from connector.api.app import create_app
from connector.api.state import ApiContext
from connector.settings import Settings


async def in_process_api(
    stack: AsyncExitStack, settings: Settings, token: str
) -> tuple[FastAPI, ApiContext, httpx.AsyncClient]:
    """The app, its context and a client speaking to it in-process (the app's lifespan entered
    on `stack`, so it ends with the stack)."""
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = await stack.enter_async_context(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="http://connector.test",
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    ctx: ApiContext = app.state.ctx
    return app, ctx, client
