"""How a sandbox portal is started: seeded data, admin API and session lifetimes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.common.faults import Faults


@dataclass
class SandboxConfig:
    """Options shared by both portals (CLI flags of `tps-connector sandbox` map onto these).

    `practices` x `cases` is the generated data on top of the fixed scenario logins; `seed`
    makes the generator and every tick reproducible. `admin` turns on `/__sandbox/`, which real
    portals do not have: off by default so a sandbox exposed by mistake cannot be steered.
    Session lifetimes run on wall time (they model the portal's security rules), while case data
    runs on the virtual clock (it models the passage of treatment time).
    """

    practices: int = 3
    cases: int = 10
    seed: int = 1
    admin: bool = False
    session_ttl_seconds: float = 30 * 60
    # Saved ("remember me") logins must log in again after 90 days, and after 30 idle days.
    saved_login_max_age_seconds: float = 90 * 24 * 3600
    saved_login_max_idle_seconds: float = 30 * 24 * 3600
    # ClearCorrect's rule: this many failed logins lock the account for lockout_seconds.
    lockout_threshold: int = 3
    lockout_seconds: float = 20 * 60
    faults: Faults = field(default_factory=Faults)
    # The wall clock (Unix seconds) of sessions and lockouts. Tests that jump time move it
    # together with the connector's clock, so a lockout can end without waiting 20 minutes.
    wall: Callable[[], float] = time.time
    # A portal whose real sign-in page lives on another host (the IDS hosted login) serves it on
    # this second loopback address, same port: browsers keep cookies per host, not per port.
    login_host: str = "127.0.0.2"
    # The variant of the site (a name from the vendor's facts register; None: its default) and
    # the profile language of every generated login (None: each follows its browser).
    variant: str | None = None
    language: str | None = None
    # The size range (bytes) each served file's size is drawn from, per file; None: small files
    # (meshes of about 130 kB, photos and PDFs of a few kB). Benchmarks ask for large ones.
    file_sizes: tuple[int, int] | None = None
    # Where made files are kept (None: a temporary directory removed when the process ends).
    files_dir: Path | None = None
