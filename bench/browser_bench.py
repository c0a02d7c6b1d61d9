"""Browser benchmark: Chromium's processes and memory during an Invisalign sync on the pages.

20 Invisalign staff accounts (the sandbox, no added latency, 10 cases per practice) are synced
at once through one `BrowserPool` of 4 contexts, on the primary path (the pages a person sees,
no JSON fast path), each account from a fresh start (a login, the whole list, every patient
file). While it runs, a sampler reads every 50 ms the processes below this one: Chromium's,
by type (`--type=renderer`, `gpu-process`, `utility`, `zygote`, the browser itself), and the
Playwright driver (node); it keeps the peak count of each type, the peak of renderers at once,
and the peak proportional set size (PSS, `/proc/<pid>/smaps_rollup`: shared pages split
between the processes that map them, so the sum is what the tree really costs).

Two launches are measured in the same run, one after the other on the same portal: the
baseline, launched as before (without `RENDERER_FLAGS`), and the connector's launch. Each
prints the wall time, the CPU time of this process and of its children (Chromium and the
driver) per synced case, the peaks and the ratio to the baseline. Figures only.

Two runs on the 2-CPU development machine (Debian's Chromium 156, load average 7-11):

| launch | peak renderers | renderers started | peak PSS, Chromium + driver | wall / CPU per case |
|---|---|---|---|---|
| baseline | 10-11 | 90-103 | 799-811 + 199-204 MiB | 344-349 / 571-580 ms |
| connector | 4 | 20 | 648-674 + 198 MiB | 237-252 / 384-409 ms |

Usage: python bench/browser_bench.py [--accounts 20] [--contexts 4] [--cases 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.browser import BrowserPool
from adapters.browser.executable import RENDERER_FLAGS, chromium_launch_options
from adapters.invisalign import InvisalignAdapter
from bench.procs import cpu_seconds, descendants
from connector.domain import AccountStatus
from connector.logs import configure_logging
from connector.store import Store, upgrade
from connector.sync import SyncServices, sync_account
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from tests.sync.support import FAST, add, make_vault

VENDOR = "invisalign"
PAGE_SIZE = 4096


# --- processes --------------------------------------------------------------------------------


def kind_of(pid: int) -> str | None:
    """`renderer`, `gpu-process`, `utility`, `zygote`, `browser` (Chromium), `driver` (the
    Playwright node process), or None for anything else. Chromium rewrites its command line
    into one string (arguments separated by spaces), so it is read as text."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            text = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    program = os.path.basename(text.split(" ", 1)[0])
    if program == "node" and "playwright" in text:
        return "driver"
    if program not in ("chromium", "chrome", "headless_shell"):
        return None
    for arg in text.split(" "):
        if arg.startswith("--type="):
            return arg[len("--type=") :]
    return "browser"


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Peaks:
    processes: int = 0
    renderers: int = 0
    chromium_pss_kib: int = 0
    driver_pss_kib: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    renderer_pids: set[int] = field(default_factory=set)
    samples: int = 0

    def sample(self) -> None:
        kinds = Counter[str]()
        chromium = driver = 0
        for pid in descendants(os.getpid()):
            kind = kind_of(pid)
            if kind is None:
                continue
            kinds[kind] += 1
            if kind == "driver":
                driver += pss_kib(pid)
                continue
            chromium += pss_kib(pid)
            if kind == "renderer":
                self.renderer_pids.add(pid)
        self.samples += 1
        chromium_count = sum(n for k, n in kinds.items() if k != "driver")
        self.processes = max(self.processes, chromium_count)
        self.renderers = max(self.renderers, kinds["renderer"])
        self.chromium_pss_kib = max(self.chromium_pss_kib, chromium)
        self.driver_pss_kib = max(self.driver_pss_kib, driver)
        for kind, n in kinds.items():
            self.by_kind[kind] = max(self.by_kind[kind], n)


