"""The shared download piece: resumes with Range after a dropped connection, restarts when the
portal ignores Range or the file changed, verifies size and checksum, maps answers to typed
errors, and retries under the one policy. Against respx and against a local file server that
drops connections at random bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

from adapters.base import (
    Checksum,
    DownloadCorrupt,
    FilesUnavailable,
    NotFound,
    PortalUnavailable,
    SessionExpired,
)
from adapters.http import fetch_to_sink
from sandbox.common.server import serve
from tests.files.fileserver import FileServer
from tests.files.support import FAST, MemorySink, sha, write_files

BASE = "https://portal.test"
URL = f"{BASE}/files/upper.stl"
DATA = os.urandom(300_000)
ETAG = '"v1"'


class Broken(httpx.AsyncByteStream):
    """A body that stops after `fail_at` bytes with a dropped connection."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        self.data = data
        self.fail_at = fail_at

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data[: self.fail_at]
        raise httpx.ReadError("connection reset by peer")


def whole(data: bytes = DATA, etag: str = ETAG) -> httpx.Response:
    return httpx.Response(200, content=data, headers={"ETag": etag})


def dropped(data: bytes, fail_at: int, *, status: int = 200, first: int = 0) -> httpx.Response:
    headers = {"ETag": ETAG, "Content-Length": str(len(data))}
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{first + len(data) - 1}/{len(DATA)}"
    return httpx.Response(status, stream=Broken(data, fail_at), headers=headers)


def partial(first: int, etag: str = ETAG) -> httpx.Response:
    return httpx.Response(
        206,
        content=DATA[first:],
        headers={"ETag": etag, "Content-Range": f"bytes {first}-{len(DATA) - 1}/{len(DATA)}"},
    )


@pytest.fixture(autouse=True)
def _mock_in_httpcore(monkeypatch: pytest.MonkeyPatch) -> None:
    """These clients use httpx's own transport: respx's httpcore mocker replays a body that
    breaks half-way faithfully (the httpx-level mocker would hand the same stream out twice)."""
    monkeypatch.setattr(respx.mocks, "DEFAULT_MOCKER", "httpcore")


async def no_sleep(_: float) -> None:
    return None


async def fetch(sink: MemorySink, **kwargs: object) -> object:
    async with httpx.AsyncClient() as client:
        return await fetch_to_sink(
            client,
            URL,
            sink,
            policy=FAST,
            sleep=no_sleep,
            **kwargs,  # type: ignore[arg-type]
        )


@respx.mock
async def test_a_dropped_connection_resumes_with_range_and_if_range() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return dropped(DATA, 100_000)
        if len(seen) == 2:
            return dropped(DATA[100_000:], 50_000, status=206, first=100_000)
        return partial(150_000)

    respx.get(URL).mock(side_effect=answer)
    sink = MemorySink()
    checksum = Checksum("sha256", hashlib.sha256(DATA).hexdigest())
    result = await fetch(sink, expected_size=len(DATA), checksum=checksum)
    assert bytes(sink.data) == DATA
    assert [r.headers.get("Range") for r in seen] == [None, "bytes=100000-", "bytes=150000-"]
    assert all(r.headers["If-Range"] == ETAG for r in seen[1:])
    assert all(r.headers["Accept-Encoding"] == "identity" for r in seen)
    assert result.resumes == 2 and result.restarts == 0  # type: ignore[attr-defined]


@respx.mock
async def test_a_portal_that_ignores_range_restarts_from_byte_zero() -> None:
    answers = iter([dropped(DATA, 120_000), whole()])
    respx.get(URL).mock(side_effect=lambda request: next(answers))
    sink = MemorySink()
    result = await fetch(sink, checksum=Checksum("sha256", sha(DATA)))
    assert bytes(sink.data) == DATA and sink.restarts == 1
    assert result.restarts == 1  # type: ignore[attr-defined]


@respx.mock
async def test_a_file_changed_between_requests_restarts() -> None:
    new = os.urandom(len(DATA))
    answers = iter([dropped(DATA, 10_000), whole(new, '"v2"')])
    respx.get(URL).mock(side_effect=lambda request: next(answers))
    sink = MemorySink()
    await fetch(sink)
    assert bytes(sink.data) == new


