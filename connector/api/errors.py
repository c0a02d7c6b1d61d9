"""API errors: always `{"error": {"code", "message"}}`, never an echo of what was submitted.

FastAPI's default 422 answer repeats the input it could not validate, a password included; it is
replaced here by a message that names the fields only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from connector.errors import ConflictError, ConnectorError, InputError, NotFoundError

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no case case_01j..."])


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    body = {"error": {"code": code or _STATUS_CODES.get(status, "error"), "message": message}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    """Names the fields and what is wrong, without the submitted values.

    A field we do not know is not named either: its name is the client's input too, and a
    client can put anything in a key (a password included).
    """
    described = []
    for error in errors[:5]:
        kind = error.get("type")
        if kind == "extra_forbidden":
            described.append("a field that is not accepted was sent")
            continue
        if kind == "json_invalid":
            described.append("the body is not valid JSON")
            continue
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        described.append(f"{_field(tuple(error.get('loc', ())))}: {message}")
    return "; ".join(dict.fromkeys(described)) or "the request is invalid"


def _routes(app: FastAPI) -> Iterable[Any]:
    """Every route with its full path: FastAPI 0.16x nests included routers as entries of
    `app.routes` (whose own `matches` sees no path); older versions copy their routes in."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before nested routers
        return list(app.router.routes)
    return list(iter_route_contexts(app.router.routes))


@lru_cache(maxsize=256)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this request's path, for a 405's `Allow` header."""
    methods: set[str] = set()
    for route in _routes(request.app):
        path, route_methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and route_methods and _path_regex(path).match(request.url.path):
            methods |= set(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(422, validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        response = error_response(exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return error_response(409, str(exc))

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(ConnectorError)
    async def _connector(request: Request, exc: ConnectorError) -> JSONResponse:
        return error_response(400, str(exc))


#: What every /v1 route may answer besides success (declared in the OpenAPI document).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8)."},
    401: {"model": ErrorResponse, "description": "Missing or wrong bearer token."},
    413: {"model": ErrorResponse, "description": "The body is larger than the API accepts."},
    422: {"model": ErrorResponse, "description": "The request does not validate."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such resource."}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Conflicts with what is stored."}
}
