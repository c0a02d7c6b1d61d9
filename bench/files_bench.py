"""Files benchmark: download and serve throughput, and peak memory against file size.

A local file server (its own process, so its memory is not counted) serves N files of random
sizes. Measured in the same run:

- download: plain httpx streaming of every file to disk (no encryption), then the connector's
  download turns over the same files (the shared streaming piece, AES-256-GCM chunks, the blob
  store, one transaction per file);
- serve: plain httpx streaming of every file from the file server, then `GET
  /v1/files/{id}/content` from the connector's API (uvicorn on loopback), decrypting as it
  streams;
- peak RSS of one process that downloads and serves one file (the API in a child process, as
  in the throughput run; the RSS is the downloading process's), for a small and a large file:
  nothing holds a whole file, so it stays flat.

Usage: python bench/files_bench.py [--files 50] [--min-mb 1] [--max-mb 50] [--database URL]
       [--store filesystem|postgresql] [--rss-mb 1,200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.base import CaseStatus, CaseSummary, FileKind, FileRef
from connector.accounts.service import create_account
from connector.api.app import create_app
from connector.clock import utcnow
from connector.files import fetch_account, files_services
from connector.logs import configure_logging
from connector.settings import Settings
from connector.store import cases as case_rows
from connector.store import files as file_rows
from connector.sync import SyncServices
from tests.files.support import FakeFilesAdapter
from vault import Secret

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
TOKEN = "bench-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_files(root: Path, sizes: list[int]) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    names = []
    block = os.urandom(MB)
    for n, size in enumerate(sizes):
        name = f"f{n:03d}.stl"
        with (root / name).open("wb") as handle:
            left = size
            handle.write(n.to_bytes(8, "big"))  # distinct content per file (no dedup)
            left -= 8
            while left > 0:
                handle.write(block[: min(left, MB)])
                left -= MB
        names.append(name)
    return names


@contextmanager
def file_server(root: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.files.fileserver", str(root), str(port)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/files/none", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def plain_download(url: str, names: list[str], target: Path) -> float:
    """Plain httpx streaming of each file to disk (`target` exists)."""
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for name in names:
            async with client.stream("GET", f"/files/{name}") as response:
                with (target / name).open("wb") as handle:
                    async for piece in response.aiter_raw():
                        handle.write(piece)
    return time.perf_counter() - start


async def plain_stream(url: str, paths: list[str]) -> float:
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=_auth()) as client:
        for path in paths:
            async with client.stream("GET", path) as response:
                assert response.status_code == 200, response.status_code
                async for _ in response.aiter_raw():
                    pass
    return time.perf_counter() - start


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def bench_settings(data_dir: Path, database_url: str, store: str) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        data_dir=data_dir,
        database={"url": database_url},
        vault={"provider": "env", "keys": f"k1:{key}"},
        api={"tokens": [TOKEN]},
        files={"store": store},
        log={"level": "warning"},
    )


async def connector_run(
    url: str, names: list[str], sizes: list[int], settings: Settings
) -> tuple[float, float, float]:
    """Download every file through download turns, then serve each through the API."""
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        ctx = app.state.ctx
        adapter = FakeFilesAdapter("clearcorrect", url)
        services = files_services(
            settings, SyncServices(ctx.runtime.store, ctx.runtime.vault, {"clearcorrect": adapter})
        )
        services.turn = services.turn * 100
        account = await create_account(
            ctx.runtime.store, ctx.runtime.vault, vendor="clearcorrect",
            username="bench@tps-planning.example", password=Secret("Bench-password-123"),
        )  # fmt: skip
        now = utcnow()
        async with ctx.runtime.store.transaction() as conn:
            case_id, _ = await case_rows.upsert_case(
                conn, account_id=account.id, vendor="clearcorrect", practice_id=None,
                summary=CaseSummary("CC-1", "P", "1", None, None, CaseStatus.IN_TREATMENT,
                                    "In treatment", False, 0, now),
                vendor_created_at=now, now=now,
            )  # fmt: skip
            refs = [
                FileRef(ref=name, kind=FileKind.STL, name=name, size=size)
                for name, size in zip(names, sizes, strict=True)
            ]
            stored = await file_rows.record_listing(
                conn, account_id=account.id, case_id=case_id, listed=refs, now=now
            )
            await file_rows.request_files(conn, [f.id for f in stored], now)
        start = time.perf_counter()
        while (await fetch_account(services, account.id)).outcome == "more":
            pass
        download = time.perf_counter() - start
        async with ctx.runtime.store.read() as conn:
            ids = [f.id for f in await file_rows.case_files(conn, case_id) if f.blob_id]
        assert len(ids) == len(names), (len(ids), len(names))
    # Serving: the same app under uvicorn in its own process (as the file server is), streamed
    # over loopback.
    paths = [f"/v1/files/{i}/content" for i in ids]
    peak: dict[str, float] = {}
    with api_server(settings, peak) as api_url:
        seconds = await plain_stream(api_url, paths)
    return download, seconds, peak.get("peak_rss_mb", 0.0)


@contextmanager
def api_server(settings: Settings, peak: dict[str, float]) -> Iterator[str]:
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
        yield url
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
        names = make_files(root / "portal", [size_mb * MB])
        settings = bench_settings(
            root / "data", database_url or f"sqlite+aiosqlite:///{root / 'c.db'}", store
        )
        with file_server(root / "portal") as url:
            _, _, serve_peak = asyncio.run(connector_run(url, names, [size_mb * MB], settings))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size_mb": size_mb, "peak_rss_mb": peak_kb / 1024, "serve_mb": serve_peak}))


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
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        serve_child(args.serve_child)
        return
    if args.rss_child:
        rss_child(args.rss_child, args.database, args.store)
        return
    configure_logging(level="warning", fmt="console")
    rng = random.Random(20)
    sizes = [rng.randint(args.min_mb * MB, args.max_mb * MB) for _ in range(args.files)]
    total = sum(sizes) / MB
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = make_files(root / "portal", sizes)
        database = args.database or f"sqlite+aiosqlite:///{root / 'connector.db'}"
        settings = bench_settings(root / "data", database, args.store)
        backend = database.split(":", 1)[0]
        print(f"{args.files} files, {args.min_mb}-{args.max_mb} MB, {total:,.0f} MB in all; "
              f"database {backend}, blob store {settings.blob_store}")  # fmt: skip
        with file_server(root / "portal") as url:
            (root / "plain").mkdir()
            plain_dl = asyncio.run(plain_download(url, names, root / "plain"))
            ours_dl, ours_serve, _ = asyncio.run(connector_run(url, names, sizes, settings))
            plain_serve = asyncio.run(plain_stream(url, [f"/files/{n}" for n in names]))
    print(f"download  plain httpx to disk   {total / plain_dl:8.0f} MB/s")
    print(f"download  connector (encrypted) {total / ours_dl:8.0f} MB/s   "
          f"{plain_dl / ours_dl:.2f}x of plain")  # fmt: skip
    print(f"serve     plain httpx stream    {total / plain_serve:8.0f} MB/s")
    print(f"serve     connector API         {total / ours_serve:8.0f} MB/s   "
          f"{plain_serve / ours_serve:.2f}x of plain")  # fmt: skip
    peaks, serve_peaks = [], []
    for size in (int(s) for s in args.rss_mb.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(size), "--store", args.store],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        figure = json.loads(out.stdout.strip().splitlines()[-1])
        peaks.append(figure["peak_rss_mb"])
        serve_peaks.append(figure["serve_mb"])
        print(f"peak RSS  {size:5d} MB file  download {figure['peak_rss_mb']:5.0f} MB, "
              f"serve {figure['serve_mb']:5.0f} MB")  # fmt: skip
    print(f"peak RSS  spread  download {max(peaks) - min(peaks):5.0f} MB, "
          f"serve {max(serve_peaks) - min(serve_peaks):5.0f} MB (aim: within 50)")  # fmt: skip


if __name__ == "__main__":
    main()