@respx.mock
async def test_a_206_with_another_etag_restarts() -> None:
    answers = iter([dropped(DATA, 10_000), partial(10_000, '"v2"'), whole()])
    respx.get(URL).mock(side_effect=lambda request: next(answers))
    sink = MemorySink()
    await fetch(sink)
    assert bytes(sink.data) == DATA and sink.restarts == 1


@respx.mock
async def test_checksum_and_size_mismatches_are_corrupt() -> None:
    respx.get(URL).mock(side_effect=lambda request: whole())
    with pytest.raises(DownloadCorrupt, match="sha256"):
        await fetch(MemorySink(), checksum=Checksum("sha256", "0" * 64))
    with pytest.raises(DownloadCorrupt, match="listing"):
        await fetch(MemorySink(), expected_size=len(DATA) + 1)
    md5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    sink = MemorySink()
    await fetch(sink, checksum=Checksum("md5", md5))
    assert bytes(sink.data) == DATA


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, SessionExpired), (403, FilesUnavailable), (404, NotFound), (410, NotFound)],
)
@respx.mock
async def test_answers_map_to_typed_errors(status: int, error: type[Exception]) -> None:
    respx.get(URL).mock(return_value=httpx.Response(status))
    with pytest.raises(error):
        await fetch(MemorySink())


@respx.mock
async def test_server_errors_are_retried_under_the_one_policy() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429), whole()])
    route = respx.get(URL).mock(side_effect=lambda request: next(answers))
    sink = MemorySink()
    await fetch(sink)
    assert bytes(sink.data) == DATA and route.call_count == 3


@respx.mock
async def test_a_connection_that_keeps_dropping_without_progress_gives_up() -> None:
    answers = iter([dropped(DATA, 1000)] + [dropped(DATA[1000:], 0, status=206, first=1000)] * 20)
    respx.get(URL).mock(side_effect=lambda request: next(answers))
    with pytest.raises(PortalUnavailable, match="kept dropping"):
        await fetch(MemorySink())


@respx.mock
async def test_a_redirect_to_a_file_host_is_followed_and_the_adapter_can_veto() -> None:
    respx.get(URL).mock(
        return_value=httpx.Response(302, headers={"Location": "https://cdn.test/x/upper.stl"})
    )
    respx.get("https://cdn.test/x/upper.stl").mock(return_value=whole())
    sink = MemorySink()
    await fetch(sink)
    assert bytes(sink.data) == DATA

    def login_page(response: httpx.Response) -> None:
        if "cdn.test" in response.headers.get("Location", ""):
            raise SessionExpired("redirected to the login page")

    with pytest.raises(SessionExpired):
        await fetch(MemorySink(), check=login_page)


# --- against a local file server dropping connections at random bytes ------------------------


@pytest.mark.parametrize("ranges", [True, False])
async def test_random_drops_end_byte_identical(tmp_path: Path, ranges: bool) -> None:
    made = write_files(tmp_path, {"a.stl": 2_500_000, "b.pdf": 700_001, "c.stl": 0, "d.jpg": 1})
    app = FileServer(tmp_path, ranges=ranges, drop_rate=0.6, seed=7)
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            for name, data in made.items():
                sink = MemorySink()
                result = await fetch_to_sink(
                    client,
                    f"/files/{name}",
                    sink,
                    expected_size=len(data),
                    checksum=Checksum("sha256", sha(data)),
                    policy=FAST,
                    max_resumes=200,
                )
                assert sha(bytes(sink.data)) == sha(data), name
                assert result.size == len(data)
    resumed = [r for r in app.requests if r[1] is not None]
    assert bool(resumed) is ranges  # resumptions asked for a range only where offered


async def test_a_drop_at_a_chosen_byte_resumes_there(tmp_path: Path) -> None:
    made = write_files(tmp_path, {"upper.stl": 1_000_000})
    app = FileServer(tmp_path, drop_at={"upper.stl": [123_457, 800_000]})
    with serve(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sink = MemorySink()
            await fetch_to_sink(client, "/files/upper.stl", sink, policy=FAST)
    assert bytes(sink.data) == made["upper.stl"]
    assert [r[2] for r in app.requests] == [0, 123_457, 800_000]
