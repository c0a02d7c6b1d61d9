"""`tps-connector webhooks status | replay`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli.app import app
from connector.clock import utcnow
from connector.errors import InputError, NotFoundError
from connector.settings import load_settings
from connector.store import Store, upgrade
from connector.webhooks import deliver_due, new_client
from sandbox.common.server import free_port
from tests.webhooks.conftest import SECRET, write_events


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("CONNECTOR_"):
            monkeypatch.delenv(key)
    path = tmp_path / "connector.toml"
    path.write_text(
        f"""
data_dir = "{tmp_path / "state"}"
[webhooks]
[[webhooks.endpoints]]
name = "tps"
url = "http://127.0.0.1:{free_port()}/hook"
secret = "{SECRET}"
"""
    )
    return path


def _failed_deliveries(config: Path, count: int) -> list[str]:
    """Events whose deliveries ran out of time against a receiver that is not there."""
    settings = load_settings(config)

    async def go() -> list[str]:
        store = Store.connect(settings.database_url)
        try:
            await upgrade(store)
            ids = await write_events(store, count)
            later = utcnow() + timedelta(hours=25)
            async with new_client(settings.webhooks) as client:
                await deliver_due(store, settings.webhooks, client)  # refused: retried later
                await deliver_due(store, settings.webhooks, client, clock=lambda: later)
            return ids
        finally:
            await store.close()

    return asyncio.run(go())


def test_status_and_replay(config: Path) -> None:
    runner = CliRunner()
    # `webhooks status` only reads: it needs a database (and does not make one).
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    result = runner.invoke(app, ["webhooks", "status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "items": [
            {
                "endpoint": "tps",
                "configured": True,
                "pending": 0,
                "delivered": 0,
                "failed": 0,
                "oldest_pending_at": None,
            }
        ]
    }
    ids = _failed_deliveries(config, 3)
    result = runner.invoke(app, ["webhooks", "status", "--config", str(config)])
    assert result.exit_code == 0 and "tps" in result.stdout and SECRET not in result.stdout
    (item,) = json.loads(
        runner.invoke(app, ["webhooks", "status", "--json", "--config", str(config)]).stdout
    )["items"]
    assert (item["failed"], item["pending"]) == (3, 0)

    result = runner.invoke(
        app, ["webhooks", "replay", "--event", ids[0], "--failed", "--config", str(config)]
    )
    assert result.exit_code == 0 and "queued 1 delivery again" in result.stdout
    result = runner.invoke(
        app, ["webhooks", "replay", "--failed", "--endpoint", "tps", "--config", str(config)]
    )
    assert result.exit_code == 0 and "queued 2 deliveries again" in result.stdout
    (item,) = json.loads(
        runner.invoke(app, ["webhooks", "status", "--json", "--config", str(config)]).stdout
    )["items"]
    assert (item["failed"], item["pending"]) == (0, 3)
    assert item["oldest_pending_at"].endswith("Z")

    result = runner.invoke(app, ["webhooks", "replay", "--config", str(config)])
    assert isinstance(result.exception, InputError)
    result = runner.invoke(
        app, ["webhooks", "replay", "--event", "evt_nope", "--config", str(config)]
    )
    assert isinstance(result.exception, NotFoundError)


def test_errors_are_one_line(config: Path, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "connector", "webhooks", "replay", "--failed", "--endpoint", "x"],
        cwd=tmp_path,
        env={**environment, "CONNECTOR_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "error: no webhook endpoint named 'x' is configured\n"
