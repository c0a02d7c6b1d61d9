"""Sync benchmark: CPU per synced case against a lean floor, embedded and with two workers.

A ClearCorrect sandbox (its own process, `--latency-ms 20` on every call, the Identity app with
its JSON API: the adapter's fast path) holds N practices x M cases, one partner login each.

- **Lean floor**, in this process: the same necessary requests (sign-in, list pages, detail and
  comments per case) with a minimal client (aiohttp) and one batched insert per listing page
  into SQLite; no connector. Its CPU is this process's CPU while it runs.
- **Embedded**: `tps-connector sync` over SQLite (a full sync, then a run where nothing changed,
  then one after a tick that changes about 5% of the cases).
- **Workers**: two `tps-connector worker` processes over PostgreSQL (full sync), then a one-shot
  `sync` over the same database where nothing changed. PostgreSQL's backend CPU is sampled from
  `/proc` for the benchmark's own database and printed beside the connector's.
- **Invisalign, fast path**: the Invisalign sandbox (its own process, the same latency) with
  `--invisalign-accounts` staff logins (Prescription management) of 50 cases each, synced by
  `tps-connector sync` over SQLite. Each account signs in through Chromium (the only way the
  site signs in), then the adapter reads the JSON the site answers. The connector process's
  own CPU is printed apart from its children's (the Playwright driver and Chromium, sampled
  from `/proc` while they run), with the portal's requests per case.

CPU per case is the user + system CPU of the connector's processes (never the sandbox's)
divided by the cases whose detail was fetched; an unchanged account's CPU is the run's CPU
divided by the accounts. Every figure is printed with its ratio to the floor of the same run.

Usage: python bench/sync_bench.py [--accounts 200] [--cases 50] [--concurrency 32]
       [--invisalign-accounts 50] [--no-workers]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "connector"]
sys.path.insert(0, str(ROOT))

from bench.procs import cpu_seconds, descendants  # noqa: E402
from connector.accounts.service import create_account  # noqa: E402
from connector.credentials import store_audit_sink  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.store import Store, upgrade  # noqa: E402
from vault import LocalKeyFile, Secret, Vault  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    environment["CONNECTOR_LOG__LEVEL"] = "warning"
    return environment


def peak_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


class Backends:
    """PostgreSQL backend CPU for one database, sampled while the connector runs."""

    def __init__(self, dsn: str | None, database: str | None) -> None:
        self.dsn, self.database = dsn, database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def sample(self) -> None:
        if self.dsn is None:
            return
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    (self.database,),
                )
            ]
        for pid in pids:
            used = cpu_seconds(pid)
            self.first.setdefault(pid, used)
            self.last[pid] = max(used, self.last.get(pid, 0.0))

    def seconds(self) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last)


@dataclass
class Measured:
    seconds: float
    cpu: float  # the connector process's user + system CPU, and its reaped children's
    peak_kib: int
    db_cpu: float = 0.0
    own_cpu: float = 0.0  # the connector process alone (last sample before it ended)
    children_cpu: float = 0.0  # its descendants (browser driver, Chromium), sampled


def run_measured(
    args: list[str],
    cwd: Path,
    backends: Backends | None = None,
    *,
    expect: int = 0,
    tree: bool = False,
) -> Measured:
    """Run a command to completion, reaping it with wait4 to read its CPU; `tree`: also sample
    the CPU of the processes below it (a browser's)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    own = 0.0
    below: dict[int, float] = {}
    backends = backends or Backends(None, None)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, peak_kib(process.pid))
        own = max(own, cpu_seconds(process.pid))
        if tree:
            for child in descendants(process.pid):
                below[child] = max(below.get(child, 0.0), cpu_seconds(child))
        backends.sample()
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code != expect and process.stderr is not None:
        print(process.stderr.read()[-2000:], file=sys.stderr)
        raise SystemExit(f"{' '.join(args[2:4])} failed with exit status {code}")
    return Measured(
        seconds,
        usage.ru_utime + usage.ru_stime,
        peak,
        backends.seconds(),
        own_cpu=own,
        children_cpu=sum(below.values()),
    )


#: A run whose CPU is within a few start-ups' noise of the start-up itself (nothing changed) is
#: measured this many times, and so is the start-up; the median run is printed.
REPEATS = 3


