"""A small local file server for download tests and the files benchmark.

Serves the files of one directory at `/files/<name>` with Content-Length, a strong ETag,
Accept-Ranges and single byte ranges (206, 416, If-Range), streamed from disk. Faults on demand:
`drop_at[name]` lists byte offsets at which successive answers for that file drop the
connection; `drop_rate` drops a random answer at a random byte; `ranges=False` ignores Range
(answers 200, as some servers do). Run it in its own process with
`python -m tests.files.fileserver DIR PORT` (the benchmark does, so its memory is not counted).
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]

PIECE = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Dropped(Exception):
    """Raised mid-body: the server closes the connection without finishing the answer."""


@dataclass
class FileServer:
    root: Path
    ranges: bool = True
    drop_rate: float = 0.0
    drop_at: dict[str, list[int]] = field(default_factory=dict)
    seed: int = 0
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def etag(self, path: Path) -> str:
        stat = path.stat()
        return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        name = scope["path"].removeprefix("/files/")
        path = self.root / name
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if "/" in name or not path.is_file():
            await self._answer(send, 404, {}, b"")
            return
        size = path.stat().st_size
        etag = self.etag(path)
        first, last, status = 0, size - 1, 200
        asked = headers.get("range") if self.ranges else None
        if asked and headers.get("if-range", etag) == etag:
            match = _RANGE.match(asked)
            if match and match.group(1):
                first = int(match.group(1))
                last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
                if first >= size:
                    await self._answer(send, 416, {"content-range": f"bytes */{size}"}, b"")
                    return
                status = 206
        self.requests.append((name, asked, first))
        out = {
            "content-length": str(last - first + 1),
            "etag": etag,
            "accept-ranges": "bytes" if self.ranges else "none",
            "content-type": "application/octet-stream",
        }
        if status == 206:
            out["content-range"] = f"bytes {first}-{last}/{size}"
        drop: int | None = None
        planned = self.drop_at.get(name)
        if planned:
            drop = planned.pop(0)
        elif self.drop_rate and self._random.random() < self.drop_rate and last > first:
            drop = self._random.randint(first, last)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in out.items()],
            }
        )
        with path.open("rb") as handle:
            handle.seek(first)
            position = first
            while position <= last:
                want = min(PIECE, last - position + 1)
                if drop is not None and position <= drop < position + want:
                    want = drop - position
                    if want:
                        await send(
                            {
                                "type": "http.response.body",
                                "body": handle.read(want),
                                "more_body": True,
                            }
                        )
                    raise Dropped(f"dropped {name} at byte {drop}")
                piece = handle.read(want)
                position += len(piece)
                await send(
                    {"type": "http.response.body", "body": piece, "more_body": position <= last}
                )
        if first > last:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _answer(send: Any, status: int, headers: dict[str, str], body: bytes) -> None:
        headers = {**headers, "content-length": str(len(body))}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    root, port = Path(sys.argv[1]), int(sys.argv[2])
    drop_rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    uvicorn.run(
        FileServer(root, drop_rate=drop_rate),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
