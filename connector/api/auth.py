"""Bearer tokens for /v1: several accepted at once (rotation), compared in constant time.

The token is checked twice, for two reasons. `BearerTokens`, an ASGI middleware, checks it
before anything reads the request body: without a token, malformed JSON gets a 401, not a 422
that tells an unauthenticated client how the body was parsed. `require_token`, a FastAPI
security dependency, declares the `HTTPBearer` scheme in the OpenAPI document (the Authorize
button in `/docs`, and what generated clients know about authentication) and checks again.
"""

from __future__ import annotations

import hmac
import json

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from vault import Secret

UNAUTHORIZED = "a valid bearer token is required"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="One of the tokens in `api.tokens` (`Authorization: Bearer <token>`).",
)


def token_ok(presented: str, tokens: list[Secret]) -> bool:
    """Every configured token is compared (no early exit), each in constant time."""
    given = presented.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.reveal_bytes())
    return matched


def _authorized(header: str | None, tokens: list[Secret]) -> bool:
    scheme, _, credentials = (header or "").partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(credentials.strip())
        and bool(tokens)
        and token_ok(credentials.strip(), tokens)
    )


async def require_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),  # noqa: B008
) -> None:
    tokens: list[Secret] = request.app.state.settings.api.tokens
    if credentials is None or not tokens or not token_ok(credentials.credentials, tokens):
        raise HTTPException(401, UNAUTHORIZED)


async def check_token(request: Request) -> None:
    """`require_token` as FastAPI runs it for a route: the bearer scheme reads the header, then
    the check (for a handler that solves the route's dependencies itself)."""
    await require_token(request, await bearer_scheme(request))


class BearerTokens:
    """Refuses requests under `prefix` without a valid token before the app reads a byte of
    their body."""

    def __init__(self, app: ASGIApp, *, tokens: list[Secret], prefix: str = "/v1/") -> None:
        self.app = app
        self.tokens = tokens
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path + "/").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if _authorized(Headers(scope=scope).get("authorization"), self.tokens):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": "unauthorized", "message": UNAUTHORIZED}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
