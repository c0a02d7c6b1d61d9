"""Redaction: secrets, secret-bearing keys and capability tokens never reach a log line."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import respx
import structlog

from connector.logs import REDACTED, configure_logging, scrub_text
from vault import Secret


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_known_secret_keys_are_dropped(log_stream: io.StringIO) -> None:
    structlog.get_logger("t").info(
        "portal.login",
        username="rx@clinic.example",
        password="plain-password-123",
        totp_secret="JBSWY3DPEHPK3PXP",
        headers={"Authorization": "Bearer abcdefghijklmnop", "Accept": "text/html"},
        cookies=[{"name": "JSESSIONID", "value": "cookie-value-1234"}],
        storage_state={"cookies": []},
    )
    text = log_stream.getvalue()
    for value in (
        "plain-password-123",
        "JBSWY3DPEHPK3PXP",
        "abcdefghijklmnop",
        "cookie-value-1234",
    ):
        assert value not in text
    (line,) = _lines(log_stream)
    assert line["username"] == "rx@clinic.example"
    assert line["password"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Accept": "text/html"}
    assert line["event"] == "portal.login" and line["level"] == "info"


def test_form_tokens_and_bearer_tokens_are_scrubbed_from_text(log_stream: io.StringIO) -> None:
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "POST",
        "/forms/tok_SECRET123abc/code",
        "1.1",
        200,
    )
    logging.getLogger("x").warning("sent Authorization: Bearer sk_live_SECRETtoken")
    logging.getLogger("x").warning("GET /cb?code=SECRETcode&password=SECRETpw&ok=1")
    text = log_stream.getvalue()
    assert "SECRET" not in text
    assert "/forms/[redacted]/code" in text
    assert "ok=1" in text


def test_scrub_text_leaves_ordinary_text() -> None:
    assert scrub_text("synced 12 cases for acc_123") == "synced 12 cases for acc_123"


@respx.mock
def test_httpx_request_logs_pass_through_the_same_pipeline(log_stream: io.StringIO) -> None:
    respx.get("https://portal.example/forms/tok_SECRET999/x").respond(200)
    httpx.get("https://portal.example/forms/tok_SECRET999/x", headers={"Cookie": "a=b"})
    text = log_stream.getvalue()
    assert "HTTP Request" in text
    assert "SECRET999" not in text


def test_secret_objects_anywhere_are_redacted(log_stream: io.StringIO) -> None:
    secret = Secret("object-secret-value-1")
    structlog.get_logger("t").info("x", anything=secret, listed=[secret], deep={"a": {"b": secret}})
    assert "object-secret-value-1" not in log_stream.getvalue()
    (line,) = _lines(log_stream)
    assert line["anything"] == REDACTED
    assert line["deep"] == {"a": {"b": REDACTED}}
