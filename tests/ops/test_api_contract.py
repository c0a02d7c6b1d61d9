"""The API's contract as generated clients and proxies read it.

Before: no security scheme in the OpenAPI document (no Authorize button in /docs, generated
clients did not know the bearer token); every 405 carried an empty `Allow` header; malformed
JSON was parsed before the token was checked (422 instead of 401); schema-valid inputs were
refused with 422 (a blank name, a cursor of the documented shape, a TOTP secret); an unknown
webhook endpoint in a replay was 422 rather than 404.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Api

pytestmark = pytest.mark.asyncio


async def _openapi(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = (await api.client.get("/openapi.json")).json()
    return document


async def test_every_v1_operation_declares_the_bearer_scheme(api: Api) -> None:
    document = await _openapi(api)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the tokens in `api.tokens` (`Authorization: Bearer <token>`).",
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            secured = operation.get("security") == [{"bearer": []}]
            assert secured == path.startswith("/v1/"), (method, path)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/cases", "GET, HEAD"),
        ("PATCH", "/v1/accounts", "GET, HEAD, POST"),
        ("GET", "/v1/accounts/acc_x/pause", "POST"),
        ("PUT", "/v1/accounts/acc_x", "DELETE, GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
    ],
)
async def test_405_says_which_methods_are_allowed(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = await api.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


async def test_the_token_is_checked_before_the_body_is_read(api: Api) -> None:
    malformed = b'{"vendor": '
    json_type = {"Content-Type": "application/json"}
    for token in ("", "Bearer wrong-token-000000"):
        response = await api.client.post(
            "/v1/accounts", content=malformed, headers={**json_type, "Authorization": token}
        )
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "error": {"code": "unauthorized", "message": "a valid bearer token is required"}
        }
    with_token = await api.client.post("/v1/accounts", content=malformed, headers=json_type)
    assert with_token.status_code == 422
    assert (await api.client.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_schema_valid_inputs_are_accepted(api: Api) -> None:
    # A name with spaces around it, a TOTP secret as authenticator apps show it, blank TOTP.
    created = await api.client.post(
        "/v1/accounts",
        json={
            "vendor": "clearcorrect",
            "username": "  partner@tps.example ",
            "password": "pw",
            "totp_secret": "jbsw y3dp ehpk 3pxp",
            "practice_id": " p1",
        },
    )
    assert created.status_code == 201, created.text
    blank_totp = await api.client.post(
        "/v1/accounts",
        json={"vendor": "invisalign", "username": "rx@tps.example", "password": "pw",
              "totp_secret": "  "},
    )  # fmt: skip
    assert blank_totp.status_code == 201, blank_totp.text
    # Any cursor of the documented shape is a position in its list.
    for path, cursor in (
        ("/v1/accounts", "a.zzz"),
        ("/v1/cases", "c.0.x"),
        (f"/v1/accounts/{created.json()['id']}/runs", "r.1767225600000000.run_x"),
        ("/v1/practice-mappings", "m.clearcorrect.ff00"),
        ("/v1/changes", "p999999999999999999"),
    ):
        response = await api.client.get(path, params={"cursor": cursor})
        assert response.status_code == 200, (path, response.text)


async def test_schema_invalid_inputs_are_refused(api: Api) -> None:
    for body in (
        {"username": "   "},  # blank
        {"totp_secret": "not base32 at all!"},
        {"totp_secret": "JBSWY3DPEHPK3PX"},  # 15 characters: too short
        {"password": "pw\x00"},
        {"practice_id": "\u3000"},  # blank, as Python sees it
    ):
        response = await api.client.post(
            "/v1/accounts",
            json={"vendor": "clearcorrect", "username": "u@tps.example", "password": "pw", **body},
        )
        assert response.status_code == 422, (body, response.text)
    from connector.api.models import TEXT_PATTERN, TOTP_PATTERN

    for value in ("   ", "\u3000", "\x85"):
        assert not re.fullmatch(TEXT_PATTERN, value)
    assert re.fullmatch(TOTP_PATTERN, "JBSWY3DPEHPK3PXP====")


async def test_cursor_patterns_in_the_document_are_the_ones_enforced(api: Api) -> None:
    from connector.api.pagination import ACCOUNTS, CASES, MAPPINGS, RUNS
    from connector.store.feed import CURSOR_PATTERN

    document = await _openapi(api)

    def cursor_pattern(path: str) -> str:
        parameters = document["paths"][path]["get"]["parameters"]
        (cursor,) = [p for p in parameters if p["name"] == "cursor"]
        patterns = [s["pattern"] for s in cursor["schema"]["anyOf"] if "pattern" in s]
        return str(patterns[0])

    assert cursor_pattern("/v1/accounts") == ACCOUNTS.pattern
    assert cursor_pattern("/v1/cases") == CASES.pattern
    assert cursor_pattern("/v1/accounts/{account_id}/runs") == RUNS.pattern
    assert cursor_pattern("/v1/practice-mappings") == MAPPINGS.pattern
    assert cursor_pattern("/v1/changes") == CURSOR_PATTERN


async def test_replaying_to_an_unknown_endpoint_is_not_found(api: Api) -> None:
    response = await api.client.post(
        "/v1/webhooks/replay", json={"failed": True, "endpoint": "no-such-endpoint"}
    )
    assert response.status_code == 404
    assert "no-such-endpoint" not in response.text
    nothing = await api.client.post("/v1/webhooks/replay", json={})
    assert nothing.status_code == 422