def median_run(measure: Callable[[], Measured], repeats: int = REPEATS) -> Measured:
    """The run of median CPU among `repeats` runs of `measure`."""
    runs = sorted((measure() for _ in range(repeats)), key=lambda m: m.cpu)
    return runs[len(runs) // 2]


def start_json_sandbox(port: int, *seeded: str) -> subprocess.Popen[str]:
    """The ClearCorrect sandbox in its own process (admin API on), answering on `port` with
    the Identity app and its JSON API (the adapter's fast path)."""
    return start_sandbox("clearcorrect", port, *seeded)


def start_sandbox(vendor: str, port: int, *seeded: str) -> subprocess.Popen[str]:
    """A vendor's sandbox in its own process (admin API on), answering on `port`; ClearCorrect
    with the Identity app and its JSON API (the adapter's fast path)."""
    sandbox = subprocess.Popen(
        [*CLI, "sandbox", "--vendor", vendor, "--port", str(port), "--admin", *seeded],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    portal = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                admin(portal, "GET", "/faults")
                break
            time.sleep(0.2)
        if vendor == "clearcorrect":
            admin(portal, "PUT", "/variant", json={"variant": "aspnetcore-json"})
    except BaseException:
        stop(sandbox)
        raise
    return sandbox


def stop(sandbox: subprocess.Popen[str]) -> None:
    os.killpg(sandbox.pid, signal.SIGTERM)
    sandbox.wait(timeout=30)


def write_config(
    directory: Path,
    portal: str,
    concurrency: int,
    database: str = "",
    vendor: str = "clearcorrect",
) -> Path:
    config = directory / "connector.toml"
    db = f'[database]\nurl = "{database}"\n' if database else ""
    config.write_text(
        f'data_dir = "{directory / "data"}"\n{db}[vault]\nkey_file = "{directory / "keys.json"}"\n'
        f'[vendors.{vendor}]\nbase_url = "{portal}"\nconcurrency = {concurrency}\n'
        f"[sync]\nconcurrency = {concurrency}\ninterval_seconds = 3600\njitter = 0\n"
    )
    return config


async def add_accounts(
    url: str, key_file: Path, logins: list[dict[str, Any]], vendor: str = "clearcorrect"
) -> None:
    store = Store.connect(url)
    try:
        await upgrade(store)
        vault = Vault(LocalKeyFile.open_or_generate(key_file), store_audit_sink(store))
        for login in logins:
            await create_account(
                store,
                vault,
                vendor=vendor,
                username=login["username"],
                password=Secret(login["password"]),
            )
    finally:
        await store.close()


async def sign_in_bare(http: aiohttp.ClientSession, login: dict[str, Any]) -> None:
    """The sandbox's Identity sign-in with a minimal client (the floor's and baselines')."""
    async with http.get("/Identity/Account/Login") as page:
        token = re.search(
            r'name="__RequestVerificationToken"[^>]*value="([^"]+)"', await page.text()
        )
    assert token, "no request token on the sign-in page"
    form = {
        "Input.Email": login["username"],
        "Input.Password": login["password"],
        "__RequestVerificationToken": token.group(1),
    }
    async with http.post("/Identity/Account/Login", data=form, allow_redirects=False) as r:
        assert r.status in (200, 302), r.status


async def lean_floor(
    portal: str, logins: list[dict[str, Any]], concurrency: int, database: Path
) -> tuple[float, float, int]:
    """The necessary requests with a minimal client, one batched insert per listing page.

    Returns (wall seconds, CPU seconds of this process, cases stored)."""
    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE cases (login TEXT, number TEXT, detail TEXT, comments TEXT)")
    limit = asyncio.Semaphore(concurrency)
    stored = 0

    async def one(http: aiohttp.ClientSession, login: dict[str, Any]) -> None:
        nonlocal stored
        await sign_in_bare(http, login)
        number = 1
        while True:
            params = {"page": str(number), "pageSize": "100"}
            async with http.get("/api/cases", params=params) as response:
                listing = json.loads(await response.read())
            rows = []
            for item in listing["items"]:
                case = item["caseNumber"]
                async with http.get(f"/api/cases/{case}") as detail:
                    body = await detail.read()
                async with http.get(f"/api/cases/{case}/comments") as comments:
                    notes = await comments.read()
                rows.append((login["username"], case, body.decode(), notes.decode()))
            db.executemany("INSERT INTO cases VALUES (?, ?, ?, ?)", rows)
            db.commit()
            stored += len(rows)
            if number >= listing["totalPages"]:
                break
            number += 1

    async def account(login: dict[str, Any]) -> None:
        async with (
            limit,
            aiohttp.ClientSession(
                base_url=portal, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as http,
        ):
            await one(http, login)

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(account(login) for login in logins))
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return wall, used, stored


def invisalign_fast_path(args: argparse.Namespace, tmp: Path) -> None:
    """The Invisalign sandbox's staff logins synced embedded: sign-in through Chromium, then the
    JSON the site answers (the adapter's fast path)."""
    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(
        "invisalign",
        port,
        "--practices",
        str(args.invisalign_accounts),
        "--cases",
        str(args.cases),
        "--latency-ms",
        str(args.latency_ms),
    )
    try:
        state = admin(portal, "GET", "/state")
        # The generated practices' staff: Prescription management only, no sign-in scenario.
        logins = [
            x
            for x in state["logins"]
            if x["kind"] == "staff"
            and x["scenario"] is None
            and x["roles"] == ["Prescription management"]
        ][: args.invisalign_accounts]
        usernames = {x["username"] for x in logins}
        total = sum(len(x["visible_case_ids"]) for x in logins)
        directory = tmp / "invisalign"
        directory.mkdir()
        config = write_config(directory, portal, args.concurrency, vendor="invisalign")
        asyncio.run(
            add_accounts(
                f"sqlite+aiosqlite:///{directory / 'data' / 'connector.db'}",
                directory / "keys.json",
                logins,
                vendor="invisalign",
            )
        )
        sync = [*CLI, "sync", "--config", str(config)]
        startup = median_run(
            lambda: run_measured([*sync, "--vendor", "clearcorrect"], directory, expect=2)
        ).cpu
        admin(portal, "DELETE", "/requests")
        full = run_measured(sync, directory, tree=True)
        requests = admin(portal, "GET", "/requests")["total_by_user"]
        sent = sum(requests.get(u, 0) for u in usernames)
        per_case = ms(full.own_cpu - startup, total)
        print(
            f"  Invisalign fast path, {len(logins)} accounts, {total:,} cases, embedded full "
            f"sync: {full.seconds:5.1f} s, connector process CPU {per_case:.3f} ms/case "
            f"(sign-ins through Chromium included), its browser (driver and Chromium) "
            f"{ms(full.children_cpu, total):.1f} ms/case; {sent / max(1, total):.2f} portal "
            f"requests/case, peak memory {full.peak_kib / 1024:.0f} MiB"
        )
        # The same cases again with the sessions just saved: the stored cases and the listing
        # cursors are dropped (the bench's own database), so every detail is fetched anew with
        # no sign-in: the fast path's CPU per case apart from Chromium's sign-ins.
        with sqlite3.connect(directory / "data" / "connector.db") as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("DELETE FROM cases")
            db.execute("UPDATE accounts SET sync_cursor = NULL")
        admin(portal, "DELETE", "/requests")
        before = {u: v["attempts"] for u, v in admin(portal, "GET", "/logins").items()}
        again = run_measured(sync, directory, tree=True)
        new_logins, requests = logins_and_requests(portal, usernames, before)
        sent = sum(requests.get(u, 0) for u in usernames)
        print(
            f"  Invisalign fast path, the same cases again on the saved sessions: "
            f"{again.seconds:5.1f} s, connector process CPU "
            f"{ms(again.own_cpu - startup, total):.3f} ms/case, browser "
            f"{ms(again.children_cpu, total):.1f} ms/case; {sent / max(1, total):.2f} "
            f"requests/case, {new_logins} logins"
        )
        admin(portal, "DELETE", "/requests")
        same = median_run(lambda: run_measured(sync, directory, tree=True))
        requests = admin(portal, "GET", "/requests")["total_by_user"]
        print(
            f"  Invisalign fast path, nothing changed (median of {REPEATS} runs): CPU "
            f"{ms(same.own_cpu - startup, len(logins)):.2f} ms/account, browser "
            f"{ms(same.children_cpu, len(logins)):.2f} ms/account, "
            f"{sum(requests.get(u, 0) for u in usernames) / max(1, len(logins) * REPEATS):.2f} "
            f"requests/account"
        )
    finally:
        stop(sandbox)


def admin(portal: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{portal}/__sandbox{path}", timeout=300, **kwargs)
    response.raise_for_status()
    return response.json()


def changed_usernames(portal: str, state: dict[str, Any], since_tick: int) -> set[str]:
    touched = {
        c["case_id"]
        for t in admin(portal, "GET", f"/changes?since_tick={since_tick}")["ticks"]
        for c in t["changes"]
    }
    return {x["username"] for x in state["logins"] if touched & set(x["visible_case_ids"])}


def synced_accounts(dsn: str, since: float) -> int:
    with psycopg.connect(dsn) as conn:
        done = conn.execute(
            "SELECT count(DISTINCT account_id) FROM sync_runs WHERE outcome = 'succeeded' "
            "AND started_at > to_timestamp(%s)",
            (since,),
        ).fetchone()
    return int(done[0]) if done else 0


def logins_and_requests(
    portal: str, usernames: set[str], before: dict[str, int]
) -> tuple[int, dict[str, int]]:
    after = admin(portal, "GET", "/logins")
    logins = sum(after[u]["attempts"] - before.get(u, 0) for u in usernames if u in after)
    return logins, admin(portal, "GET", "/requests")["total_by_user"]


def ms(seconds: float, count: int) -> float:
    return 1000 * seconds / max(1, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument(
        "--invisalign-accounts",
        type=int,
        default=50,
        help="Invisalign staff logins for the fast path's run (0: skip it).",
    )
    parser.add_argument("--no-workers", action="store_true", help="Skip the PostgreSQL part.")
    args = parser.parse_args()
    configure_logging(level="warning", fmt="console")
    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    sandbox = start_json_sandbox(
        port,
        "--practices",
        str(args.accounts),
        "--cases",
        str(args.cases),
        "--latency-ms",
        str(args.latency_ms),
    )
    pg_name = f"tpsc_syncbench_{os.getpid()}"
    try:
        state = admin(portal, "GET", "/state")
        logins = [x for x in state["logins"] if x["username"].startswith("tps.")][: args.accounts]
        usernames = {x["username"] for x in logins}
        accounts = len(logins)
        total_cases = sum(len(x["visible_case_ids"]) for x in logins)
        load = os.getloadavg()
        print(
            f"{accounts} accounts, {total_cases:,} cases, sandbox latency {args.latency_ms} ms "
            f"per call, concurrency {args.concurrency}; load average {load[0]:.2f} "
            f"{load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
        )

        with tempfile.TemporaryDirectory() as tmp:
            floor_wall, floor_cpu, floor_cases = asyncio.run(
                lean_floor(portal, logins, args.concurrency, Path(tmp) / "floor.db")
            )
            assert floor_cases == total_cases, (floor_cases, total_cases)
            floor_case = ms(floor_cpu, floor_cases)
            print(
                f"  lean floor (aiohttp, one insert per page): {floor_wall:6.1f} s, "
                f"CPU {floor_case:.3f} ms/case"
            )

            # Embedded: SQLite and `tps-connector sync`.
            directory = Path(tmp) / "embedded"
            directory.mkdir()
            config = write_config(directory, portal, args.concurrency)
            asyncio.run(
                add_accounts(
                    f"sqlite+aiosqlite:///{directory / 'data' / 'connector.db'}",
                    directory / "keys.json",
                    logins,
                )
            )
            sync = [*CLI, "sync", "--config", str(config)]
            # The process's start-up (imports, settings, database, adapters) with no account
            # to sync: paid once per process, so it is left out of the per-case figures.
            startup = median_run(
                lambda: run_measured([*sync, "--vendor", "invisalign"], directory, expect=2)
            ).cpu
            print(
                f"  start-up of one process (median of {REPEATS}): CPU {startup:.2f} s "
                "(left out below; gross after /)"
            )
            full = run_measured(sync, directory)
            per_case = ms(full.cpu - startup, total_cases)
            print(
                f"  embedded full sync: {full.seconds:6.1f} s "
                f"({full.seconds / floor_wall:.2f}x floor wall), CPU {per_case:.3f} ms/case "
                f"/ {ms(full.cpu, total_cases):.3f} = {per_case / floor_case:.2f}x floor, "
                f"peak memory {full.peak_kib / 1024:.0f} MiB"
            )
            admin(portal, "DELETE", "/requests")
            before = {u: v["attempts"] for u, v in admin(portal, "GET", "/logins").items()}
            same = median_run(lambda: run_measured(sync, directory))
            new_logins, requests = logins_and_requests(portal, usernames, before)
            print(
                f"  embedded, nothing changed (median of {REPEATS} runs): CPU "
                f"{ms(same.cpu - startup, accounts):.2f} / {ms(same.cpu, accounts):.2f} "
                f"ms/account, "
                f"{sum(requests.get(u, 0) for u in usernames) / (accounts * REPEATS):.2f} "
                f"requests/account (at most {max(requests.get(u, 0) for u in usernames)} in "
                f"{REPEATS} runs), {new_logins} logins"
            )
            tick = admin(portal, "POST", "/tick", json={"steps": 1})
            changed = len({c["case_id"] for c in tick["changes"]})
            admin(portal, "DELETE", "/requests")
            before = {u: v["attempts"] for u, v in admin(portal, "GET", "/logins").items()}
            step = run_measured(sync, directory)
            new_logins, requests = logins_and_requests(portal, usernames, before)
            unchanged = usernames - changed_usernames(portal, state, 0)
            worst = max((requests.get(u, 0) for u in unchanged), default=0)
            print(
                f"  embedded after a tick ({changed} cases changed, {len(unchanged)} accounts "
                f"untouched): {step.seconds:5.1f} s, CPU {ms(step.cpu - startup, accounts):.2f} "
                f"ms/account, {sum(requests.get(u, 0) for u in usernames) / accounts:.2f} "
                f"requests/account, untouched accounts at most {worst} requests, "
                f"{new_logins} logins"
            )
            if args.invisalign_accounts:
                invisalign_fast_path(args, Path(tmp))
            if args.no_workers:
                return

            # Two workers: PostgreSQL.
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
            dsn = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
            directory = Path(tmp) / "workers"
            directory.mkdir()
            config = write_config(directory, portal, args.concurrency // 2, url)
            run_measured([*CLI, "db", "upgrade", "--config", str(config)], directory)
            asyncio.run(add_accounts(url, directory / "keys.json", logins))
            admin(
                portal,
                "POST",
                "/seed",
                json={"practices": args.accounts, "cases": args.cases, "seed": 1},
            )
            admin(portal, "PUT", "/faults", json={"latency_ms": args.latency_ms})
            since = time.time()
            backends = Backends(PG_ADMIN, pg_name)
            workers = [
                subprocess.Popen(
                    # Two on one machine: no metrics port each.
                    [*CLI, "worker", "--config", str(config), "--metrics-port", "0"],
                    env=env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                for _ in range(2)
            ]
            peaks = [0, 0]
            used = [0.0, 0.0]
            try:
                started = time.monotonic()
                while synced_accounts(dsn, since) < accounts:
                    if time.monotonic() - started > 3600:
                        raise TimeoutError("the workers did not sync every account in time")
                    for i, worker in enumerate(workers):
                        peaks[i] = max(peaks[i], peak_kib(worker.pid))
                        used[i] = max(used[i], cpu_seconds(worker.pid))
                    backends.sample()
                    time.sleep(0.25)
                seconds = time.monotonic() - started
                used = [cpu_seconds(w.pid) for w in workers]
                backends.sample()
            finally:
                for worker in workers:
                    os.killpg(worker.pid, signal.SIGTERM)
                for worker in workers:
                    worker.wait(timeout=120)
            per_case = ms(sum(used) - 2 * startup, total_cases)
            print(
                f"  2 workers full sync: {seconds:6.1f} s, CPU {per_case:.3f} ms/case "
                f"/ {ms(sum(used), total_cases):.3f} "
                f"= {per_case / floor_case:.2f}x floor (PostgreSQL backends "
                f"{ms(backends.seconds(), total_cases):.3f} ms/case), peak memory "
                f"{max(peaks) / 1024:.0f} MiB per worker"
            )
            same = median_run(
                lambda: run_measured(
                    [*CLI, "sync", "--config", str(config)],
                    directory,
                    Backends(PG_ADMIN, pg_name),
                )
            )
            print(
                f"  PostgreSQL, nothing changed (median of {REPEATS} runs): CPU "
                f"{ms(same.cpu - startup, accounts):.2f} "
                f"/ {ms(same.cpu, accounts):.2f} ms/account "
                f"(PostgreSQL backends {ms(same.db_cpu, accounts):.2f} ms/account)"
            )
    finally:
        stop(sandbox)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
