"""Webhook settings: endpoints from TOML, the environment and secret files; clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.settings import load_settings
from tests.webhooks.conftest import NEW_SECRET, SECRET


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("CONNECTOR_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_endpoints_from_toml_with_secret_secrets_and_secret_file(tmp_path: Path) -> None:
    (tmp_path / "hook.secret").write_text(f"{NEW_SECRET}\n{SECRET}\n")
    settings = load_settings(
        _config(
            tmp_path,
            f"""
[webhooks]
max_age_hours = 12
[[webhooks.endpoints]]
name = "tps"
url = "https://tps.example/hooks"
secret = "{SECRET}"
types = ["case.created", "setup.ready_for_review"]
[[webhooks.endpoints]]
name = "rotating"
url = "http://127.0.0.1:9000/h"
secrets = ["{NEW_SECRET}", "{SECRET}"]
[[webhooks.endpoints]]
name = "mounted"
url = "http://127.0.0.1:9000/h"
secret_file = "{tmp_path / "hook.secret"}"
""",
        )
    )
    tps, rotating, mounted = settings.webhooks.endpoints
    assert settings.webhooks.max_age_hours == 12
    assert [s.reveal() for s in tps.secrets] == [SECRET]
    assert tps.accepts("case.created") and not tps.accepts("comment.received")
    assert rotating.accepts("comment.received")
    assert [s.reveal() for s in rotating.secrets] == [NEW_SECRET, SECRET]
    assert [s.reveal() for s in mounted.secrets] == [NEW_SECRET, SECRET]
    assert settings.webhooks.endpoint("mounted") is mounted
    dumped = repr(settings) + settings.model_dump_json()
    assert SECRET not in dumped and NEW_SECRET not in dumped


def test_endpoints_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    value = json.dumps([{"name": "tps", "url": "https://tps.example/h", "secret": SECRET}])
    monkeypatch.setenv("CONNECTOR_WEBHOOKS__ENDPOINTS", value)
    monkeypatch.setenv("CONNECTOR_WEBHOOKS__CONCURRENCY", "3")
    settings = load_settings()
    assert settings.webhooks.endpoints[0].secrets[0].reveal() == SECRET
    assert settings.webhooks.concurrency == 3


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ({"secret": SECRET, "secrets": [SECRET]}, "set one of secret, secrets or secret_file"),
        ({}, "set one of secret, secrets or secret_file"),
        ({"secret": "short-secret"}, "at least 16 characters"),
        ({"secrets": [SECRET, NEW_SECRET, SECRET + "x"]}, "one secret, or two while rotating"),
        ({"secret": SECRET, "types": ["case.exploded"]}, "unknown event type 'case.exploded'"),
        ({"secret": SECRET, "url": "ftp://x"}, "must be an http:// or https:// URL"),
        ({"secret": SECRET, "name": "Bad Name"}, "must be 1-64 characters"),
        ({"secret_file": "/nonexistent/hook.secret"}, "cannot read webhook endpoint 'tps'"),
    ],
)
def test_invalid_endpoints_give_one_line_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, endpoint: dict[str, object], message: str
) -> None:
    value = {"name": "tps", "url": "https://tps.example/h", **endpoint}
    monkeypatch.setenv("CONNECTOR_WEBHOOKS__ENDPOINTS", json.dumps([value]))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert SECRET not in text and "short-secret" not in text


def test_endpoint_names_are_unique(monkeypatch: pytest.MonkeyPatch) -> None:
    one = {"name": "tps", "url": "https://tps.example/h", "secret": SECRET}
    monkeypatch.setenv("CONNECTOR_WEBHOOKS__ENDPOINTS", json.dumps([one, one]))
    with pytest.raises(ConfigError, match="settings \\[webhooks\\]: endpoint names must be unique"):
        load_settings()
