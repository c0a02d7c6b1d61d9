"""The sync policy for files, per vendor: which kinds, how large, and when.

Setup files in review are fetched at once (`eager`); everything else waits for its first
request. Photos and x-rays show faces, so they, like archives, are fetched only where enabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.base import FileKind, FileRef
from connector.settings import Settings

#: Failed downloads of one file before its request is dropped (a new request starts over).
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class VendorPolicy:
    kinds: frozenset[FileKind]
    max_bytes: int
    eager: bool

    def refusal(self, kind: FileKind, size: int | None) -> str | None:
        """Why a file of this kind and size is never fetched (None: it may be)."""
        if kind not in self.kinds:
            return f"{kind} files are not fetched for this vendor (files.<vendor>.kinds)"
        if size is not None and size > self.max_bytes:
            return "the file is larger than files.<vendor>.max_file_mb"
        return None

    def wants(self, file: FileRef) -> bool:
        return self.refusal(file.kind, file.size) is None


@dataclass(frozen=True)
class FilePolicy:
    vendors: dict[str, VendorPolicy]

    @classmethod
    def from_settings(cls, settings: Settings, vendors: list[str]) -> FilePolicy:
        found = {}
        for vendor in vendors:
            own = settings.files.for_vendor(vendor)
            found[vendor] = VendorPolicy(
                kinds=frozenset(FileKind(k) for k in own.kinds),
                max_bytes=int(own.max_file_mb * 1_000_000),
                eager=own.eager,
            )
        return cls(found)

    def of(self, vendor: str) -> VendorPolicy:
        return self.vendors.get(vendor) or VendorPolicy(frozenset(), 0, eager=False)

    def eager_vendors(self) -> list[str]:
        return sorted(v for v, p in self.vendors.items() if p.eager and p.kinds)


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a failed download or listing is tried again (None: give up): 30 s, 1 min, ..."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))
