"""Files benchmark: download and serve throughput, and peak memory against file size, against
the ClearCorrect sandbox (its own process, so its memory and CPU are not counted).

The sandbox serves its seeded practice's files at sizes drawn from --min-mb..--max-mb (STL
meshes and JPEG photos of the Files grid). Measured in the same run, over the same files:

- download: plain httpx streaming of every file to disk with the partner's cookies (no
  encryption), then the connector's download turns (the ClearCorrect adapter through the
  shared streaming piece, AES-256-GCM chunks, the blob store, one transaction per file);
- serve: plain httpx streaming of every file from the sandbox, then `GET
  /v1/files/{id}/content` from the connector's API (uvicorn in its own process), decrypting
  as it streams;
- peak RSS of one process that downloads and serves one file (the API in a child process, as
  in the throughput run; the RSS is the downloading process's), for a small and a large file:
  nothing holds a whole file, so it stays flat.

Every file is fetched once before the timed runs (the sandbox makes a file on first request).
The two downloads run in turn `--rounds` times and the fastest pass of each side counts.
Each side writes into memory the system freed a moment before: plain truncates its files as it
opens them, and the connector's blobs of the previous pass are deleted right before its own
pass. (Deleted before the plain pass, they had been freed a second or more earlier: on this
VM such memory is reclaimed from the guest and faulted in again, and the connector's file
writes cost 0.8-2.0 ms of CPU per MB against plain's 0.24-0.29.)
Each pass also reports user+system CPU per MB of this process and of the server (the sandbox,
or the API's process): the machine is shared, and wall time moves with its load.

Figures (2 cores, shared, SQLite, filesystem store), two runs each:
- before the sink's worker thread and the early flushes: download 0.57x / 0.59x, serve
  0.70x / 0.86x (connector server CPU 0.81 / 0.77 ms/MB against the sandbox's 0.32 / 0.58);
- with them: download 0.67x / 0.65x, serve 0.92x / 0.92x; peak RSS 139 MB download and
  136 MB serve for a 1 MB and a 200 MB file alike;
- with each file landing (fsync, rename, transaction) while the next one is received, the
  fastest of 3 passes each, every run beside one of the code before it in the same minutes
  (before -> after; the load average moved between 3 and 12 on the 2 cores):
  plain 237 -> 252 MB/s, connector 212 -> 304 MB/s, 0.89x -> 1.21x, client CPU 2.36 -> 2.64
  ms/MB (plain 1.85 / 1.84); plain 253 -> 440 MB/s, connector 227 -> 355 MB/s, 0.90x ->
  0.81x, client CPU 2.54 -> 2.29 ms/MB (plain 2.29 / 1.91). Under heavy load the plain
  loop's one thread gets the smaller share of the CPU and the ratio tops 1x either way.
- with a chunk stored while the next is hashed and sealed, the adapters' own HTTP/1.1
  transport (body pieces as read from the socket) and both sides freeing their files right
  before their pass, two runs on a quieter machine: download 0.85x / 0.85x (380 / 388 MB/s
  against 446 / 456; client CPU 3.03 / 3.01 ms/MB against 2.15 / 2.11), serve 0.93x / 0.89x,
  peak RSS 144-145 MB downloading and 133-134 MB serving for 1 MB and 200 MB files. The same
  bench order with the code before these changes gave 0.63x and 0.78x.
The plain download writes to disk without fsync; the connector fsyncs each file before it
becomes visible, 10-25 ms per file here, which weighs most when the machine is quiet (plain
at 400-670 MB/s); it now overlaps the next file's transfer. Serving pays the API's per-request
cost (about 3.8 ms of server CPU for a one-byte range, most of it the framework's routing and
middleware), the sandbox's none of it.

Usage: python bench/files_bench.py [--files 50] [--min-mb 1] [--max-mb 50] [--database URL]
       [--store filesystem|postgresql] [--rss-mb 1,200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.base import no_code
from adapters.clearcorrect import ClearCorrectAdapter
from connector.accounts.gate import AttemptSource
from connector.api.app import create_app
from connector.clock import utcnow
from connector.files import fetch_account, files_services
from connector.logs import configure_logging
from connector.settings import Settings
from connector.store import accounts as account_rows
from connector.store import files as file_rows
from connector.store.schema import blobs, cases
from connector.store.schema import files as file_table
from connector.sync import SyncServices, sync_account
from connector.sync.portal import open_session
from sandbox.scenarios import scenario
from tests.sync.support import add

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
TOKEN = "bench-token-0123456789abcdef"
VENDOR = "clearcorrect"
PARTNER = scenario(VENDOR, "good")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int | None = None) -> float:
    """User+system CPU seconds of this process (every thread), or of the child `pid`."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclass(frozen=True)
