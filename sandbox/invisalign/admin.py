"""The Invisalign sandbox's own admin routes under `/__sandbox/` (beside the shared ones):
which variant of the site it shows, whether the guessed JSON API answers, and each login's
profile language. Like the shared admin API, they exist only when the sandbox runs with `admin`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.common.faults import ADMIN_PREFIX
from sandbox.invisalign.portal import InvisalignPortal


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def site_admin_routes(portal: InvisalignPortal) -> list[Route]:
    async def site(request: Request) -> Response:
        """GET the site settings; PUT {variant?, json_api?} to change them."""
        if request.method == "PUT":
            try:
                portal.site.update(await _body(request))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(portal.site.to_json())

    async def language(request: Request) -> Response:
        """PUT {language: "en" | "de" | "pl" | "ko" | null}: one login's profile language."""
        try:
            value = (await _body(request)).get("language")
            if value is not None and not isinstance(value, str):
                raise ValueError("language must be a string or null")
            found = portal.set_language(request.path_params["username"], value)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not found:
            return JSONResponse({"error": "no such login"}, status_code=404)
        return JSONResponse({"username": request.path_params["username"], "language": value})

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/site", site, methods=["GET", "PUT"]),
        Route(f"{p}/logins/{{username}}/language", language, methods=["PUT"]),
    ]
