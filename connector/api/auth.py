"""Bearer tokens for /v1: several accepted at once (rotation), compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from vault import Secret

_bearer = HTTPBearer(auto_error=False, description="A token from `api.tokens`.")


def token_ok(presented: str, tokens: list[Secret]) -> bool:
    """Every configured token is compared (no early exit), each in constant time."""
    given = presented.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given, token.reveal_bytes())
    return matched


async def require_token(request: Request) -> None:
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    tokens: list[Secret] = request.app.state.settings.api.tokens
    if credentials is None or not tokens or not token_ok(credentials.credentials, tokens):
        raise HTTPException(401, "a valid bearer token is required")
