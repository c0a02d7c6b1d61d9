"""Sync benchmark: many accounts, in embedded mode and with two distributed workers.

A ClearCorrect sandbox (its own process, `--latency-ms 20` on every call) holds N practices x M
cases, one partner login each. The connector syncs every account:
- embedded: `tps-connector sync` over SQLite;
- workers: two `tps-connector worker` processes over PostgreSQL.
It prints the full-sync wall time, cases per second and peak memory; then, after a tick that
changes about 5% of the cases, the incremental sync's portal requests and logins per account
(aim: no login while sessions are valid, at most 3 requests for an unchanged account). The
floor, measured in the same run with the same concurrency, is a script that makes only the
necessary requests and logins and stores nothing. Each wall time is printed as a ratio to it.

Usage: python bench/sync_bench.py [--accounts 1000] [--cases 50] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
CLI_WORKER = [sys.executable, "-m", "connector", "worker"]
sys.path.insert(0, str(ROOT))

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


def run_measured(args: list[str], cwd: Path) -> tuple[float, int, int]:
    """Run a command to completion; (seconds, exit code, peak resident memory in KiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, peak_kib(process.pid))
        time.sleep(0.2)
    if process.returncode != 0 and process.stderr is not None:
        print(process.stderr.read()[-2000:], file=sys.stderr)
    return time.perf_counter() - started, process.returncode, peak


def write_config(directory: Path, portal: str, concurrency: int, database: str = "") -> Path:
    config = directory / "connector.toml"
    db = f'[database]\nurl = "{database}"\n' if database else ""
    config.write_text(
        f'data_dir = "{directory / "data"}"\n{db}[vault]\nkey_file = "{directory / "keys.json"}"\n'
        f'[vendors.clearcorrect]\nbase_url = "{portal}"\nconcurrency = {concurrency}\n'
        f"[sync]\nconcurrency = {concurrency}\ninterval_seconds = 3600\njitter = 0\n"
    )
    return config


async def add_accounts(url: str, key_file: Path, logins: list[dict[str, Any]]) -> None:
    store = Store.connect(url)
    try:
        await upgrade(store)
        vault = Vault(LocalKeyFile.open_or_generate(key_file), store_audit_sink(store))
        for login in logins:
            await create_account(
                store,
                vault,
                vendor="clearcorrect",
                username=login["username"],
                password=Secret(login["password"]),
            )
    finally:
        await store.close()


async def floor(portal: str, logins: list[dict[str, Any]], concurrency: int) -> tuple[float, int]:
    """Only the necessary requests: login, list, detail and comments per case; nothing stored."""
    limit = asyncio.Semaphore(concurrency)
    cases = 0

    async def one(login: dict[str, Any]) -> None:
        nonlocal cases
        async with limit, httpx.AsyncClient(base_url=portal, timeout=60) as http:
            page = await http.get("/Identity/Account/Login")
            token = re.search(r'name="__RequestVerificationToken"[^>]*value="([^"]+)"', page.text)
            assert token
            await http.post(
                "/Identity/Account/Login",
                data={
                    "Input.Email": login["username"],
                    "Input.Password": login["password"],
                    "__RequestVerificationToken": token.group(1),
                },
            )
            number = 1
            while True:
                listing = (
                    await http.get("/api/cases", params={"page": number, "pageSize": 100})
                ).json()
                for item in listing["items"]:
                    await http.get(f"/api/cases/{item['caseNumber']}")
                    await http.get(f"/api/cases/{item['caseNumber']}/comments")
                    cases += 1
                if number >= listing["totalPages"]:
                    break
                number += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(login) for login in logins))
    return time.perf_counter() - started, cases


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


