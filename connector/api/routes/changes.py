"""`/v1/changes`: every event in commit order, after an opaque cursor (the change feed).

The same events the webhooks deliver, for a TPS that prefers to poll, or that catches up after
an outage: keep the `next_cursor` and ask again with it; nothing is skipped or seen twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from connector.api.models import ChangeList
from connector.api.pagination import Limit
from connector.api.state import context
from connector.store.feed import CURSOR_PATTERN, read_feed

router = APIRouter(tags=["changes"])


@router.get(
    "/changes",
    summary="Events after a cursor, in commit order",
    description="Without a cursor: from the oldest event kept. `next_cursor` is never null; an "
    "empty page returns the cursor it was given, to poll with again.",
)
async def list_changes(
    request: Request,
    cursor: Annotated[
        str | None,
        Query(
            max_length=19,
            pattern=CURSOR_PATTERN,
            description="The `next_cursor` of the previous answer.",
        ),
    ] = None,
    limit: Limit = 100,
) -> ChangeList:
    items, next_cursor = await read_feed(context(request).runtime.store, cursor, limit)
    return ChangeList.model_validate({"items": items, "next_cursor": next_cursor})
