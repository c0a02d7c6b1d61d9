"""Security of the `/v1` API: a bearer token on every route, a body-size limit, and no
submitted password in any response (422s to malformed bodies included), log line or database
file."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.logs import configure_logging
from tests.api.conftest import OTHER_TOKEN, PASSWORD, TOKEN, VENDOR, Api, app_operations

_PARAM = re.compile(r"\{([a-z_]+)\}")


def _v1_operations(api: Api) -> list[tuple[str, str]]:
    found = [(m, p) for m, p in app_operations(api.app) if p.startswith("/v1")]
    # The routes served and the routes documented are the same set.
    documented = [
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/v1")
    ]
    assert sorted(documented) == found
    return found


async def test_every_v1_route_needs_a_valid_token(api: Api) -> None:
    account = await api.add_account()
    operations = _v1_operations(api)
    assert len(operations) >= 22
    values = {"account_id": account["id"], "vendor": VENDOR}
    wrong_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ]
    # A client of its own: the fixture's carries the valid token.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(api.app), base_url="http://connector.test"
    ) as anonymous:
        for method, template in operations:
            path = _PARAM.sub(lambda m: values.get(m.group(1), f"{m.group(1)}_x"), template)
            for headers in wrong_headers:
                response = await anonymous.request(
                    method,
                    path,
                    json={"password": PASSWORD},
                    headers={**headers, "Idempotency-Key": "k"},
                )
                assert response.status_code == 401, (method, template, headers, response.text)
                assert response.json()["error"]["code"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"
                assert PASSWORD not in response.text
    # Nothing happened: the account is still there, unpaused, and nothing was recorded.
    still = await api.client.get(f"/v1/accounts/{account['id']}")
    assert still.status_code == 200 and still.json()["status"] == "verifying"
    assert (await api.client.get("/v1/changes")).json()["items"] == []
    # Both configured tokens work (rotation), and health stays open.
    for token in (TOKEN, OTHER_TOKEN):
        ok = await api.client.get("/v1/accounts", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    assert (await api.client.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_oversized_bodies_are_refused(api: Api) -> None:
    limit = api.ctx.settings.api.max_body_bytes
    body = {"vendor": VENDOR, "username": "big@tps.example", "password": PASSWORD * 10}
    body["padding"] = "x" * (limit + 1)
    response = await api.client.post("/v1/accounts", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert PASSWORD not in response.text
    assert (await api.client.get("/v1/accounts")).json()["items"] == []


async def test_oversized_streamed_bodies_are_413(api: Api) -> None:
    limit = api.ctx.settings.api.max_body_bytes

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield json.dumps({"vendor": VENDOR, "password": PASSWORD, "pad": ""})[:-2].encode()
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096
        yield b'"}'

    streamed = await api.client.post(
        "/v1/accounts", content=stream(), headers={"Content-Type": "application/json"}
    )
    assert (await api.client.get("/v1/accounts")).json()["items"] == []
    assert PASSWORD not in streamed.text
    assert streamed.status_code == 413


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Our JSON log pipeline at debug level into a string, and caplog's records too."""
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(caplog.handler)


