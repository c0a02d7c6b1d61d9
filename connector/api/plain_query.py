"""Query strings read without FastAPI's per-request machinery when every value is plainly valid.

FastAPI validates each query parameter through pydantic and solves the route's dependencies on
every request. For `GET /v1/cases` (nine parameters and the token check) that was 0.2-0.3 ms of
CPU per request, about as much as SQLite's part of a page. A route of class `PlainQueryRoute`
derives a reader from its endpoint's own signature when the route is built (the types and the
`Query` constraints that also make the OpenAPI document) and tries it first. The reader takes
a value only in a form that pydantic accepts as it is and turns into the same value:

- `true` or `false` for a `bool`;
- decimal digits, without a sign or a leading zero, within `ge`/`le`, for an `int`;
- text within `min_length`/`max_length` that matches `pattern` as a whole, for a `str`;
- one of the values of an `Enum`.

Anything else, another spelling (`1`, `yes`, `+5`), a value out of bounds, a parameter whose
type the reader does not judge (a time, a vendor name checked by a validator) being present,
or an app with dependency overrides, sends the request down FastAPI's standard path, which
answers as it always did: every 422 and every coercion comes from there. A parameter that is
absent takes its declared default, as FastAPI does. Unknown parameters are ignored by both.

The route's dependencies are run as FastAPI would run them: the reader is used only when each
is one it knows (`QUICK_DEPENDENCIES`: the bearer-token check), and an endpoint qualifies only
when it takes the request and query parameters alone and returns a `Response` (nothing for
FastAPI to serialize).
"""

from __future__ import annotations

import enum
import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any

import annotated_types
from fastapi import params, routing
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined
from starlette.requests import Request
from starlette.responses import Response

from connector.api.auth import check_token, require_token

#: Dependencies the reader may stand in for, each with what runs it for one request.
QUICK_DEPENDENCIES: dict[Callable[..., Any], Callable[[Request], Awaitable[None]]] = {
    require_token: check_token,
}

#: A value the reader does not take: the request goes the standard way.
_STANDARD = object()
_DIGITS = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class _Parameter:
    name: str
    default: Any = None
    #: The value for a query-string value, or `_STANDARD`; None: any value goes the standard way.
    read: Callable[[str], Any] | None = None
    #: The parameter that takes the request itself (not a query parameter).
    request: bool = False


def _text(lower: int | None, upper: int | None, pattern: str | None) -> Callable[[str], Any]:
    compiled = re.compile(pattern) if pattern is not None else None

    def read(value: str) -> Any:
        if lower is not None and len(value) < lower:
            return _STANDARD
        if upper is not None and len(value) > upper:
            return _STANDARD
        if compiled is not None and compiled.fullmatch(value) is None:
            return _STANDARD
        return value

    return read


def _integer(lower: int | None, upper: int | None) -> Callable[[str], Any]:
    def read(value: str) -> Any:
        if _DIGITS.fullmatch(value) is None:
            return _STANDARD
        number = int(value)
        if (lower is not None and number < lower) or (upper is not None and number > upper):
            return _STANDARD
        return number

    return read


def _flag(value: str) -> Any:
    return {"true": True, "false": False}.get(value, _STANDARD)


def _member(kind: type[enum.Enum]) -> Callable[[str], Any]:
    members = {str(member.value): member for member in kind if isinstance(member.value, str)}

    def read(value: str) -> Any:
        return members.get(value, _STANDARD)

    return read


def _reader(annotation: Any, query: params.Query | None) -> Callable[[str], Any] | None:
    """The reader of one parameter's values; None when it is not one the reader judges."""
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        members = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(members) != 1:
            return None
        annotation = members[0]
    lower: int | None = None
    upper: int | None = None
    pattern: str | None = None
    for rule in query.metadata if query is not None else []:
        bound = getattr(rule, "min_length", getattr(rule, "ge", None))
        if isinstance(rule, annotated_types.MinLen | annotated_types.Ge) and type(bound) is int:
            lower = bound
            continue
        bound = getattr(rule, "max_length", getattr(rule, "le", None))
        if isinstance(rule, annotated_types.MaxLen | annotated_types.Le) and type(bound) is int:
            upper = bound
            continue
        if type(rule).__name__ == "_PydanticGeneralMetadata" and set(vars(rule)) == {"pattern"}:
            pattern = getattr(rule, "pattern")  # noqa: B009 (pydantic's private class)
            continue
        return None  # a rule the reader does not know
    if annotation is str:
        return _text(lower, upper, pattern)
    if pattern is not None:
        return None
    if annotation is int:
        return _integer(lower, upper)
    if lower is not None or upper is not None:
        return None
    if annotation is bool:
        return _flag
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _member(annotation)
    return None


def _parameters(endpoint: Callable[..., Any]) -> list[_Parameter] | None:
    """The endpoint's query parameters as the reader sees them; None when the endpoint does
    not qualify (another kind of parameter, or a return value FastAPI would serialize)."""
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # an annotation that does not resolve: leave the route to FastAPI
        return None
    returned = hints.get("return")
    if not (isinstance(returned, type) and issubclass(returned, Response)):
        return None
    found: list[_Parameter] = []
    for name, parameter in inspect.signature(endpoint).parameters.items():
        annotation = hints.get(name)
        if annotation is Request:
            found.append(_Parameter(name, request=True))
            continue
        query: params.Query | None = None
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extras = typing.get_args(annotation)
            if len(extras) != 1 or type(extras[0]) is not params.Query:
                return None
            query = extras[0]
        default = parameter.default
        if query is not None and default is inspect.Parameter.empty:
            default = query.default
        if (
            default in (inspect.Parameter.empty, PydanticUndefined, Ellipsis)  # required
            or parameter.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD
            or (query is not None and (query.alias, query.validation_alias) != (None, None))
        ):
            return None
        found.append(_Parameter(name, default, _reader(annotation, query)))
    return found


def _dependencies(route: APIRoute) -> list[Callable[[Request], Awaitable[None]]] | None:
    """What stands in for the route's dependencies (None when one of them is not known),
    read from the dependant FastAPI's own handler uses: the route's, or, on FastAPI versions
    that resolve an included router's settings per route, that of its effective context."""
    context_var = getattr(routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    source = context if getattr(context, "original_route", None) is route else route
    dependant = getattr(source, "dependant", None)
    if dependant is None:
        return None
    checks = []
    for dependency in dependant.dependencies:
        check = QUICK_DEPENDENCIES.get(dependency.call)
        if check is None:
            return None
        checks.append(check)
    return checks


class PlainQueryRoute(APIRoute):
    """An `APIRoute` whose handler reads plainly valid query strings itself (module docstring)
    and leaves every other request to FastAPI's standard handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        found = _parameters(self.endpoint)
        checks = _dependencies(self)
        if found is None or checks is None:
            return standard
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint
        request_names = [p.name for p in found if p.request]
        query = [p for p in found if not p.request]

        async def handler(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await standard(request)
            given = request.query_params
            values: dict[str, Any] = {name: request for name in request_names}
            for parameter in query:
                text = given.get(parameter.name)
                if text is None:
                    values[parameter.name] = parameter.default
                    continue
                value = _STANDARD if parameter.read is None else parameter.read(text)
                if value is _STANDARD:
                    return await standard(request)
                values[parameter.name] = value
            for check in checks:
                await check(request)
            return await endpoint(**values)

        return handler
