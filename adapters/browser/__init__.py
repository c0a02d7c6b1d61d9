"""Chromium for the adapters that need a real browser."""

from adapters.browser.executable import DEBIAN_CHROMIUM, chromium_launch_options, find_chromium

__all__ = ["DEBIAN_CHROMIUM", "chromium_launch_options", "find_chromium"]
