"""A portal change is news once per vendor: `vendor.health_changed`, and `/v1/vendors/{v}/health`.

When a run meets `portal_changed` (or an account's run succeeds again after one did), the
vendor's state is recomputed from every account's latest run; only a change of state or of the
failing register facts is an event. Nothing here names an account or a patient.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connector.clock import utcnow
from connector.domain import EventType
from connector.store import events
from connector.store import vendor_health as health_rows
from connector.store.database import Store

#: The window the health figures (share of runs that met portal_changed) look back over.
RECENT = timedelta(hours=24)


def health_json(
    health: health_rows.Health, figures: health_rows.Figures, since: datetime
) -> dict[str, Any]:
    """The vendor's health as the API shows it and as `vendor.health_changed` carries it."""
    share = figures.portal_changed / figures.runs if figures.runs else 0.0
    return {
        "vendor": health.vendor,
        "state": health.state,
        "failing_facts": list(health.facts),
        "changed_at": health.changed_at.isoformat().replace("+00:00", "Z")
        if health.changed_at
        else None,
        "recent": {
            "since": since.isoformat().replace("+00:00", "Z"),
            "runs": figures.runs,
            "portal_changed": figures.portal_changed,
            "portal_changed_share": round(share, 4),
            "facts": dict(sorted(figures.facts.items())),
        },
    }


async def current(store: Store, vendor: str) -> dict[str, Any]:
    since = utcnow() - RECENT
    async with store.read() as conn:
        health = await health_rows.stored(conn, vendor)
        figures = await health_rows.figures(conn, vendor, since)
    return health_json(health, figures, since)


async def note_run(store: Store, vendor: str) -> bool:
    """Recompute the vendor's health after a run that may change it; True when an event was
    written (in the same transaction as the new state)."""
    now = utcnow()
    since = now - RECENT
    async with store.transaction() as conn:
        changed = await health_rows.refresh(conn, vendor, now)
        if changed is None:
            return False
        figures = await health_rows.figures(conn, vendor, since)
        await events.append_event(
            conn,
            type=EventType.VENDOR_HEALTH_CHANGED,
            account_id=None,
            subject_id=vendor,
            data=health_json(changed, figures, since),
            now=now,
        )
    return True
