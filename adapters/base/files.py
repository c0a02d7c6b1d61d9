"""Setup files and case records: what an adapter offers for download, as a capability.

An adapter that can download says so with `offers_files = True`, and its sessions implement
`FileAccess` beside `PortalSession`:
`list_files(vendor_case_id)` names the files of a case (`FileRef`), `download(file, sink)`
streams one into a `FileSink`. The connector asks `file_access(session)`, which raises
`FilesUnavailable` for an adapter without the capability; a login whose portal rights do not
reach files raises the same from `list_files`. HTTP adapters stream with the one shared piece
(`adapters.http.download.fetch_to_sink`): Range resumption, size and checksum checks, retries
under the one policy, and never a whole file in memory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from adapters.base.errors import FilesUnavailable


class FileKind(StrEnum):
    """What a file is to a planner. Photos and x-rays show faces: fetched only when enabled."""

    STL = "stl"  # a mesh of one arch (or one step of a setup)
    PDF = "pdf"  # a treatment plan or prescription summary
    PHOTO = "photo"
    XRAY = "xray"
    ARCHIVE = "archive"  # a bundle (zip) of meshes or records


#: Checksums portals are known to publish (ETag-style MD5, or SHA-256).
CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha256")
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Checksum:
    """A digest the portal publishes for a file: the download is checked against it."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        if self.algorithm not in CHECKSUM_ALGORITHMS:
            raise ValueError(f"unknown checksum algorithm {self.algorithm!r}")
        expected = hashlib.new(self.algorithm).digest_size * 2
        if len(self.hex) != expected or not _HEX.match(self.hex):
            raise ValueError(f"a {self.algorithm} checksum is {expected} lower-case hex digits")

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @classmethod
    def parse(cls, text: str) -> Checksum:
        algorithm, _, value = text.partition(":")
        return cls(algorithm, value)


@dataclass(frozen=True)
class FileRef:
    """One downloadable file of a case, as the portal lists it.

    `ref` is the adapter's own handle (a path, an id): opaque to the connector, stable across
    listings of the same case, and enough for `download()`. `assumed_facts` names the register
    facts (`docs/portal-facts/`) the listing or the download rests on that no source confirms;
    the API shows such a file as `unverified`.
    """

    ref: str
    kind: FileKind
    name: str
    size: int | None
    setup_version: int | None = None
    vendor_setup_id: str | None = None
    checksum: Checksum | None = None
    assumed_facts: tuple[str, ...] = ()

    @property
    def unverified(self) -> bool:
        return bool(self.assumed_facts)

    def __repr__(self) -> str:  # file names can carry patient names
        return f"FileRef({self.kind}, size={self.size})"


class FileSink(Protocol):
    """Where a download's bytes go, in order. `restart()` discards everything received (the
    portal answered a resumption with the whole file, or the file changed in between)."""

    @property
    def received(self) -> int: ...

    async def write(self, data: bytes) -> None: ...

    async def restart(self) -> None: ...


@dataclass(frozen=True)
class Downloaded:
    """How a download went: the verified size, and how often it had to resume or restart."""

    size: int
    content_type: str | None = None
    etag: str | None = None
    resumes: int = 0
    restarts: int = 0


@runtime_checkable
class FileAccess(Protocol):
    """The download capability of a portal session."""

    async def list_files(self, vendor_case_id: str) -> tuple[FileRef, ...]:
        """Every file of the case the login may download: setup files (per version) and records.

        Raises `FilesUnavailable` when this login's rights do not reach files."""
        ...

    async def download(self, file: FileRef, sink: FileSink) -> Downloaded:
        """Stream `file` into `sink`, verified (size; checksum where offered).

        Raises `DownloadCorrupt`, `NotFound`, `SessionExpired`, `PortalUnavailable`, ..."""
        ...


def offers_files(adapter: object) -> bool:
    """Whether a vendor's adapter declares the capability (`offers_files = True`). Without it
    the connector never opens a session for files: no sign-in is spent on a missing feature."""
    return getattr(adapter, "offers_files", False) is True


def file_access(session: object) -> FileAccess:
    """The session's download capability, or `FilesUnavailable` when its adapter has none."""
    if isinstance(session, FileAccess):
        return session
    raise FilesUnavailable("this vendor's adapter does not download files yet")