class Run:
    """One timed pass: wall seconds, and CPU seconds of this process and of the server."""

    wall: float
    cpu: float
    server_cpu: float


async def timed(server_pid: int, work: Awaitable[object]) -> Run:
    wall, cpu, server = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid)
    await work
    return Run(time.perf_counter() - wall, cpu_seconds() - cpu, cpu_seconds(server_pid) - server)


@contextmanager
def sandbox_portal(root: Path, min_mb: float, max_mb: float, cases: int) -> Iterator[Server]:
    """The ClearCorrect sandbox in a child process, files made under `root`."""
    port = free_port()
    config = {
        "port": port, "files_dir": str(root), "cases": cases,
        "file_sizes": [int(min_mb * MB), int(max_mb * MB)],
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, __file__, "--portal-child", json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/Login.aspx", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        process.communicate(input="", timeout=30)


def portal_child(config: str) -> None:
    """Serve the sandbox until standard input closes."""
    from sandbox import create_app as create_portal
    from sandbox.common.config import SandboxConfig
    from sandbox.common.server import serve

    options = json.loads(config)
    sandbox = SandboxConfig(
        practices=1, cases=options["cases"], seed=7, admin=True,
        file_sizes=tuple(options["file_sizes"]), files_dir=Path(options["files_dir"]),
    )  # fmt: skip
    with serve(create_portal(VENDOR, sandbox), port=options["port"]):
        sys.stdin.read()


async def plain_download(url: str, cookies: httpx.Cookies, paths: list[str], target: Path) -> None:
    """Plain httpx streaming of each file to disk with the partner's cookies."""
    async with httpx.AsyncClient(base_url=url, timeout=60, cookies=cookies) as client:
        for n, path in enumerate(paths):
            async with client.stream("GET", path) as response:
                assert response.status_code == 200, response.status_code
                with (target / f"{n}.bin").open("wb") as handle:
                    async for piece in response.aiter_raw():
                        handle.write(piece)


async def plain_stream(url: str, paths: list[str], *, cookies: httpx.Cookies | None = None) -> None:
    headers = _auth() if cookies is None else {}
    async with httpx.AsyncClient(
        base_url=url, timeout=60, headers=headers, cookies=cookies
    ) as client:
        for path in paths:
            async with client.stream("GET", path) as response:
                assert response.status_code == 200, response.status_code
                async for _ in response.aiter_raw():
                    pass


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def bench_settings(data_dir: Path, database_url: str, store: str) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        data_dir=data_dir,
        database={"url": database_url},
        vault={"provider": "env", "keys": f"k1:{key}"},
        api={"tokens": [TOKEN]},
        files={"store": store, VENDOR: {"kinds": ["stl", "photo"]}},
        log={"level": "warning"},
    )


