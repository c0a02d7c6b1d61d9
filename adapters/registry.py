"""Which vendor adapters exist. Adding a vendor means adding its package and one entry here."""

from __future__ import annotations

_VENDORS: tuple[str, ...] = ("invisalign", "clearcorrect")


def vendor_names() -> tuple[str, ...]:
    return _VENDORS
