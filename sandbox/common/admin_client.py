"""A small synchronous client for `/__sandbox/`, for tests, benchmarks and the demo."""

from __future__ import annotations

from typing import Any

import httpx


class SandboxAdmin:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/__sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def seed(self, practices: int, cases: int, seed: int = 1) -> dict[str, Any]:
        body = {"practices": practices, "cases": cases, "seed": seed}
        result: dict[str, Any] = self._call("POST", "/seed", json=body)
        return result

    def tick(self, steps: int = 1) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/tick", json={"steps": steps})
        return result

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def changes(self, since_tick: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "GET", "/changes", params={"since_tick": since_tick}
        )["ticks"]
        return result

    def faults(self, **changes: Any) -> dict[str, Any]:
        if changes:
            result: dict[str, Any] = self._call("PUT", "/faults", json=changes)
        else:
            result = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", "/faults")
        return result

    def mailbox(self, to: str | None = None) -> list[dict[str, Any]]:
        params = {"to": to} if to else {}
        result: list[dict[str, Any]] = self._call("GET", "/mailbox", params=params)["messages"]
        return result

    def logins(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self._call("GET", "/logins")
        return result

    def unlock(self, username: str) -> None:
        self._call("POST", f"/logins/{username}/unlock")

    def posted(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/posted")["posted"]
        return result

    def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/requests")
        return result

    def files(self) -> list[dict[str, Any]]:
        """Every file the portal serves: case id, name, size, SHA-256, a sample run (hex)."""
        result: list[dict[str, Any]] = self._call("GET", "/files")["files"]
        return result

    def reset_requests(self) -> None:
        self._call("DELETE", "/requests")

    def expire_sessions(self, username: str | None = None) -> int:
        params = {"username": username} if username else {}
        result: int = self._call("POST", "/sessions/expire", params=params)["expired"]
        return result
