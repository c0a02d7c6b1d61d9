"""The files a sandbox portal serves: what each one is (`Content`), its bytes made once into a
cache on disk, and the answer a download gets.

A portal's data holds only a `Content` per file (kind, seed, a target size); the bytes are made
by the generator of the kind (`stl`, `pdf`, `jpeg`, `archive`) the first time someone asks, and
kept on disk, so a portal with thousands of files costs nothing until they are fetched and a
200 MB file is never in memory. The size is known without making anything (listings show it).

Downloads answer as a file server does (facts `*.files.range`, assumed for both portals): a
strong `ETag` (of the content), `Content-Length`, `Accept-Ranges: bytes`, a single byte range
(`206` with `Content-Range`, `416` beyond the end), `If-Range`, and `Content-Disposition:
attachment` with the file's name. The `transfer_drop_rate` fault drops the connection at a
random byte of the body.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import random
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox.common.archive import ArchiveSpec, archive_size, write_archive
from sandbox.common.faults import Faults
from sandbox.common.jpeg import PhotoSpec, jpeg_photo
from sandbox.common.pdf import PdfSpec, pdf_document
from sandbox.common.recorder import Recorder
from sandbox.common.stl import ArchSpec, stl_chunks, stl_size

STL = "stl"
PDF = "pdf"
JPEG = "jpeg"
ZIP = "zip"
MEDIA_TYPES = {
    STL: "model/stl",
    PDF: "application/pdf",
    JPEG: "image/jpeg",
    ZIP: "application/zip",
}
_PIECE = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Content:
    """One file's content, as the generators make it. `label` is what a PDF says on top (and
    tells files of one seed apart); `upper` the arch of a mesh; `size` a target in bytes
    (None: the generator's small default)."""

    kind: str
    seed: int
    label: str = ""
    upper: bool = True
    size: int | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]

    @property
    def key(self) -> str:
        digest = hashlib.sha256(repr(self).encode()).hexdigest()
        return f"{self.kind}-{digest[:32]}"

    def _pdf(self) -> PdfSpec:
        return PdfSpec(self.seed, self.label or "Document", (), self.size)

    def exact_size(self) -> int:
        """The size the made file will have, without making it: meshes and archives know
        theirs; a PDF or photo is padded to its target (`content_for` always gives one larger
        than the bare document)."""
        if self.kind == STL:
            return stl_size(ArchSpec(self.seed, self.upper, self.size))
        if self.kind == ZIP:
            return archive_size(ArchiveSpec(self.seed, size=self.size))
        if self.size is None:
            raise ValueError("a PDF or photo without a target size has no size before it is made")
        return self.size

    def write(self, path: Path) -> None:
        with path.open("wb") as out:
            if self.kind == STL:
                for piece in stl_chunks(ArchSpec(self.seed, self.upper, self.size)):
                    out.write(piece)
            elif self.kind == ZIP:
                write_archive(ArchiveSpec(self.seed, size=self.size), out)
            elif self.kind == PDF:
                out.write(pdf_document(self._pdf()))
            else:
                out.write(jpeg_photo(PhotoSpec(self.seed, self.size)))


#: The smallest target a PDF or photo gets: larger than any bare document the generators make.
_MIN_PADDED = {PDF: 4096, JPEG: 16384}


