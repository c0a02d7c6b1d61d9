"""Reading portal responses defensively: what is not the expected JSON is a typed error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from adapters.base.errors import PortalChanged, SessionExpired


def expect_json(
    response: httpx.Response,
    what: str,
    *,
    is_login_page: Callable[[httpx.Response], bool] | None = None,
) -> Any:
    """The JSON body of `response`, or:

    - `SessionExpired` when the portal answered with its login page (many portals answer an
      expired session with a 200 or a redirect to the login form rather than a 401);
    - `PortalChanged` when the body is HTML or malformed JSON: the portal no longer speaks the
      format this adapter knows, and guessing would risk storing wrong data.
    """
    if response.is_redirect or (is_login_page is not None and is_login_page(response)):
        raise SessionExpired(f"the portal sent the login page instead of {what}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise PortalChanged(f"{what}: expected JSON, got {content_type}")
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PortalChanged(f"{what}: the response is not valid JSON") from None
