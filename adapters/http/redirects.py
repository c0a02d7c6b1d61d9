"""Following a page's redirects one hop at a time, so a caller sees every host and path the
portal sends it through (a check of the sign-in's redirects, without a session)."""

from __future__ import annotations

import httpx

from adapters.http.policy import DEFAULT_POLICY, RetryPolicy, send

#: More hops than any sign-in chain needs; a loop stops here.
MAX_HOPS = 8


async def redirect_chain(
    client: httpx.AsyncClient, url: str, *, policy: RetryPolicy = DEFAULT_POLICY
) -> list[httpx.Response]:
    """The GETs from `url` until a page that is not a redirect (or `MAX_HOPS`), each under the
    retry policy; the bodies are read."""
    chain: list[httpx.Response] = []
    for _ in range(MAX_HOPS):
        response = await send(client, "GET", url, policy=policy, headers={"Accept": "text/html"})
        await response.aread()
        chain.append(response)
        if not response.is_redirect:
            break
        url = str(response.url.join(response.headers.get("location", "")))
    return chain
