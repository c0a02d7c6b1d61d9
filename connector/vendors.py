"""The vendors the connector knows, as registered by the adapter packages."""

from __future__ import annotations

from adapters.registry import vendor_names
from connector.errors import InputError


def check_vendor(vendor: str) -> str:
    cleaned = vendor.strip().lower()
    if cleaned not in vendor_names():
        raise InputError(f"unknown vendor {vendor!r}; expected one of {', '.join(vendor_names())}")
    return cleaned