def _malformed(account_id: str, case_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx keyword arguments): each carries the password somewhere."""
    good = {"vendor": VENDOR, "username": "leak@tps.example", "password": PASSWORD}
    cred = f"/v1/accounts/{account_id}/credentials"
    as_json: list[tuple[str, str, Any]] = [
        ("POST", "/v1/accounts", {**good, "password": 123456789012345}),
        ("POST", "/v1/accounts", {**good, "password": [PASSWORD]}),
        ("POST", "/v1/accounts", {**good, "password": {"value": PASSWORD}}),
        ("POST", "/v1/accounts", {**good, "password": None}),
        ("POST", "/v1/accounts", {**good, "extra": PASSWORD}),
        ("POST", "/v1/accounts", {**good, "pass": PASSWORD, "password": 1}),
        ("POST", "/v1/accounts", {**good, "vendor": PASSWORD}),
        ("POST", "/v1/accounts", {**good, "vendor": "lightforce"}),
        ("POST", "/v1/accounts", {**good, "username": PASSWORD * 30}),
        ("POST", "/v1/accounts", {**good, "username": f"\x01{PASSWORD}"}),
        ("POST", "/v1/accounts", {**good, "totp_secret": PASSWORD}),
        ("POST", "/v1/accounts", {**good, "totp_secret": PASSWORD * 20}),
        ("POST", "/v1/accounts", {**good, "practice_id": f"{PASSWORD}\n"}),
        ("POST", "/v1/accounts", {**good, "password": PASSWORD * 100}),
        ("POST", "/v1/accounts", [PASSWORD]),
        ("POST", "/v1/accounts", PASSWORD),
        ("PUT", cred, {"password": PASSWORD, "nope": PASSWORD}),
        ("PUT", cred, {"password": PASSWORD, "username": ""}),
        ("PUT", cred, {"password": PASSWORD, "totp_secret": "not base32!"}),
        ("PUT", cred, {"username": PASSWORD}),
        ("PUT", "/v1/accounts/acc_missing/credentials", {"password": PASSWORD}),
        ("PUT", f"/v1/practice-mappings/{VENDOR}/dr-1", {"practice_id": PASSWORD, "x": 1}),
        ("POST", "/v1/webhooks/replay", {"event_id": PASSWORD}),
        ("POST", "/v1/webhooks/replay", {"failed": True, "endpoint": PASSWORD}),
        ("POST", f"/v1/cases/{case_id}/comments", {"body": PASSWORD, "extra": PASSWORD}),
    ]
    requests: list[tuple[str, str, dict[str, Any]]] = [
        (method, path, {"json": body}) for method, path, body in as_json
    ]
    raw = json.dumps(good).encode()
    requests += [
        ("POST", "/v1/accounts", {"content": raw[:-3], "headers": _json}),
        ("POST", "/v1/accounts", {"content": raw + b"}", "headers": _json}),
        (
            "POST",
            "/v1/accounts",
            {"content": raw.replace(b'"password"', b"password"), "headers": _json},
        ),
        ("POST", "/v1/accounts", {"content": raw, "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/v1/accounts", {"data": {"password": PASSWORD, "vendor": VENDOR}}),
        (
            "PUT",
            cred,
            {"content": b'{"password": "' + PASSWORD.encode() + b'\\x"}', "headers": _json},
        ),
        ("GET", "/v1/cases", {"params": {"practice_id": f"{PASSWORD}\x00"}}),
        ("GET", "/v1/cases", {"params": {"cursor": PASSWORD}}),
        ("GET", "/v1/cases", {"params": {"updated_since": PASSWORD}}),
        ("GET", "/v1/accounts", {"params": {"vendor": PASSWORD, "status": PASSWORD}}),
        ("GET", "/v1/changes", {"params": {"cursor": PASSWORD}}),
        ("GET", f"/v1/accounts/{PASSWORD}", {}),
        (
            "POST",
            f"/v1/cases/{case_id}/comments",
            {"json": {"body": "hi"}, "headers": {"Idempotency-Key": f"{PASSWORD} x"}},
        ),
    ]
    return requests


_json = {"Content-Type": "application/json"}


def _client_line(line: dict[str, Any]) -> bool:
    return line.get("logger") == "httpx" and str(line.get("event")).startswith("HTTP Request:")


def _client_record(record: logging.LogRecord) -> bool:
    return record.name == "httpx" and record.getMessage().startswith("HTTP Request:")


async def test_no_response_or_log_line_contains_a_submitted_password(
    api: Api, all_logs: io.StringIO, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    account = await api.add_account("first@tps.example")
    from tests.api.conftest import seed_cases

    (case_id,) = await seed_cases(api.store, account["id"], [1])
    bodies: list[str] = []
    for method, path, kwargs in _malformed(account["id"], case_id):
        response = await api.client.request(method, path, **kwargs)
        assert 400 <= response.status_code < 500, (method, path, kwargs, response.text)
        assert set(response.json()) == {"error"}, response.text
        bodies.append(response.text)
        bodies.append(str(response.headers))

    # And the successful paths: create, update, conflict, list, get, delete.
    created = await api.client.post(
        "/v1/accounts", json={"vendor": VENDOR, "username": "ok@tps.example", "password": PASSWORD}
    )
    assert created.status_code == 201
    dup = await api.client.post(
        "/v1/accounts", json={"vendor": VENDOR, "username": "ok@tps.example", "password": PASSWORD}
    )
    assert dup.status_code == 409
    new_id = created.json()["id"]
    for response in (
        created,
        dup,
        await api.client.put(f"/v1/accounts/{new_id}/credentials", json={"password": PASSWORD}),
        await api.client.post(f"/v1/accounts/{new_id}/credentials/rollback"),
        await api.client.get("/v1/accounts"),
        await api.client.get(f"/v1/accounts/{new_id}"),
        await api.client.get("/v1/changes"),
        await api.client.get("/openapi.json"),
        await api.client.delete(f"/v1/accounts/{new_id}"),
    ):
        bodies.append(response.text)

    for text in bodies:
        assert PASSWORD not in text
    # Every log line but the test client's own request lines (the URLs this test sent).
    lines = [json.loads(line) for line in all_logs.getvalue().splitlines()]
    logged = [json.dumps(line) for line in lines if not _client_line(line)]
    logged += [repr(r.__dict__) for r in caplog.records if not _client_record(r)]
    assert len(logged) >= 4
    for text in logged:
        assert PASSWORD not in text
    assert "account.added" in all_logs.getvalue()  # the logs were captured at all

    # At rest: sealed, not in the SQLite file nor its write-ahead log.
    files = [p for p in os.listdir(tmp_path) if p.startswith("connector.db")]
    assert any(p.endswith("-wal") for p in files)
    for name in files:
        with open(tmp_path / name, "rb") as file:  # noqa: ASYNC230 - a test, after the fact
            data = file.read()
        assert PASSWORD.encode() not in data
        assert PASSWORD.encode("utf-16-le") not in data
