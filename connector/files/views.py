"""The one public description of a file (API responses and `file.available` event data)."""

from __future__ import annotations

from typing import Any

from connector.store.files import StoredFile


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def file_json(
    file: StoredFile, *, sha256: str | None = None, stored_size: int | None = None
) -> dict[str, Any]:
    """`sha256` is filled in by the API only: it is kept sealed at rest, and event data is not
    (a stored digest would confirm that a known file is present)."""
    return {
        "id": file.id,
        "case_id": file.case_id,
        "kind": str(file.kind),
        "name": file.name,
        "size": stored_size if stored_size is not None else file.size,
        "sha256": sha256,
        "setup_version": file.setup_version,
        "vendor_setup_id": file.vendor_setup_id,
        "available": file.blob_id is not None,
        "fetch_pending": file.blob_id is None and file.requested_at is not None,
        "unverified": bool(file.assumed_facts),
        "assumed_facts": list(file.assumed_facts),
        "gone": file.gone_at is not None,
        "last_error": file.last_error,
        "listed_at": _iso(file.listed_at),
        "available_at": _iso(file.available_at),
    }
