"""A small synchronous client for ClearCorrect's own admin routes (see `admin.py`), beside the
shared `SandboxAdmin`: tests, benchmarks and the demo choose the variant and languages with it."""

from __future__ import annotations

from typing import Any

import httpx


class ClearCorrectAdmin:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ClearCorrectAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, f"/__sandbox{path}", **kwargs)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def seed(
        self,
        practices: int,
        cases: int,
        seed: int = 1,
        *,
        variant: str | None = None,
        language: str | None = None,
        json_api: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"practices": practices, "cases": cases, "seed": seed}
        for key, value in (("variant", variant), ("language", language), ("json_api", json_api)):
            if value is not None:
                body[key] = value
        return self._call("POST", "/seed", json=body)

    def variant(self, variant: str | None = None, *, json_api: bool | None = None) -> str:
        if variant is None and json_api is None:
            return str(self._call("GET", "/variant")["variant"])
        body: dict[str, Any] = {}
        if variant is not None:
            body["variant"] = variant
        if json_api is not None:
            body["json_api"] = json_api
        return str(self._call("PUT", "/variant", json=body)["variant"])

    def language(self, username: str, language: str | None) -> None:
        self._call("PUT", f"/logins/{username}/language", json={"language": language})
