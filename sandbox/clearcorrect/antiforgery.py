"""Anti-forgery tokens, ASP.NET Core style: a cookie token plus a request token bound to it.

The browser holds a random *cookie token* in `.AspNetCore.Antiforgery.<suffix>` (HttpOnly).
Forms carry a *request token* in the hidden `__RequestVerificationToken` field; the page
script sends one in the `RequestVerificationToken` header, read from the
`<meta name="request-verification-token">` of app pages or from the `XSRF-TOKEN` cookie. A
request token is an HMAC over the cookie token and the signed-in user, so a token taken from
the login page (anonymous) is refused once signed in, as ASP.NET refuses a token "meant for a
different claims-based user". Refused requests get 400, like `[ValidateAntiForgeryToken]`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

COOKIE = ".AspNetCore.Antiforgery.Q5hN2ktDqvY"
FORM_FIELD = "__RequestVerificationToken"
HEADER = "RequestVerificationToken"
XSRF_COOKIE = "XSRF-TOKEN"
META_NAME = "request-verification-token"

_PREFIX = "CfDJ8"
_NONCE = 12
_MAC = 20


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Antiforgery:
    """Issues and checks tokens with a per-process key (tokens die with the server)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def new_cookie_token(self) -> str:
        return _PREFIX + secrets.token_urlsafe(48)

    def request_token(self, cookie_token: str, username: str | None) -> str:
        nonce = secrets.token_bytes(_NONCE)
        return _PREFIX + _b64(nonce + self._mac(nonce, cookie_token, username))

    def valid(
        self, cookie_token: str | None, request_token: str | None, username: str | None
    ) -> bool:
        if not cookie_token or not request_token or not request_token.startswith(_PREFIX):
            return False
        try:
            raw = _unb64(request_token[len(_PREFIX) :])
        except (binascii.Error, ValueError):
            return False
        if len(raw) != _NONCE + _MAC:
            return False
        nonce, mac = raw[:_NONCE], raw[_NONCE:]
        return hmac.compare_digest(mac, self._mac(nonce, cookie_token, username))

    def _mac(self, nonce: bytes, cookie_token: str, username: str | None) -> bytes:
        message = nonce + cookie_token.encode() + b"\x00" + (username or "").encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC]
