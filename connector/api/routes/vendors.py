"""`/v1/vendors/{vendor}/health`: whether a vendor's portal looks changed, once per vendor.

A portal that changes its pages breaks every account of that vendor at once; this says so once,
with the register facts (`docs/portal-facts/`) that failed, instead of one `portal_changed`
account after another.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from connector.api.models import Vendor, VendorHealthOut
from connector.api.state import context
from connector.sync import vendor_health

router = APIRouter(prefix="/vendors", tags=["vendors"])


@router.get(
    "/{vendor}/health",
    summary="A vendor portal's health",
    description="`state` is `changed` while some account's latest run met `portal_changed`; "
    "`failing_facts` names the register facts that no longer hold; `recent` counts the runs of "
    "the last 24 hours. A change of state is one `vendor.health_changed` event.",
)
async def get_health(
    vendor: Annotated[Vendor, Path(description="invisalign or clearcorrect.")], request: Request
) -> VendorHealthOut:
    data: dict[str, Any] = await vendor_health.current(context(request).runtime.store, vendor)
    return VendorHealthOut.model_validate(data)