def wait_all_synced(dsn: str, count: int, since: float, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(dsn) as conn:
            done = conn.execute(
                "SELECT count(DISTINCT account_id) FROM sync_runs WHERE outcome = 'succeeded' "
                "AND started_at > to_timestamp(%s)",
                (since,),
            ).fetchone()
        if done and done[0] >= count:
            return time.time() - since
        time.sleep(0.5)
    raise TimeoutError("the workers did not sync every account in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    configure_logging(level="warning", fmt="console")
    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector",
            "sandbox",
            "--vendor",
            "clearcorrect",
            "--port",
            str(port),
            "--practices",
            str(args.accounts),
            "--cases",
            str(args.cases),
            "--admin",
            "--latency-ms",
            str(args.latency_ms),
        ],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pg_name = f"tpsc_syncbench_{os.getpid()}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                admin(portal, "GET", "/faults")
                break
            time.sleep(0.2)
        # The Identity app with its JSON API (the adapter's fast path), which the floor script
        # below speaks; the WebForms pages are measured by bench/adapter_bench.py.
        admin(portal, "PUT", "/variant", json={"variant": "aspnetcore-json"})
        state = admin(portal, "GET", "/state")
        logins = [x for x in state["logins"] if x["username"].startswith("tps.")][: args.accounts]
        usernames = {x["username"] for x in logins}
        total_cases = sum(len(x["visible_case_ids"]) for x in logins)
        print(
            f"{len(logins)} accounts, {total_cases:,} cases, sandbox latency "
            f"{args.latency_ms} ms per call, concurrency {args.concurrency}"
        )

        admin(portal, "DELETE", "/requests")
        floor_s, floor_cases = asyncio.run(floor(portal, logins, args.concurrency))
        print(
            f"  floor script (necessary requests only): {floor_s:7.1f} s, "
            f"{floor_cases / floor_s:7.0f} cases/s"
        )

        with tempfile.TemporaryDirectory() as tmp:
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
            admin(portal, "DELETE", "/requests")
            seconds, code, peak = run_measured(
                [sys.executable, "-m", "connector", "sync", "--config", str(config)], directory
            )
            assert code == 0, "the embedded sync failed"
            print(
                f"  embedded full sync: {seconds:7.1f} s, {total_cases / seconds:7.0f} cases/s, "
                f"peak memory {peak / 1024:.0f} MiB, ratio to floor {seconds / floor_s:.2f}"
            )
            tick = admin(portal, "POST", "/tick", json={"steps": 1})
            changed = len({c["case_id"] for c in tick["changes"]})
            print(f"  tick: {changed} cases changed ({changed / max(1, len(state['cases'])):.1%})")
            admin(portal, "DELETE", "/requests")
            before_logins = {u: v["attempts"] for u, v in admin(portal, "GET", "/logins").items()}
            seconds, code, _ = run_measured(
                [sys.executable, "-m", "connector", "sync", "--config", str(config)], directory
            )
            assert code == 0
            after_logins = admin(portal, "GET", "/logins")
            new_logins = sum(
                after_logins[u]["attempts"] - before_logins.get(u, 0)
                for u in usernames
                if u in after_logins
            )
            requests = admin(portal, "GET", "/requests")["total_by_user"]
            changed_users = changed_usernames(portal, state, 0)
            unchanged = usernames - changed_users
            worst = max((requests.get(u, 0) for u in unchanged), default=0)
            per_account = sum(requests.get(u, 0) for u in usernames) / len(usernames)
            print(
                f"  embedded incremental sync: {seconds:7.1f} s, "
                f"{per_account:.2f} requests/account, "
                f"{new_logins / len(usernames):.3f} logins/account; {len(unchanged)} unchanged "
                f"accounts, at most {worst} requests each"
            )

            # Two workers: PostgreSQL.
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
            dsn = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
            directory = Path(tmp) / "workers"
            directory.mkdir()
            config = write_config(directory, portal, args.concurrency // 2, url)
            upgraded = subprocess.run(
                [sys.executable, "-m", "connector", "db", "upgrade", "--config", str(config)],
                env=env(),
                capture_output=True,
            )
            assert upgraded.returncode == 0, upgraded.stderr
            asyncio.run(add_accounts(url, directory / "keys.json", logins))
            admin(
                portal,
                "POST",
                "/seed",
                json={"practices": args.accounts, "cases": args.cases, "seed": 1},
            )
            admin(portal, "PUT", "/faults", json={"latency_ms": args.latency_ms})
            since = time.time()
            workers = [
                subprocess.Popen(
                    # Two on one machine: no metrics port each.
                    [*CLI_WORKER, "--config", str(config), "--metrics-port", "0"],
                    env=env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                for _ in range(2)
            ]
            peaks = [0, 0]
            try:
                deadline_s = 3600.0
                started = time.monotonic()
                while True:
                    for i, worker in enumerate(workers):
                        peaks[i] = max(peaks[i], peak_kib(worker.pid))
                    try:
                        seconds = wait_all_synced(dsn, len(logins), since, timeout=1)
                        break
                    except TimeoutError:
                        if time.monotonic() - started > deadline_s:
                            raise
            finally:
                for worker in workers:
                    os.killpg(worker.pid, signal.SIGTERM)
                for worker in workers:
                    worker.wait(timeout=120)
            print(
                f"  2 workers full sync:  {seconds:7.1f} s, {total_cases / seconds:7.0f} cases/s, "
                f"peak memory {max(peaks) / 1024:.0f} MiB per worker, ratio to floor "
                f"{seconds / floor_s:.2f}"
            )
    finally:
        os.killpg(sandbox.pid, signal.SIGTERM)
        sandbox.wait(timeout=30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
