"""The portal client's cookie path sends exactly what httpx's own client would send.

`PortalClient` skips httpx's per-request jar copies and its Set-Cookie parsing of answers that
set none; over any sequence of answers and requests it must send the same `Cookie` headers as
a plain `httpx.AsyncClient` fed the same answers.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http.client import DEFAULT_TIMEOUT, PortalClient, make_client

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


Cookie = tuple[str, str, str | None, bool]
Step = tuple[str, list[Cookie]]


async def cookie_headers(client: httpx.AsyncClient, steps: list[Step]) -> list[str | None]:
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
async def test_the_same_cookies_are_sent_as_by_httpx(steps: list[Step]) -> None:
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
    # PortalClient relies on private parts of httpx 0.28; a new httpx must be checked.
    assert httpx.__version__.startswith("0.28.")
    for name in ("_merge_cookies", "_merge_headers", "_transport_for_url", "_set_timeout"):
        assert callable(getattr(httpx.AsyncClient, name, None)), name
    assert hasattr(httpx.URL("https://portal.test/")._uri_reference, "_replace")


# Paths as adapters build them, and the characters httpx quotes, normalises or refuses.
path_text = st.lists(
    st.one_of(
        st.sampled_from(["api", "cases", "7", "detail", "case.aspx", ".", "..", "%41", "%zz"]),
        st.text(
            alphabet="aZ09-._~!$&'()*+,;=:@/%?# \u00e9\u0142\"<>[]{}|^`", min_size=0, max_size=6
        ),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "/" + "/".join(parts))
params = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["page", "pageSize", "q", "ä"]), st.text(max_size=4)),
)
extra_headers = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["Accept", "X-Requested-With", "Cookie", "RequestVerificationToken"]),
        st.text("abc=; ", min_size=1, max_size=6),
        max_size=2,
    ),
)
base_url = st.sampled_from(
    ["https://portal.test", "https://portal.test/", "http://127.0.0.1:8080", "https://p.test/x/"]
)


def sent(request: httpx.Request) -> tuple[str, str, list[tuple[str, str]], bytes, object]:
    return (
        request.method,
        str(request.url),
        request.headers.multi_items(),
        request.read(),
        request.extensions,
    )


@settings(max_examples=150, deadline=None)
@given(
    base_url,
    st.sampled_from(["GET", "HEAD", "DELETE", "POST"]),
    path_text,
    params,
    extra_headers,
    st.lists(cookie, max_size=3),
)
async def test_requests_are_built_as_httpx_builds_them(
    base: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    headers: dict[str, str] | None,
    cookies: list[Cookie],
) -> None:
    async with (
        make_client(base) as ours,
        httpx.AsyncClient(base_url=base, timeout=DEFAULT_TIMEOUT) as plain,
    ):
        ours.headers = plain.headers = {"User-Agent": "t"}
        # The same cookies in both jars, set by an answer; then two requests (the second is
        # the one a warm cache answers).
        answer = [("Set-Cookie", set_cookie(*c)) for c in cookies]
        for client in (ours, plain):
            with respx.mock(using="httpx") as router:
                router.route().mock(return_value=httpx.Response(200, headers=answer))
                await client.get("/")
        for _ in range(2):
            try:
                expected = sent(plain.build_request(method, path, params=query, headers=headers))
            except (httpx.InvalidURL, UnicodeEncodeError) as refused:
                with pytest.raises(type(refused)):
                    ours.build_request(method, path, params=query, headers=headers)
                return
            assert sent(ours.build_request(method, path, params=query, headers=headers)) == expected


answers = st.tuples(
    st.sampled_from([200, 204, 301, 302, 303, 307, 404, 500]),
    st.sampled_from([None, "/next", "https://elsewhere.test/x", "relative"]),
    st.lists(cookie, max_size=2),
    st.binary(max_size=20),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(answers, min_size=1, max_size=4), st.booleans())
async def test_answers_come_back_as_httpx_gives_them(
    steps: list[tuple[int, str | None, list[Cookie], bytes]], streamed: bool
) -> None:
    async with (
        make_client(BASE) as ours,
        httpx.AsyncClient(base_url=BASE, timeout=DEFAULT_TIMEOUT) as plain,
    ):
        ours.headers = plain.headers = {"User-Agent": "t"}
        seen: list[list[object]] = [[], []]
        for index, client in enumerate((ours, plain)):
            for status, location, cookies, body in steps:
                headers = [("Set-Cookie", set_cookie(*c)) for c in cookies]
                if location is not None:
                    headers.append(("Location", location))
                with respx.mock(using="httpx") as router:
                    router.route().mock(
                        return_value=httpx.Response(status, headers=headers, content=body)
                    )
                    request = client.build_request("GET", "/api/cases/7")
                    response = await client.send(request, stream=streamed)
                    content = await response.aread()
                    await response.aclose()
                next_request = response.next_request
                seen[index].append(
                    (
                        response.status_code,
                        response.headers.multi_items(),
                        content,
                        response.request is request,
                        response.history,
                        None if next_request is None else sent(next_request),
                        response.encoding,
                        jar(client),
                    )
                )
        assert seen[0] == seen[1]


async def test_a_transport_error_names_its_request() -> None:
    async with make_client(BASE) as client:
        with respx.mock(using="httpx") as router:
            router.get(f"{BASE}/api/cases/7").mock(side_effect=httpx.ConnectError("refused"))
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get("/api/cases/7")
        assert caught.value.request.url == f"{BASE}/api/cases/7"


@pytest.mark.parametrize("path", ["/", "/api/cases/7"])
async def test_an_answer_without_set_cookie_leaves_the_jar_alone(path: str) -> None:
    async with make_client(BASE) as client:
        client.cookies.set("sid", "1", domain="portal.test")
        with respx.mock(using="httpx") as router:
            router.get(f"{BASE}{path}").respond(200)
            await client.get(path)
        assert dict(client.cookies) == {"sid": "1"}


async def test_requests_follow_the_client_headers_as_they_change() -> None:
    """The lean path reuses the header lines of the last request; a change to the client's
    headers, in place or replaced, or another method, is seen by the next request."""
    async with (
        make_client(BASE) as ours,
        httpx.AsyncClient(base_url=BASE, timeout=DEFAULT_TIMEOUT) as plain,
    ):
        ours.headers = plain.headers = {"User-Agent": "t"}
        for client in (ours, plain):
            client.cookies.set("sid", "1", domain="portal.test")
        changes: list[Callable[[httpx.AsyncClient], object]] = [
            lambda c: None,
            lambda c: c.headers.__setitem__("Accept", "application/json"),
            lambda c: setattr(c, "headers", {"User-Agent": "u", "X-Requested-With": "x"}),
            lambda c: c.headers.__setitem__("Cookie", "mine=1"),
            lambda c: c.headers.__delitem__("Cookie"),
        ]
        for change in changes:
            change(ours)
            change(plain)
            for method in ("GET", "GET", "DELETE", "POST", "POST", "GET"):
                expected = sent(plain.build_request(method, "/api/cases/7"))
                assert sent(ours.build_request(method, "/api/cases/7")) == expected
