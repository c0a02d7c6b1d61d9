"""ClearCorrect's own admin routes under `/__sandbox/` (mounted before the shared ones, only
with `admin=True`): the site variant and each login's profile language, per seed and at run
time.

- `POST /__sandbox/seed` takes, besides `practices`, `cases` and `seed`, an optional `variant`
  (`webforms` or `aspnetcore-json`), `json_api` (the WebForms site also answers the JSON API)
  and `language` (`en`, `de`, `pl` or null: every login's profile language).
- `GET|PUT /__sandbox/variant` `{variant, json_api}` reads or switches the site (sessions end).
- `PUT /__sandbox/logins/{username}/language` `{language}` sets one login's profile language.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect.portal import ClearCorrectPortal
from sandbox.common.faults import ADMIN_PREFIX

_MISSING = object()


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _number(data: dict[str, Any], key: str, default: int, high: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise ValueError(f"{key} must be an integer from 0 to {high}")
    return value


def _flag(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _language(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("language must be a language code or null")
    return value


def clearcorrect_admin_routes(portal: ClearCorrectPortal) -> list[Route]:
    async def seed(request: Request) -> Response:
        try:
            data = await _body(request)
            variant = data.get("variant")
            if variant is not None and not isinstance(variant, str):
                raise ValueError("variant must be a text")
            result = portal.seed(
                practices=_number(data, "practices", 3, 10_000),
                cases=_number(data, "cases", 10, 100_000),
                seed=_number(data, "seed", 1, 2**31),
                variant=variant,
                language=_language(data.get("language")),
                json_api=_flag(data, "json_api"),
            )
        except ValueError as exc:
            return _error(str(exc))
        return JSONResponse(result)

    async def variant(request: Request) -> Response:
        if request.method == "PUT":
            try:
                data = await _body(request)
                name = data.get("variant", portal.variant)
                if not isinstance(name, str):
                    raise ValueError("variant must be a text")
                json_api = _flag(data, "json_api")
                portal.set_variant(name)
                if json_api is not None:
                    portal.json_api = json_api
            except ValueError as exc:
                return _error(str(exc))
        return JSONResponse({"variant": portal.variant, "json_api": portal.json_api})

    async def language(request: Request) -> Response:
        try:
            data = await _body(request)
            if "language" not in data:
                raise ValueError("language is required (a language code or null)")
            found = portal.set_language(
                request.path_params["username"], _language(data["language"])
            )
        except ValueError as exc:
            return _error(str(exc))
        if not found:
            return _error("no such login", 404)
        return JSONResponse({"language": data["language"]})

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/seed", seed, methods=["POST"]),
        Route(f"{p}/variant", variant, methods=["GET", "PUT"]),
        Route(f"{p}/logins/{{username}}/language", language, methods=["PUT"]),
    ]
