"""The admin API under `/__sandbox/`, identical for every portal.

Real portals have nothing like it; tests, the demo and benchmarks use it to seed data, move the
virtual clock, switch faults on, read the mailbox and check what clients did. It is mounted only
when the sandbox is started with `admin=True`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.common.faults import ADMIN_PREFIX, Faults
from sandbox.common.recorder import Recorder


class AdminPortal(Protocol):
    """What a vendor portal exposes to the admin API."""

    vendor: str
    faults: Faults
    recorder: Recorder

    def seed(self, practices: int, cases: int, seed: int) -> dict[str, Any]:
        """Replace all data, sessions, counters, posts, mail and faults by a fresh generation."""
        ...

    def tick(self, steps: int) -> dict[str, Any]:
        """Advance the virtual clock `steps` times; return {tick, clock, changes}."""
        ...

    def dump(self) -> dict[str, Any]:
        """The full state: every login, doctor, case, setup and comment as the portal holds it."""
        ...

    def changes(self, since_tick: int) -> list[dict[str, Any]]:
        """The log of ticks after `since_tick`: [{tick, clock, changes: [...]}]."""
        ...

    def mailbox(self, to: str | None) -> list[dict[str, Any]]: ...

    def unlock(self, username: str) -> bool: ...

    def expire_sessions(self, username: str | None) -> int: ...

    def files_json(self) -> list[dict[str, Any]]:
        """Every file the portal serves, made: case id, name, size, SHA-256, a sample run."""
        ...


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _int(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer from {low} to {high}")
    return value


def admin_routes(portal: AdminPortal) -> list[Route]:
    async def seed(request: Request) -> Response:
        try:
            data = await _json_body(request)
            result = portal.seed(
                practices=_int(data, "practices", 3, 0, 10_000),
                cases=_int(data, "cases", 10, 0, 100_000),
                seed=_int(data, "seed", 1, 0, 2**31),
            )
        except ValueError as exc:
            return _error(400, str(exc))
        return JSONResponse(result)

    async def tick(request: Request) -> Response:
        try:
            steps = _int(await _json_body(request), "steps", 1, 1, 10_000)
        except ValueError as exc:
            return _error(400, str(exc))
        return JSONResponse(portal.tick(steps))

    async def state(request: Request) -> Response:
        return JSONResponse(portal.dump())

    async def changes(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since_tick", "0"))
        except ValueError:
            return _error(400, "since_tick must be an integer")
        return JSONResponse({"ticks": portal.changes(since)})

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                portal.faults.update(await _json_body(request))
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
        elif request.method == "DELETE":
            portal.faults.reset()
        return JSONResponse(portal.faults.to_json())

    async def mailbox(request: Request) -> Response:
        return JSONResponse({"messages": portal.mailbox(request.query_params.get("to"))})

    async def logins(request: Request) -> Response:
        return JSONResponse(portal.recorder.logins_json())

    async def unlock(request: Request) -> Response:
        if not portal.unlock(request.path_params["username"]):
            return _error(404, "no such login")
        return JSONResponse({"unlocked": True})

    async def posted(request: Request) -> Response:
        return JSONResponse({"posted": list(portal.recorder.posted)})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            portal.recorder.reset_requests()
        return JSONResponse(portal.recorder.requests_json())

    async def expire_sessions(request: Request) -> Response:
        count = portal.expire_sessions(request.query_params.get("username"))
        return JSONResponse({"expired": count})

    async def files(request: Request) -> Response:
        made = await asyncio.to_thread(portal.files_json)
        return JSONResponse({"files": made})

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/seed", seed, methods=["POST"]),
        Route(f"{p}/tick", tick, methods=["POST"]),
        Route(f"{p}/state", state, methods=["GET"]),
        Route(f"{p}/changes", changes, methods=["GET"]),
        Route(f"{p}/faults", faults, methods=["GET", "PUT", "DELETE"]),
        Route(f"{p}/mailbox", mailbox, methods=["GET"]),
        Route(f"{p}/logins", logins, methods=["GET"]),
        Route(f"{p}/logins/{{username}}/unlock", unlock, methods=["POST"]),
        Route(f"{p}/posted", posted, methods=["GET"]),
        Route(f"{p}/requests", requests, methods=["GET", "DELETE"]),
        Route(f"{p}/sessions/expire", expire_sessions, methods=["POST"]),
        Route(f"{p}/files", files, methods=["GET"]),
    ]