async def sampling(peaks: Peaks, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(peaks.sample)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


def launched_as_before(configured: str | None = None) -> dict[str, Any]:
    """The baseline: Chromium launched without `RENDERER_FLAGS`, as the pool did before."""
    options = chromium_launch_options(configured)
    options["args"] = [a for a in options["args"] if a not in RENDERER_FLAGS]
    return options


def own_cpu_seconds() -> tuple[float, float]:
    """CPU of this process, and of its children that have exited (Chromium, the driver)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


# --- one run ----------------------------------------------------------------------------------


async def run_once(
    label: str,
    portal: PortalHandle,
    logins: list[dict[str, Any]],
    args: argparse.Namespace,
    launch_options: Callable[[str | None], dict[str, Any]] = chromium_launch_options,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.connect(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(store)
        pool = BrowserPool(max_contexts=args.contexts, launch_options=launch_options)
        peaks = Peaks()
        stop = asyncio.Event()
        try:
            vault = make_vault(store)
            adapter = InvisalignAdapter(portal.url, pool, policy=FAST, fast_path=False)
            services = SyncServices(store, vault, {VENDOR: adapter})
            accounts = [await add(store, vault, VENDOR, login) for login in logins]
            sampler = asyncio.create_task(sampling(peaks, stop))
            own_before, _ = own_cpu_seconds()
            started = time.perf_counter()
            results = await asyncio.gather(
                *(sync_account(services, a.id, full=True) for a in accounts)
            )
            wall = time.perf_counter() - started
            stop.set()
            await sampler
            own_after, _ = own_cpu_seconds()
            # Chromium's and the driver's CPU: read from /proc before they exit.
            chromium_cpu = sum(
                cpu_seconds(pid, with_reaped=True) for pid in descendants(os.getpid())
            )
        finally:
            stop.set()
            await pool.close()
            await store.close()
    failed = [r for r in results if r.status is not AccountStatus.ACTIVE]
    if failed:
        raise RuntimeError(f"{label}: {len(failed)} syncs did not end active: {failed[0]}")
    cases = sum(r.counts.get("cases_listed", 0) for r in results)
    return {
        "label": label,
        "cases": cases,
        "wall_s": wall,
        "wall_ms_per_case": wall * 1000 / cases,
        "cpu_ms_per_case": ((own_after - own_before) + chromium_cpu) * 1000 / cases,
        "peaks": peaks,
    }


def report(result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    peaks: Peaks = result["peaks"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(peaks.by_kind.items()) if k != "driver")
    line = (
        f"{result['label']:<10} {result['cases']:>5} cases  wall {result['wall_s']:6.1f} s "
        f"({result['wall_ms_per_case']:5.0f} ms/case)  CPU {result['cpu_ms_per_case']:5.0f} "
        f"ms/case  peak: {peaks.processes} Chromium processes ({kinds}), "
        f"{len(peaks.renderer_pids)} renderers started, "
        f"PSS {peaks.chromium_pss_kib / 1024:.0f} MiB "
        f"+ driver {peaks.driver_pss_kib / 1024:.0f} MiB"
    )
    if baseline is not None:
        base: Peaks = baseline["peaks"]
        line += (
            f"  (x{peaks.chromium_pss_kib / max(base.chromium_pss_kib, 1):.2f} PSS, "
            f"x{result['wall_s'] / baseline['wall_s']:.2f} wall)"
        )
    print(line)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--cases", type=int, default=10, help="cases per practice")
    parser.add_argument("--rounds", type=int, default=1, help="baseline + connector pairs")
    args = parser.parse_args()
    configure_logging(level="warning", fmt="console")
    print(
        f"Invisalign sync on the pages: {args.accounts} accounts, {args.contexts} browser "
        f"contexts; {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    config = SandboxConfig(admin=True, practices=args.accounts, cases=args.cases)
    with start_portal(VENDOR, config) as portal:
        logins = [
            x
            for x in portal.admin.state()["logins"]
            if x["kind"] == "staff" and x["scenario"] is None and x["visible_case_ids"]
        ][: args.accounts]
        if len(logins) < args.accounts:
            raise SystemExit(f"the sandbox has only {len(logins)} staff logins with cases")
        for _ in range(args.rounds):
            baseline = await run_once("baseline", portal, logins, args, launched_as_before)
            report(baseline, None)
            report(await run_once("connector", portal, logins, args), baseline)
    print("load average at the end " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    asyncio.run(main())
