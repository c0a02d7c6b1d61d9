"""The portal client's cookie path sends exactly what httpx's own client would send.

`PortalClient` skips httpx's per-request jar copies and its Set-Cookie parsing of answers that
set none; over any sequence of answers and requests it must send the same `Cookie` headers as
a plain `httpx.AsyncClient` fed the same answers.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http.client import PortalClient, make_client

BASE = "https://portal.test"
PATHS = ["/", "/api/cases", "/api/cases/7", "/Identity/Account/Login", "/detail/case.aspx"]
COOKIE_PATHS = [None, "/", "/api", "/Identity"]

cookie = st.tuples(
    st.sampled_from(["sid", ".AspNetCore.Antiforgery", "XSRF-TOKEN", "lang"]),
    st.text("abcdef0123456789", min_size=1, max_size=8),
    st.sampled_from(COOKIE_PATHS),
    st.booleans(),  # expired at once (the portal deleting it)
)
step = st.tuples(st.sampled_from(PATHS), st.lists(cookie, max_size=2))


def set_cookie(name: str, value: str, path: str | None, expired: bool) -> str:
    parts = [f"{name}={value}"]
    if path is not None:
        parts.append(f"Path={path}")
    if expired:
        parts.append("Max-Age=0")
    return "; ".join(parts)


async def cookie_headers(client: httpx.AsyncClient, steps: list[tuple[str, list]]) -> list:
    """The Cookie header of each request, the answers setting the steps' cookies."""
    sent: list[str | None] = []
    with respx.mock(using="httpx") as router:
        for path, cookies in steps:
            headers = [("Set-Cookie", set_cookie(*c)) for c in cookies]
            router.get(f"{BASE}{path}").mock(return_value=httpx.Response(200, headers=headers))
            response = await client.get(path)
            sent.append(response.request.headers.get("Cookie"))
            router.routes.clear()
    return sent


@settings(max_examples=60, deadline=None)
@given(st.lists(step, min_size=1, max_size=8))
async def test_the_same_cookies_are_sent_as_by_httpx(steps: list[tuple[str, list]]) -> None:
    async with make_client(BASE) as ours, httpx.AsyncClient(base_url=BASE) as plain:
        assert isinstance(ours, PortalClient)
        assert await cookie_headers(ours, steps) == await cookie_headers(plain, steps)
        assert jar(ours) == jar(plain)


def jar(client: httpx.AsyncClient) -> list[tuple[str, str | None, str]]:
    return sorted((c.name, c.value, c.path) for c in client.cookies.jar)


@pytest.mark.filterwarnings("ignore:Setting per-request cookies:DeprecationWarning")
async def test_per_request_cookies_and_a_restored_jar_are_sent() -> None:
    restored = httpx.Cookies()
    restored.set("sid", "saved", domain="portal.test", path="/")
    async with make_client(BASE, cookies=restored) as client:
        with respx.mock(using="httpx") as router:
            route = router.get(f"{BASE}/api/cases").respond(200)
            await client.get("/api/cases")
            client.cookies = {"lang": "de"}  # replaced, as a session restore does
            await client.get("/api/cases", cookies={"extra": "1"})
        assert route.calls[0].request.headers["Cookie"] == "sid=saved"
        assert route.calls[1].request.headers["Cookie"] == "lang=de; extra=1"
        assert dict(client.cookies) == {"lang": "de"}  # a per-request cookie is not kept


def test_the_httpx_hook_it_relies_on_is_still_there() -> None:
    # PortalClient overrides a private method of httpx 0.28; a new httpx must be checked.
    assert httpx.__version__.startswith("0.28.")
    assert callable(getattr(httpx.AsyncClient, "_merge_cookies", None))


@pytest.mark.parametrize("path", ["/", "/api/cases/7"])
async def test_an_answer_without_set_cookie_leaves_the_jar_alone(path: str) -> None:
    async with make_client(BASE) as client:
        client.cookies.set("sid", "1", domain="portal.test")
        with respx.mock(using="httpx") as router:
            router.get(f"{BASE}{path}").respond(200)
            await client.get(path)
        assert dict(client.cookies) == {"sid": "1"}