def content_for(
    kind: str, identity: str, *, label: str = "", upper: bool = True,
    sizes: tuple[int, int] | None = None,
) -> Content:  # fmt: skip
    """The one rule for what a portal's file holds: seeded by the file's `identity` (the
    portal's seed and the file's id), and sized from the configured range (`sizes`, bytes),
    or small (a default mesh, a photo or PDF of a few kilobytes)."""
    seed = int(hashlib.sha256(f"{kind}:{identity}".encode()).hexdigest()[:12], 16)
    draw = random.Random(seed)
    if sizes is not None:
        target: int | None = draw.randint(*sizes)
    elif kind in _MIN_PADDED:
        target = _MIN_PADDED[kind] + draw.randrange(_MIN_PADDED[kind] // 2)
    else:
        target = None
    if target is not None and kind in _MIN_PADDED:
        target = max(target, _MIN_PADDED[kind])
    return Content(kind, seed, label, upper, target)


@dataclass(frozen=True)
class Made:
    path: Path
    size: int
    etag: str
    sha256: str


class FileCache:
    """Made files on disk, under `root` (a private temporary directory by default, removed when
    the process ends)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._made: dict[str, Made] = {}

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="sandbox-files-"))
            atexit.register(shutil.rmtree, self._root, True)
        return self._root

    def make(self, content: Content) -> Made:
        """The file made (once per content, also when asked from several threads)."""
        key = content.key
        with self._lock:
            found = self._made.get(key)
            if found is not None:
                return found
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / key
            if not path.is_file():
                partial = path.with_suffix(".part")
                content.write(partial)
                os.replace(partial, path)
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while piece := handle.read(1 << 20):
                    digest.update(piece)
            sha = digest.hexdigest()
            made = Made(path, path.stat().st_size, f'"{sha[:32]}"', sha)
            self._made[key] = made
            return made


def disposition(name: str) -> str:
    """`attachment` with the name as ASCII and, for any other letters, RFC 6266's `filename*`."""
    plain = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    if plain == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


class Serving(Protocol):
    """The portal a download belongs to: its faults and its tallies."""

    faults: Faults
    recorder: Recorder


class FileAnswer(Response):
    """The answer to one download: whole, ranged or refused, possibly dropped mid-body (a
    `Response` only for the routes' sake: it streams from the made file itself)."""

    def __init__(
        self, request: Request, made: Made, name: str, media_type: str, portal: Serving
    ) -> None:
        super().__init__(None, media_type=media_type)
        self.made = made
        self.recorder = portal.recorder
        faults = portal.faults
        self.answer_headers = {
            "etag": made.etag,
            "accept-ranges": "bytes",
            "content-type": media_type,
            "content-disposition": disposition(name),
            "cache-control": "private, no-store",
        }
        self.first, self.last = 0, made.size - 1
        self.status_code = 200
        asked = request.headers.get("range")
        if asked and request.headers.get("if-range", made.etag) == made.etag:
            match = _RANGE.match(asked.strip())
            if match and (match.group(1) or match.group(2)):
                self._range(match.group(1), match.group(2))
        self.drop = faults.transfer_drop(self.first, self.last) if self.status_code != 416 else None
        self.pause = faults.transfer_pause_ms / 1000

    def _range(self, start: str, end: str) -> None:
        size = self.made.size
        if start:
            first = int(start)
            last = min(int(end), size - 1) if end else size - 1
        else:  # the last `end` bytes
            first, last = max(0, size - int(end)), size - 1
        if first >= size or first > last:
            self.status_code = 416
            self.answer_headers["content-range"] = f"bytes */{size}"
            return
        self.first, self.last, self.status_code = first, last, 206
        self.answer_headers["content-range"] = f"bytes {first}-{last}/{size}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = 0 if self.status_code == 416 else self.last - self.first + 1
        how = {200: "whole", 206: "ranged", 416: "refused"}[self.status_code]
        self.recorder.count_transfer("dropped" if self.drop is not None else how)
        headers = {**self.answer_headers, "content-length": str(length)}
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        if length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        with self.made.path.open("rb") as handle:
            handle.seek(self.first)
            position = self.first
            while position <= self.last:
                want = min(_PIECE, self.last - position + 1)
                if self.drop is not None and position <= self.drop < position + want:
                    piece = handle.read(self.drop - position)
                    if piece:
                        await send({"type": "http.response.body", "body": piece, "more_body": True})
                    raise TransferDropped(f"dropped at byte {self.drop}")
                piece = handle.read(want)
                position += len(piece)
                more = position <= self.last
                await send({"type": "http.response.body", "body": piece, "more_body": more})
                if more and self.pause:
                    await asyncio.sleep(self.pause)


def originals(made: list[tuple[str, str, Made]]) -> list[dict[str, Any]]:
    """What the admin API tells of files as made: (case id, name, made) -> size, SHA-256, and
    a run of 32 bytes from the middle (to look for where the file must not be in the clear)."""
    out = []
    for case_id, name, file in made:
        with file.path.open("rb") as handle:
            handle.seek(max(0, file.size // 2 - 16))
            sample = handle.read(32)
        out.append(
            {"case_id": case_id, "name": name, "size": file.size, "sha256": file.sha256,
             "sample": sample.hex()}
        )  # fmt: skip
    return out


class TransferDropped(Exception):
    """Raised mid-body on purpose: the server closes the connection without finishing."""
