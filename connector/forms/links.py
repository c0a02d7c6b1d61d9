"""Form links and where they lead back to.

A form link carries a random token of 256 bits; only its SHA-256 is stored, so a copy of the
database opens no form. (A plain hash suffices for a random token: there is nothing to guess.)

A `return_url` must match `forms.return_url_allowlist`: an entry without a path (an origin)
admits any URL of that origin; an entry with a path admits that path and what lies under it.
Matching compares the parsed scheme, host and port, never a string prefix of the whole URL, so
`https://tps.example.com.evil.example` does not pass for `https://tps.example.com`, and paths
with dot segments (which browsers resolve out of the allowed prefix) are refused.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from connector.errors import InputError

TOKEN_BYTES = 32
MAX_RETURN_URL = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DOT_SEGMENT = re.compile(r"^(?:\.|%2e){1,2}$", re.IGNORECASE)
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\<>\"'`]")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def form_path(base_path: str, token: str, action: str = "") -> str:
    suffix = f"/{action}" if action else ""
    return f"{base_path}/forms/{quote(token, safe='')}{suffix}"


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    return scheme, host.lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme, 0)


def _path_allowed(path: str, prefix: str) -> bool:
    if prefix in ("", "/"):
        return True
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def check_return_url(url: str, allowlist: list[str]) -> str:
    """The URL when it is an absolute http(s) URL the allow-list admits; else `InputError`
    (whose message never repeats the URL)."""
    if not allowlist:
        raise InputError("return_url is not accepted: forms.return_url_allowlist is empty")
    if len(url) > MAX_RETURN_URL or _UNSAFE.search(url):
        raise InputError("return_url must be a plain absolute URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InputError("return_url is not a valid URL") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InputError("return_url must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InputError("return_url must not contain a user name")
    segments = parts.path.split("/")
    if any(_DOT_SEGMENT.match(segment) for segment in segments):
        raise InputError("return_url must not contain . or .. path segments")
    origin = _origin(parts.scheme, parts.hostname, port)
    for entry in allowlist:
        allowed = urlsplit(entry)
        if allowed.hostname is None:
            continue
        if _origin(allowed.scheme, allowed.hostname, allowed.port) != origin:
            continue
        if _path_allowed(parts.path or "/", allowed.path):
            return url
    raise InputError("return_url is not in forms.return_url_allowlist")


def return_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def return_target(url: str, account_id: str | None, status: str) -> str:
    """The return URL with `account_id` and `status` added to its query (replacing any given)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k not in ("account_id", "status")]
    if account_id is not None:
        query.append(("account_id", account_id))
    query.append(("status", status))
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote), parts.fragment)
    )
