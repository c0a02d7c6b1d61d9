"""What file tests share: an in-memory sink, a fake adapter whose sessions list and download
files from the local file server through the shared streaming piece, and services around it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.base import (
    Access,
    CaseDetail,
    CasePage,
    CodeProvider,
    Credentials,
    Downloaded,
    FileRef,
    FileSink,
    PostResult,
    SignInGuard,
    StatusTable,
)
from adapters.http import RetryPolicy, fetch_to_sink
from vault import Secret

FAST = RetryPolicy(max_attempts=6, max_total_seconds=20, initial_backoff=0.001, max_backoff=0.01)


class MemorySink:
    """A test sink: keeps everything in memory (real sinks seal chunk by chunk)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.restarts = 0

    @property
    def received(self) -> int:
        return len(self.data)

    async def write(self, data: bytes) -> None:
        self.data += data

    async def restart(self) -> None:
        self.data = bytearray()
        self.restarts += 1


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def distinctive(size: int, seed: int) -> bytes:
    """Bytes no other file holds: a marker run every 64 KiB (searched for at rest) and noise."""
    marker = f"PLAINTEXT-MARKER-{seed:04d}-".encode()
    noise = os.urandom(size)
    out = bytearray(noise)
    for position in range(0, max(0, size - len(marker)), 65536):
        out[position : position + len(marker)] = marker
    return bytes(out)


@dataclass(eq=False)  # a session is itself, not its fields (as the real ones)
class FakeFilesSession:
    """A portal session with the download capability (and nothing else of a portal)."""

    base_url: str
    listing: Mapping[str, list[FileRef]]
    logins: int = 0
    downloads: list[str] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=10)
        return self._client

    async def export_state(self) -> Secret:
        return Secret("{}")

    async def check_access(self) -> Access:
        raise NotImplementedError

    def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        raise NotImplementedError

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        raise NotImplementedError

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        raise NotImplementedError

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        raise NotImplementedError

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        raise NotImplementedError

    async def list_files(self, vendor_case_id: str) -> tuple[FileRef, ...]:
        return tuple(self.listing.get(vendor_case_id, ()))

    async def download(self, file: FileRef, sink: FileSink) -> Downloaded:
        self.downloads.append(file.ref)
        return await fetch_to_sink(
            self.client(),
            f"/files/{file.ref}",
            sink,
            expected_size=file.size,
            checksum=file.checksum,
            policy=FAST,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass
class FakeFilesAdapter:
    """Stands in for a vendor's adapter: every `open` returns a session on the file server."""

    vendor: str
    base_url: str
    listing: dict[str, list[FileRef]] = field(default_factory=dict)
    status_table: StatusTable = field(default_factory=StatusTable)
    offers_files: bool = True
    opened: int = 0
    sessions: list[FakeFilesSession] = field(default_factory=list)

    async def open(
        self,
        credentials: Credentials,
        session_state: Secret | None,
        code_provider: CodeProvider,
        *,
        guard: SignInGuard,
    ) -> FakeFilesSession:
        self.opened += 1
        session = FakeFilesSession(self.base_url, self.listing)
        self.sessions.append(session)
        return session


def write_files(root: Path, sizes: Mapping[str, int], seed: int = 0) -> dict[str, bytes]:
    root.mkdir(parents=True, exist_ok=True)
    made = {}
    for n, (name, size) in enumerate(sorted(sizes.items())):
        data = distinctive(size, seed * 100 + n)
        (root / name).write_bytes(data)
        made[name] = data
    return made


def any_of(items: Any) -> Any:
    return next(iter(items))
