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


#: Playwright (pinned in pyproject.toml) launches Chromium with `--disable-features=` and these.
#: Chromium reads only the last `--disable-features` on its command line, so a launch that
#: disables more must repeat them (a test compares this list with the installed driver's).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)

#: Full Chromium (Debian's package; Playwright's headless shell has no browser UI) preloads
#: the address bar's popup, a WebUI page in a renderer of its own, for every window: every
#: context. Nothing here ever types in an address bar.
_ADDRESS_BAR_POPUPS = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")

#: One renderer per context. Site isolation gave each site its own renderer: the sign-in host
#: and the portal each had one, a spare one was kept warm for the next site, and every
#: navigation between the hosts started another; saving a session (`storage_state`) opened a
#: page of Playwright's own for the sign-in host's storage, in one more. Without site isolation
#: the hosts share the context's renderer, and the limit of one makes any other page of the
#: context join it (a soft limit: each new context still gets its own, and contexts never share
#: a renderer whatever the flags, so what is given up is isolation between one portal and its
#: own sign-in page, inside one account's context). Measured with bench/browser_bench.py (20
#: accounts, 4 contexts, Debian's Chromium 156, two runs, load average 7-11 on 2 CPUs): peak
#: renderers 10-11 -> 4, renderers started 90-103 -> 20, Chromium's peak PSS 799-811 ->
#: 648-674 MiB (the driver's 198-204 MiB either way), wall time per case 344-349 -> 237-252 ms.
RENDERER_FLAGS = [
    "--disable-site-isolation-trials",
    "--renderer-process-limit=1",
    "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *_ADDRESS_BAR_POPUPS)),
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
    args = [*_QUIET_FLAGS, *RENDERER_FLAGS]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    options: dict[str, Any] = {"headless": True, "args": args}
    if executable != _bundled_chromium():
        options["executable_path"] = str(executable)
    return options
