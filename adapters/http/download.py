"""Streaming one file from a portal into a sink: the piece every HTTP adapter downloads with.

Each request goes through the one retry policy (`send(..., stream=True)`), so connect errors,
5xx and 429 are handled as everywhere else. What only downloads need lives here:

- The body is streamed into the sink piece by piece; nothing holds the whole file.
- A connection dropped mid-body resumes with `Range: bytes=<received>-` (and `If-Range` with the
  first answer's strong ETag, so a file changed in between comes back whole). A portal that
  ignores Range answers 200, and the sink restarts from byte 0. Resumptions are bounded: in
  total (`max_resumes`) and in a row without progress (the policy's `max_attempts`).
- The result is verified: the length the portal announced, the size the listing gave, and the
  checksum where the portal publishes one. A mismatch raises `DownloadCorrupt`; the caller
  discards what the sink holds.
- `Accept-Encoding: identity`: Range offsets then count the file's own bytes.

Adapters pass `check(response)` to read what only they can read (a login page served instead
of the file means the session ended: they raise `SessionExpired`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

import httpx
import structlog

from adapters.base.errors import (
    DownloadCorrupt,
    FilesUnavailable,
    NotFound,
    PortalUnavailable,
    SessionExpired,
)
from adapters.base.files import Checksum, Downloaded, FileSink
from adapters.http.policy import DEFAULT_POLICY, ERROR_TABLE, Outcome, RetryPolicy, Rule, classify
from adapters.http.policy import send as send_request

_log = structlog.get_logger("adapters.http.download")

#: Dropped connections one download may survive (each resumption must make progress too).
MAX_RESUMES = 32
MAX_REDIRECTS = 5
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _Restart(Exception):
    """The answer cannot continue what the sink holds: start again from byte 0."""


def _content_range(value: str | None) -> tuple[int, int | None]:
    """(first byte, complete length or None) of a 206's Content-Range."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if match is None:
        raise _Restart("unreadable Content-Range")
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _strong(etag: str | None) -> str | None:
    """Only a strong validator may guard a resumption (RFC 9110 section 13.1.5)."""
    return etag if etag and not etag.startswith("W/") else None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 401:
        raise SessionExpired("the portal asked to sign in again for a download")
    if status == 403:
        raise FilesUnavailable("the portal refuses this file to the login")
    if status in (404, 410):
        raise NotFound("the portal no longer offers this file")
    if status >= 400:
        raise PortalUnavailable(f"the portal answered {status} to a download")


async def fetch_to_sink(
    client: httpx.AsyncClient,
    url: str,
    sink: FileSink,
    *,
    expected_size: int | None = None,
    checksum: Checksum | None = None,
    headers: Mapping[str, str] | None = None,
    check: Callable[[httpx.Response], None] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    table: Sequence[Rule] = ERROR_TABLE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    max_resumes: int = MAX_RESUMES,
) -> Downloaded:
    """Download `url` into `sink` (from byte 0), resuming and verifying as described above.

    `expected_size` is the exact size the listing gave (leave it None when the portal only
    shows a rounded one); `checksum` the digest it publishes."""
    if sink.received:
        await sink.restart()
    digest = hashlib.new(checksum.algorithm) if checksum else None
    etag: str | None = None
    total: int | None = None
    content_type: str | None = None
    resumes = restarts = stalls = redirects = 0
    target = url

    async def restart() -> None:
        nonlocal digest, etag, total, restarts
        await sink.restart()
        digest = hashlib.new(checksum.algorithm) if checksum else None
        etag, total = None, None
        restarts += 1

    while True:
        offset = sink.received
        request_headers = {"Accept-Encoding": "identity", **(headers or {})}
        if offset:
            request_headers["Range"] = f"bytes={offset}-"
            if etag:
                request_headers["If-Range"] = etag
        response = await send_request(
            client, "GET", target, policy=policy, table=table, sleep=sleep, stream=True,
            headers=request_headers,
        )  # fmt: skip
        try:
            if check is not None:
                check(response)
            if response.is_redirect and "Location" in response.headers:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise PortalUnavailable("a download was redirected too often")
                target = str(response.url.join(response.headers["Location"]))
                continue
            if response.status_code == 416 and offset and offset == total:
                break  # everything had arrived; only the end of the body was lost
            if response.status_code == 416:
                raise _Restart("the portal refused the range")
            _raise_for_status(response)
            if response.status_code == 206 and offset:
                first, announced = _content_range(response.headers.get("Content-Range"))
                if first != offset or (etag and _strong(response.headers.get("ETag")) != etag):
                    raise _Restart("the resumed answer does not continue the file")
                total = announced if announced is not None else total
            else:
                if offset:  # a whole file where a range was asked for: start again
                    await restart()
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                etag = _strong(response.headers.get("ETag"))
            content_type = response.headers.get("Content-Type", content_type)
            before = sink.received
            try:
                async for piece in response.aiter_raw():
                    await sink.write(piece)
                    if digest is not None:
                        digest.update(piece)
                    if total is not None and sink.received > total:
                        raise DownloadCorrupt("the portal sent more bytes than it announced")
            except httpx.HTTPError as exc:
                outcome, reason = classify(exc, table)
                if outcome is not Outcome.RETRY:
                    raise
                stalls = 0 if sink.received > before else stalls + 1
                resumes += 1
                if resumes > max_resumes or stalls >= policy.max_attempts:
                    raise PortalUnavailable(
                        f"a download kept dropping ({reason}, {resumes} resumptions)"
                    ) from None
                _log.info("download.resume", received=sink.received, reason=reason)
                await sleep(policy.backoff(max(1, stalls)) if stalls else 0)
                continue
        except _Restart as why:
            resumes += 1
            if resumes > max_resumes:
                raise PortalUnavailable(f"a download could not be resumed ({why})") from None
            await restart()
            continue
        finally:
            await response.aclose()
        if total is not None and sink.received < total:
            resumes += 1  # a clean end before the announced length: resume like a drop
            if resumes > max_resumes:
                raise PortalUnavailable("a download kept ending early")
            continue
        break
    size = sink.received
    if total is not None and size != total:
        raise DownloadCorrupt(f"received {size} bytes where the portal announced {total}")
    if expected_size is not None and size != expected_size:
        raise DownloadCorrupt(f"received {size} bytes where the listing gave {expected_size}")
    if checksum is not None and digest is not None and digest.hexdigest() != checksum.hex:
        raise DownloadCorrupt(f"the {checksum.algorithm} checksum does not match")
    return Downloaded(size, content_type, etag, resumes, restarts)
