"""API benchmark: `GET /v1/cases` latency and server CPU with 100,000 cases, 50 concurrent clients.

The connector's app runs under uvicorn in its own process (one worker, as `serve` runs it), on
loopback, against SQLite and then PostgreSQL. The cases are bulk-inserted with SQLAlchemy
(synthetic: 20 accounts, 200 practices, every status, 1 in 5 waiting on the doctor, 1 in 50
removed). 50 clients, each with its own connection, send requests back to back:

- `first page`: `GET /v1/cases?limit=100`
- `filter practice`: `?practice_id=<one of 200>&limit=100` (about 500 cases each)
- `filter account`: `?account_id=<one of 20>&limit=100` (5,000 cases each)
- `filter status`: `?status=setup_in_review&action_required=true&limit=100`
- `deep page`: `?limit=100&cursor=<a cursor at a random depth>` (keyset paging)
- `filter+page`: `?practice_id=...&cursor=<a cursor at a random depth of that practice>`

The baseline, measured in the same run against the same server and clients, is `GET /healthz`:
the floor of HTTP, uvicorn, FastAPI and the client on this machine. For each kind the bench
prints the server process's CPU time per request (user + system, the kernel's rusage of that
process, read from /proc) and its ratio to `/healthz`'s, requests per second and p50/p95; on
PostgreSQL also the CPU of the database's backends per request. The server's pool is sized to
the clients (`database.pool_size`). Figures only: no target is asserted.

Figures on the 2-CPU development machine (shared with other work), first page (`limit=100`) at
50 clients, ranges over runs of this bench: before the first change set (pydantic revalidating
the list, datetimes parsed and formatted per value, h11, a pool of 10 + 10 pinged before each
use; three runs, load average 4.1-12.4), after it (orjson, one pre-serialized response, times
as stored, the pool sized to the clients; two runs, load average 4.3-7.5), and after the
second (the page query run on the driver's connection, plainly valid query strings read
without FastAPI's per-request validation, the garbage collector kept off startup's objects
and the pages in flight; two runs, load average 2.8-5.9), and after the third (PostgreSQL
connections resting in autocommit instead of switched per request, SQLite writing each case's
JSON; two runs at load average 7.3-9.1, /healthz's CPU twice its usual, so the figures carry
other work's share):

| first page, limit=100 | server CPU per request | /healthz | requests/s | p50 |
|---|---|---|---|---|
| SQLite, before | 3.91-4.24 ms | 0.26-0.36 ms | 131-244 | 178-317 ms |
| SQLite, first | 1.96-2.15 ms | 0.18-0.19 ms | 431-477 | 82-97 ms |
| SQLite, second | 1.22-1.23 ms | 0.17-0.20 ms | 613-778 | 62-79 ms |
| PostgreSQL, before | 4.56-5.17 ms (backends 0.22-0.26) | 0.28-0.34 ms | 85-157 | 231-364 ms |
| PostgreSQL, first | 1.82-1.91 ms (backends 0.37-0.38) | 0.18 ms | 422-437 | 99-103 ms |
| PostgreSQL, second | 1.14-1.27 ms (backends 0.46-0.48) | 0.17-0.19 ms | 288-656 | 73-152 ms |
| SQLite, third | 1.22-1.50 ms | 0.23-0.41 ms | 249-533 | 95-197 ms |
| PostgreSQL, third | 1.23-1.86 ms (backends 0.48-0.67) | 0.22-0.26 ms | 265-453 | 105-165 ms |

With that much noise the third change set was also measured against the second in the same
conditions, back to back: in-process (the app called directly, 50 requests at a time, 3 x 2,000
first pages), SQLite 1.11-1.19 ms before and 0.79-0.89 ms after, PostgreSQL 1.34-1.51 ms
(backends 0.56-0.63) before and 1.18-1.32 ms (backends 0.41-0.56) after; and with this bench,
one run each at load average 3.8-4.8, SQLite first page 1.69 ms before and 0.98 ms after (deep
page 1.70 and 1.17 ms), PostgreSQL first page 1.50 and 1.48 ms (backends 0.47 and 0.55; deep
page 1.66 and 1.20 ms). The target, 1.2 ms or less on both, holds in-process and on SQLite here;
PostgreSQL's first page through HTTP stayed within this machine's noise.

PostgreSQL's backends format the times (`to_char`), hence their share grew with the first change
set. What is left per request (measured in-process and with py-spy under this bench's load):
uvicorn and Starlette about 0.2 ms (`/healthz`); on SQLite the query writing the page's JSON
(`json_object`), about 0.5 ms when run alone, a quarter of it the time formatting (no cheaper
SQL for it was found: `substr` and `CASE`, `printf`, or formatting in Python all cost as much or
more); on PostgreSQL psycopg's execution and fetch about 0.3 ms (a quarter of the request's
samples in sending the query: loopback TCP), building the rows 0.15-0.25 ms, orjson 0.03 ms; the
pool's checkout and return about 0.04 ms. FastAPI's routing of the included routers costs 23 µs
per `/v1/cases` request (matched twice: once to choose, once to handle; its per-route contexts
are built once, not per request), 2%, left as it is. PostgreSQL's `row_to_json` writing the JSON
was measured and not kept: it moved more CPU into the backends than it saved in the server.

Usage: python bench/api_bench.py [--cases 100000] [--clients 50] [--requests 2000]
                                 [--kinds "first page,deep page"] [--pool-size N]
       python bench/api_bench.py --serve     (internal: the server process, settings from env)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.api.pagination import encode_cursor, time_text
from connector.domain import AccountStatus, CaseStatus
from connector.logs import configure_logging
from connector.store import Store, upgrade
from connector.store.schema import accounts, cases

TOKEN = "bench-token-0123456789abcdef"
ACCOUNTS = 20
PRACTICES = 200
PG_ADMIN = os.environ.get("CONNECTOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- data -------------------------------------------------------------------------------------


async def fill(url: str, n_cases: int) -> dict[str, Any]:
    """Migrate and bulk-insert the synthetic data; returns what the request mix needs."""
    store = Store.connect(url)
    rng = random.Random(7)
    statuses = list(CaseStatus)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        await upgrade(store)
        now = datetime.now(UTC)
        account_rows: list[dict[str, Any]] = [
            {
                "id": f"acc_bench{n:021d}",
                "vendor": "clearcorrect",
                "username": f"partner{n}@tps.example",
                "username_key": f"partner{n}@tps.example",
                "practice_id": None,
                "status": str(AccountStatus.ACTIVE),
                "capabilities": [],
                "credential_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(ACCOUNTS)
        ]
        async with store.transaction() as conn:
            await conn.execute(accounts.insert(), account_rows)
        batch: list[dict[str, Any]] = []
        started = time.perf_counter()
        for n in range(n_cases):
            status = statuses[n % len(statuses)]
            updated = start + timedelta(seconds=n * 20, microseconds=rng.randrange(1_000_000))
            batch.append(
                {
                    "id": f"case_bench{n:021d}",
                    "account_id": account_rows[n % ACCOUNTS]["id"],
                    "vendor": "clearcorrect",
                    "vendor_case_id": f"CC-{n:07d}",
                    "patient_name": f"Patient {n}",
                    "patient_id": str(1_000_000 + n),
                    "vendor_doctor_id": f"dr-{n % PRACTICES}",
                    "vendor_doctor_name": f"Dr. {n % PRACTICES}",
                    "practice_id": f"practice-{rng.randrange(PRACTICES)}",
                    "status": str(status),
                    "vendor_status": str(status).replace("_", " ").title(),
                    "action_required": n % 5 == 0,
                    "unread_comments": n % 3,
                    "vendor_created_at": updated - timedelta(days=30),
                    "vendor_updated_at": updated,
                    "summary_hash": None,
                    "content_hash": f"{n:064x}",
                    "created_at": updated,
                    "updated_at": updated,
                    "removed_at": updated if n % 50 == 0 else None,
                }
            )
            if len(batch) == 5000:
                async with store.transaction() as conn:
                    await conn.execute(cases.insert(), batch)
                batch = []
        if batch:
            async with store.transaction() as conn:
                await conn.execute(cases.insert(), batch)
        async with store.transaction() as conn:  # fresh planner statistics, as in production
            await conn.execute(sa.text("ANALYZE"))
        inserted = time.perf_counter() - started
        # Cursors at random depths: of the whole list, and of one practice's list.
        async with store.read() as conn:
            live = cases.c.removed_at.is_(None)
            sample = (
                await conn.execute(
                    sa.select(cases.c.updated_at, cases.c.id, cases.c.practice_id)
                    .where(live)
                    .order_by(sa.func.random())
                    .limit(500)
                )
            ).all()
        return {
            "inserted_s": inserted,
            "cursors": [encode_cursor("cases", t=time_text(r[0]), i=r[1]) for r in sample],
            "practice_cursors": [
                (r[2], encode_cursor("cases", t=time_text(r[0]), i=r[1])) for r in sample
            ],
        }
    finally:
        await store.close()


# --- server -----------------------------------------------------------------------------------


def serve() -> None:
    """The server process: settings from CONNECTOR_* variables, uvicorn on loopback."""
    import uvicorn

    from connector.api.app import create_app
    from connector.settings import load_settings

    settings = load_settings()
    configure_logging(level="warning", fmt="json")
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=int(os.environ["BENCH_PORT"]),
        log_level="warning",
        access_log=False,
        log_config=None,
    )


def start_server(url: str, data_dir: Path, port: int, pool_size: int) -> subprocess.Popen[bytes]:
    key = base64.b64encode(os.urandom(32)).decode()
    env = {
        **os.environ,
        "BENCH_PORT": str(port),
        "CONNECTOR_DATA_DIR": str(data_dir),
        "CONNECTOR_DATABASE__URL": url,
        "CONNECTOR_DATABASE__AUTO_UPGRADE": "false",
        "CONNECTOR_VAULT__PROVIDER": "env",
        "CONNECTOR_VAULT__KEYS": f"k1:{key}",
        "CONNECTOR_API__TOKENS": TOKEN,
    }
    if pool_size:
        env["CONNECTOR_DATABASE__POOL_SIZE"] = str(pool_size)
    return subprocess.Popen([sys.executable, __file__, "--serve"], env=env)


async def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the server process exited")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


# --- load -------------------------------------------------------------------------------------


class Connection:
    """A bare HTTP/1.1 keep-alive client: the load generator must cost far less than the
    server it measures (httpx spends about a millisecond of CPU per request, and client and
    server share this machine's cores)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        target = f"{path}?{urlencode(params)}" if params else path
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("expected a Content-Length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def measure(
    port: int,
    make_request: Callable[[random.Random], tuple[str, dict[str, str]]],
    clients: int,
    requests: int,
) -> tuple[list[float], float]:
    """`clients` connections send `requests` in total, back to back; latencies in ms."""
    latencies: list[float] = []
    per_client = max(1, requests // clients)

    async def client_loop(n: int) -> None:
        rng = random.Random(n)
        connection = Connection(port)
        try:
            for _ in range(per_client):
                path, params = make_request(rng)
                started = time.perf_counter()
                status, _ = await connection.get(path, params)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise RuntimeError(f"{path} {params}: HTTP {status}")
                latencies.append(elapsed)
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return latencies, time.perf_counter() - started


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def backend_cpu_seconds(url: str) -> float | None:
    """CPU time so far of the PostgreSQL backends serving `url`'s database (same machine)."""
    if not url.startswith("postgresql"):
        return None
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        ]
    found = [cpu_seconds(pid) for pid in pids]
    return sum(x for x in found if x is not None) if pids else None


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def run(label: str, url: str, args: argparse.Namespace) -> None:
    data = await fill(url, args.cases)
    print(f"\n{label}: {args.cases:,} cases inserted in {data['inserted_s']:.1f} s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        process = start_server(url, Path(data_dir), port, args.pool_size)
        try:
            await wait_ready(base, process)
            cursors: list[str] = data["cursors"]
            practice_cursors: list[tuple[str, str]] = data["practice_cursors"]
            mix: dict[str, Callable[[random.Random], tuple[str, dict[str, str]]]] = {
                "baseline GET /healthz": lambda r: ("/healthz", {}),
                "first page": lambda r: ("/v1/cases", {"limit": "100"}),
                "filter practice": lambda r: (
                    "/v1/cases",
                    {"practice_id": f"practice-{r.randrange(PRACTICES)}", "limit": "100"},
                ),
                "filter account": lambda r: (
                    "/v1/cases",
                    {"account_id": f"acc_bench{r.randrange(ACCOUNTS):021d}", "limit": "100"},
                ),
                "filter status": lambda r: (
                    "/v1/cases",
                    {"status": "setup_in_review", "action_required": "true", "limit": "100"},
                ),
                "deep page": lambda r: ("/v1/cases", {"limit": "100", "cursor": r.choice(cursors)}),
                "filter+page": lambda r: _practice_page(r, practice_cursors),
            }
            if args.kinds:
                wanted = {k.strip() for k in args.kinds.split(",")}
                mix = {k: v for k, v in mix.items() if k in wanted or k.startswith("baseline")}
            # Warm-up: connections, caches, the first query plans.
            for make in mix.values():
                await measure(port, make, args.clients, args.clients * 2)
            baseline: float | None = None
            baseline_cpu: float | None = None
            print(
                f"{'request':<24}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}"
                f"{'p50 / baseline':>16}{'server CPU ms':>14}{'/ healthz':>10}{'DB CPU ms':>10}"
            )
            for name, make in mix.items():
                cpu_before = cpu_seconds(process.pid)
                db_before = backend_cpu_seconds(url)
                latencies, seconds = await measure(port, make, args.clients, args.requests)
                cpu_after = cpu_seconds(process.pid)
                db_after = backend_cpu_seconds(url)
                p50, p95 = pct(latencies, 50), pct(latencies, 95)
                if baseline is None:
                    baseline = p50
                cpu, ratio, db = f"{'n/a':>13}", f"{'':>10}", f"{'':>10}"
                if cpu_before is not None and cpu_after is not None:
                    per_request = (cpu_after - cpu_before) * 1000 / len(latencies)
                    baseline_cpu = baseline_cpu or per_request
                    cpu = f"{per_request:>13.2f}"
                    ratio = f"{per_request / baseline_cpu:>9.1f}x"
                if db_before is not None and db_after is not None:
                    db = f"{(db_after - db_before) * 1000 / len(latencies):>10.2f}"
                print(
                    f"{name:<24}{len(latencies):>6}{p50:>9.1f}{p95:>9.1f}"
                    f"{len(latencies) / seconds:>9.0f}{p50 / baseline:>15.1f}x{cpu}{ratio}{db}"
                )
        finally:
            process.terminate()
            process.wait(timeout=30)


def _practice_page(
    rng: random.Random, practice_cursors: list[tuple[str, str]]
) -> tuple[str, dict[str, str]]:
    practice, cursor = rng.choice(practice_cursors)
    return "/v1/cases", {"practice_id": practice, "limit": "100", "cursor": cursor}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def postgres_url() -> str | None:
    try:
        import psycopg

        name = f"tpsc_api_bench_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{name}"
    except Exception:
        return None


def drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="per request kind")
    parser.add_argument("--kinds", default="", help="comma-separated request kinds (default: all)")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="the server's database.pool_size (default: --clients; 0: the server's default)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pool_size is None:
        args.pool_size = args.clients
    configure_logging(level="warning", fmt="console")
    print(
        f"GET /v1/cases, {args.clients} concurrent clients, {args.requests} requests per kind, "
        f"uvicorn (1 process, pool_size {args.pool_size or 'default'}) on loopback; "
        f"{os.cpu_count()} CPUs, load average {load_average()} at start"
    )
    print(
        "p50/p95: latency seen by a client (queueing included: 50 clients share one server); "
        "server CPU ms: the server process's CPU time per request"
    )
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    pg = postgres_url()
    if pg is None:
        print("\nPostgreSQL: skipped, no server at 127.0.0.1:5432")
        return
    try:
        await run("PostgreSQL", pg, args)
    finally:
        drop_postgres(pg)
    print(f"\nload average {load_average()} at the end")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        asyncio.run(main())
