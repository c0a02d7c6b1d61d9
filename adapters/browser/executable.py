"""Which Chromium to launch, and with which flags.

Playwright's own Chromium build is preferred; where its download is unreachable the set-up
installs Debian's package instead. That build needs an explicit executable path and, when running
as root (containers, CI), `--no-sandbox`; the background-networking flags stop it from dialling
Google's update and sync services, which a closed network refuses noisily.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")

_QUIET_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _bundled_chromium() -> Path | None:
    """Playwright's downloaded Chromium, if present (found without starting the driver)."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache/ms-playwright"))
    if not root.is_dir():
        return None
    for pattern in (
        "chromium_headless_shell-*/chrome-*/headless_shell",
        "chromium-*/chrome-*/chrome",
    ):
        for candidate in sorted(root.glob(pattern), reverse=True):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def find_chromium(configured: str | Path | None = None) -> Path | None:
    """The Chromium to use: the configured path, Playwright's build, or Debian's package."""
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    bundled = _bundled_chromium()
    if bundled is not None:
        return bundled
    return DEBIAN_CHROMIUM if DEBIAN_CHROMIUM.is_file() else None


def chromium_launch_options(configured: str | Path | None = None) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch()` on this machine.

    Raises `FileNotFoundError` with a clear message when no Chromium is installed.
    """
    executable = find_chromium(configured)
    if executable is None:
        raise FileNotFoundError(
            "no Chromium found: run `make test` or `bash scripts/install-browser.sh`, "
            "or set browser.executable_path"
        )
    args = list(_QUIET_FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    options: dict[str, Any] = {"headless": True, "args": args}
    if executable != _bundled_chromium():
        options["executable_path"] = str(executable)
    return options
