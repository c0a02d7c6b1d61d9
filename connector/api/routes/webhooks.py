"""`/v1/webhooks`: delivery status per endpoint, and replaying deliveries.

Endpoints themselves are configured (`[[webhooks.endpoints]]`), not created through the API:
their secrets live with the rest of the configuration.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request

from connector.api.errors import NOT_FOUND
from connector.api.models import BAD_BODY, EndpointStatusList, ReplayRequest, ReplayResult
from connector.api.state import context
from connector.clock import utcnow
from connector.errors import NotFoundError
from connector.webhooks import delivery_status, replay_deliveries

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_log = structlog.get_logger("connector.api")


@router.get("", summary="Delivery status per endpoint")
async def webhook_status(request: Request) -> EndpointStatusList:
    ctx = context(request)
    statuses = await delivery_status(ctx.runtime.store, ctx.settings.webhooks)
    return EndpointStatusList.model_validate(
        {"items": [s.to_json() for s in statuses], "next_cursor": None}
    )


@router.post(
    "/replay",
    status_code=202,
    summary="Deliver events again",
    description="`failed`: every failed delivery (of `event_id` only, when given); `event_id` "
    "alone: that event to every endpoint that takes it; `endpoint`: only that endpoint. Each "
    "replayed delivery gets a fresh retry window. 422 when neither `event_id` nor `failed` is "
    "given; 404 for an unknown event or an endpoint that is not configured.",
    responses={**BAD_BODY, **NOT_FOUND},
)
async def replay(body: ReplayRequest, request: Request) -> ReplayResult:
    ctx = context(request)
    if body.endpoint is not None and ctx.settings.webhooks.endpoint(body.endpoint) is None:
        # Checked here so that the message does not repeat the name (errors never echo input).
        raise NotFoundError("no webhook endpoint of that name is configured")
    count = await replay_deliveries(
        ctx.runtime.store,
        ctx.settings.webhooks,
        event_id=body.event_id,
        failed=body.failed,
        endpoint=body.endpoint,
        now=utcnow(),
    )
    _log.info("webhooks.replayed", event_id=body.event_id, failed=body.failed, count=count)
    return ReplayResult(replayed=count)
