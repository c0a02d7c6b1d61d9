"""Chromium for the adapters that need a real browser."""

from adapters.browser.executable import DEBIAN_CHROMIUM, chromium_launch_options, find_chromium
from adapters.browser.pool import BrowserPool, StorageState

__all__ = [
    "DEBIAN_CHROMIUM",
    "BrowserPool",
    "StorageState",
    "chromium_launch_options",
    "find_chromium",
]