class Connector:
    """The connector over the sandbox: the partner's account, synced, its files listed."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.stack = AsyncExitStack()

    async def __aenter__(self) -> Connector:
        app = create_app(self.settings)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        ctx = app.state.ctx
        self.store, self.vault = ctx.runtime.store, ctx.runtime.vault
        sync = SyncServices(self.store, self.vault, {VENDOR: ClearCorrectAdapter(self.url)})
        self.services = files_services(self.settings, sync)
        self.services.turn = self.services.turn * 100
        self.account = await add(self.store, self.vault, VENDOR, PARTNER)
        await sync_account(sync, self.account.id, full=True)
        async with self.store.transaction() as conn:
            ids = (await conn.execute(sa.select(cases.c.id))).scalars().all()
            for case_id in ids:
                await file_rows.request_listing(
                    conn, case_id, self.account.id, utcnow(), eager=False
                )
        await fetch_account(self.services, self.account.id)  # lists, fetches nothing
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def listed(self, count: int) -> list[Any]:
        async with self.store.read() as conn:
            found = [
                f
                for case_id in (await conn.execute(sa.select(cases.c.id))).scalars().all()
                for f in await file_rows.case_files(conn, case_id)
            ]
        return sorted(found, key=lambda f: f.ref)[:count]

    async def cookies(self) -> httpx.Cookies:
        """The partner's session cookies, as the connector saved them."""
        async with self.store.read() as conn:
            account = await account_rows.get_account(conn, self.account.id)
        session = await open_session(
            self.services.sync, account, no_code, reason="bench", source=AttemptSource.FILES
        )
        state = json.loads((await session.export_state()).reveal())
        await session.close()
        jar = httpx.Cookies()
        for cookie in state["cookies"]:
            jar.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
        return jar

    async def download(self, files: list[Any], server_pid: int) -> Run:
        async with self.store.transaction() as conn:
            await file_rows.request_files(conn, [f.id for f in files], utcnow())

        async def turns() -> None:
            while (await fetch_account(self.services, self.account.id)).outcome == "more":
                pass

        run = await timed(server_pid, turns())
        async with self.store.read() as conn:
            stored = [await file_rows.get_file(conn, f.id) for f in files]
        assert all(f.blob_id for f in stored), "a file did not arrive"
        return run

    async def forget_downloads(self, files: list[Any]) -> None:
        """Undo a download pass: the files point at no blob and their blobs are gone, so the
        next pass fetches every one of them again (nothing is deduplicated)."""
        async with self.store.transaction() as conn:
            await conn.execute(
                file_table.update()
                .where(file_table.c.id.in_([f.id for f in files]))
                .values(blob_id=None, available_at=None)
            )
            await conn.execute(blobs.delete().where(blobs.c.account_id == self.account.id))
        for backend in self.services.blobs.all():
            await backend.delete_account(self.account.id)


def _bytes_under(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir())


@dataclass
class Figures:
    runs: dict[str, Run] = field(default_factory=dict)
    bytes: int = 0
    serve_peak_mb: float = 0.0


def _faster(best: Run | None, run: Run) -> Run:
    return run if best is None or run.wall < best.wall else best


async def connector_run(
    portal: Server, count: int, settings: Settings, plain_dir: Path | None, rounds: int = 1
) -> Figures:
    """Plain download (once untimed, to make the files, then timed) and the connector's
    download, in turn `rounds` times (the fastest pass of each counts), then serving through
    the API in its own process, and plain streaming from the sandbox."""
    figures = Figures()
    runs, url = figures.runs, portal.url
    async with Connector(url, settings) as connector:
        files = await connector.listed(count)
        paths = [f.ref for f in files]
        cookies = await connector.cookies()
        if plain_dir is not None:
            await plain_stream(url, paths, cookies=cookies)  # the sandbox makes the files
        plain: Run | None = None
        ours: Run | None = None
        for n in range(rounds):
            if plain_dir is not None:
                plain = _faster(
                    plain, await timed(portal.pid, plain_download(url, cookies, paths, plain_dir))
                )
            if n:
                # Right before the pass, as plain's files are truncated right before its own:
                # both sides write into memory the system freed a moment ago.
                await connector.forget_downloads(files)
            ours = _faster(ours, await connector.download(files, portal.pid))
        assert ours is not None
        runs["download"] = ours
        if plain is not None:
            runs["plain_download"] = plain
        if plain_dir is not None:
            figures.bytes = _bytes_under(plain_dir)
            runs["plain_serve"] = await timed(portal.pid, plain_stream(url, paths, cookies=cookies))
    peak: dict[str, float] = {}
    with api_server(settings, peak) as api:
        contents = [f"/v1/files/{f.id}/content" for f in files]
        runs["serve"] = await timed(api.pid, plain_stream(api.url, contents))
    figures.serve_peak_mb = peak.get("peak_rss_mb", 0.0)
    return figures


@contextmanager
def api_server(settings: Settings, peak: dict[str, float]) -> Iterator[Server]:
    """The connector's API (no scheduler, no loops) in a child process on a free port; its
    peak RSS lands in `peak` when it stops."""
    port = free_port()
    assert settings.vault.keys is not None
    config = {
        "data_dir": str(settings.data_dir),
        "database": {"url": settings.database.url},
        "vault": {"provider": "env", "keys": settings.vault.keys.reveal()},
        "api": {"tokens": [TOKEN], "port": port},
        "files": settings.files.model_dump(mode="json"),
        "log": {"level": "warning"},
    }
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-child", json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        out, _ = process.communicate(input="", timeout=30)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if lines:
            peak.update(json.loads(lines[-1]))


