"""`__VIEWSTATE` and `__EVENTVALIDATION`, as ASP.NET WebForms signs them.

A page writes what it needs to remember between postbacks into `__VIEWSTATE`, and the controls
a postback may name (event targets with their arguments, drop-down values, submit buttons) into
`__EVENTVALIDATION`. Both are signed with a per-process key over the page's path and the
signed-in user (ASP.NET's `ViewStateUserKey`), so a value taken from another page, from before
the sign-in or from another user does not verify. The portal answers such a postback with its
error page (HTTP 500, "Validation of viewstate MAC failed." / "Invalid postback or callback
argument."), before it acts on anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

VIEWSTATE = "__VIEWSTATE"
EVENTVALIDATION = "__EVENTVALIDATION"
EVENTTARGET = "__EVENTTARGET"
EVENTARGUMENT = "__EVENTARGUMENT"

_MAC = 20


class Signer:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, kind: str, page: str, user: str | None, payload: bytes) -> bytes:
        message = b"\x00".join((kind.encode(), page.lower().encode(), (user or "").encode()))
        return hmac.new(self._key, message + b"\x00" + payload, hashlib.sha256).digest()[:_MAC]

    def sign(self, kind: str, page: str, user: str | None, value: Any) -> str:
        payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        mac = self._mac(kind, page, user, payload)
        return base64.b64encode(payload + mac).decode()

    def open(self, kind: str, page: str, user: str | None, text: str | None) -> Any:
        """The signed value, or None when it is missing or does not verify."""
        if not text:
            return None
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
        payload, mac = raw[:-_MAC], raw[-_MAC:]
        if len(raw) <= _MAC or not hmac.compare_digest(mac, self._mac(kind, page, user, payload)):
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return None


class Controls:
    """What one rendering of a page allows a postback to name (its event validation)."""

    def __init__(self) -> None:
        self.allowed: dict[str, list[str]] = {}

    def event(self, target: str, argument: str = "") -> str:
        """Register a `__doPostBack(target, argument)` link; returns the `href` to render."""
        self.allowed.setdefault(target, []).append(argument)
        return f"javascript:__doPostBack('{target}','{argument}')"

    def select(self, name: str, values: Sequence[str]) -> None:
        """A drop-down that posts back: each option value is allowed, and its own name as a
        target (the auto-postback)."""
        self.allowed.setdefault(name, []).extend(values)
        self.allowed.setdefault(f"{EVENTTARGET}:{name}", []).append("")

    def button(self, name: str) -> None:
        self.allowed.setdefault(name, []).append("*")

    def text(self, name: str) -> None:
        self.allowed.setdefault(name, []).append("*")


def postback_valid(allowed: Mapping[str, list[str]], form: Mapping[str, str]) -> bool:
    """ASP.NET's event validation: the event target (with its argument), every posted
    drop-down value and every posted button must be ones the page rendered."""
    target = form.get(EVENTTARGET, "")
    argument = form.get(EVENTARGUMENT, "")
    if target:
        by_link = argument in allowed.get(target, []) and "*" not in allowed.get(target, [])
        by_select = "" in allowed.get(f"{EVENTTARGET}:{target}", []) and argument == ""
        if not (by_link or by_select):
            return False
    for name, value in form.items():
        if name.startswith("__") or name not in allowed:
            continue
        values = allowed[name]
        if "*" not in values and value not in values:
            return False
    return True


def posted_controls(allowed: Mapping[str, list[str]], form: Mapping[str, str]) -> set[str]:
    """The buttons (and text boxes) of this page that the postback carries."""
    return {name for name in form if "*" in allowed.get(name, [])}