def serve_child(config: str) -> None:
    """Serve the API until standard input closes, then print the peak RSS (no signal: uvicorn
    re-raises one after its shutdown, and nothing would be printed)."""
    import threading

    import uvicorn

    settings = Settings(**json.loads(config))
    configure_logging(level="warning", fmt="console")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=settings.api.port,
            log_config=None,
            access_log=False,
        )
    )

    def stop_on_eof() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()
    asyncio.run(server.serve())
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mb": peak_kb / 1024}), flush=True)


def rss_child(size_mb: int, database_url: str, store: str) -> None:
    """One process: download and serve one file of `size_mb`; print its peak RSS in MB."""
    configure_logging(level="warning", fmt="console")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = bench_settings(
            root / "data", database_url or f"sqlite+aiosqlite:///{root / 'c.db'}", store
        )
        with sandbox_portal(root / "portal", size_mb, size_mb, cases=1) as portal:
            figures = asyncio.run(connector_run(portal, 1, settings, None))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size_mb": size_mb, "peak_rss_mb": peak_kb / 1024,
                      "serve_mb": figures.serve_peak_mb}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--min-mb", type=int, default=1)
    parser.add_argument("--max-mb", type=int, default=50)
    parser.add_argument(
        "--database", default="", help="database URL (default: SQLite in a temp dir)"
    )
    parser.add_argument("--store", default="auto", choices=["auto", "filesystem", "postgresql"])
    parser.add_argument("--rss-mb", default="1,200", help="file sizes of the memory runs (MB)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="download passes of each side; the fastest counts"
    )
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-child", help=argparse.SUPPRESS)
    parser.add_argument("--portal-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        serve_child(args.serve_child)
        return
    if args.portal_child:
        portal_child(args.portal_child)
        return
    if args.rss_child:
        rss_child(args.rss_child, args.database, args.store)
        return
    configure_logging(level="warning", fmt="console")
    # About 5 files per case (two scans, three photos): enough cases for --files.
    case_count = max(2, args.files // 3)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        database = args.database or f"sqlite+aiosqlite:///{root / 'connector.db'}"
        settings = bench_settings(root / "data", database, args.store)
        backend = database.split(":", 1)[0]
        (root / "plain").mkdir()
        with sandbox_portal(root / "portal", args.min_mb, args.max_mb, case_count) as portal:
            figures = asyncio.run(
                connector_run(portal, args.files, settings, root / "plain", max(1, args.rounds))
            )
    total = figures.bytes / MB
    print(f"{args.files} files of the ClearCorrect sandbox, {args.min_mb}-{args.max_mb} MB, "
          f"{total:,.0f} MB in all; database {backend}, "
          f"blob store {settings.blob_store}; downloads: fastest of {args.rounds}")  # fmt: skip
    runs = figures.runs
    for what, plain, ours, note in (
        ("download", runs["plain_download"], runs["download"], "httpx to disk      "),
        ("serve", runs["plain_serve"], runs["serve"], "httpx from sandbox "),
    ):
        print(f"{what:9s} plain {note}{total / plain.wall:6.0f} MB/s   "
              f"CPU ms/MB client {1000 * plain.cpu / total:5.2f} server "
              f"{1000 * plain.server_cpu / total:5.2f}")  # fmt: skip
        print(f"{what:9s} connector          {total / ours.wall:6.0f} MB/s   "
              f"CPU ms/MB client {1000 * ours.cpu / total:5.2f} server "
              f"{1000 * ours.server_cpu / total:5.2f}   "
              f"{plain.wall / ours.wall:.2f}x of plain")  # fmt: skip
    peaks, serve_peaks = [], []
    for size in (int(s) for s in args.rss_mb.split(",")):
        command = [sys.executable, __file__, "--rss-child", str(size), "--store", args.store]
        if args.database:
            command += ["--database", args.database]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        figure = json.loads(out.stdout.strip().splitlines()[-1])
        peaks.append(figure["peak_rss_mb"])
        serve_peaks.append(figure["serve_mb"])
        print(f"peak RSS  {size:5d} MB file  download {figure['peak_rss_mb']:5.0f} MB, "
              f"serve {figure['serve_mb']:5.0f} MB")  # fmt: skip
    print(f"peak RSS  spread  download {max(peaks) - min(peaks):5.0f} MB, "
          f"serve {max(serve_peaks) - min(serve_peaks):5.0f} MB (aim: within 50)")  # fmt: skip


if __name__ == "__main__":
    main()
