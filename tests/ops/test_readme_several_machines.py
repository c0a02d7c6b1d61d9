"""The README's several-machines block works as written: run against a throwaway PostgreSQL
database (the one change: its URL), `serve --no-scheduler` becomes ready with a live worker and
answers the API with the token the block made.

Before, the block had no key settings: `serve` ended in a long traceback and `worker` suggested
`keys generate`, which gives each machine a key of its own.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.common.server import free_port
from tests.conftest import require, throwaway_pg_database
from tests.ops.support import clean_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = "postgresql+psycopg://connector@db/connector"
LONG_RUNNING = ("tps-connector serve", "tps-connector worker")

CHECK = """
import json, os, sys, time, urllib.request
api = "http://127.0.0.1:" + os.environ["CONNECTOR_API__PORT"]
deadline = time.monotonic() + 90
ready = None
while time.monotonic() < deadline:
    try:
        ready = json.load(urllib.request.urlopen(api + "/readyz", timeout=5))
        break
    except Exception as exc:
        ready = getattr(exc, "read", lambda: b"")().decode() or repr(exc)
        time.sleep(0.5)
print("readyz", ready)
token = os.environ["CONNECTOR_API__TOKENS"]
request = urllib.request.Request(api + "/v1/accounts", headers={"Authorization": "Bearer " + token})
print("accounts", json.load(urllib.request.urlopen(request, timeout=5)))
"""


def _block() -> str:
    text = README.read_text()
    start = text.index("Several machines")
    begin = text.index("```sh\n", start) + len("```sh\n")
    return text[begin : text.index("```", begin)]


def _stop(pids: Path) -> None:
    """SIGTERM the processes the block started in the background, and wait until they are gone."""
    started = [int(p) for p in pids.read_text().split()] if pids.exists() else []
    for pid in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    for pid in started:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)


def test_the_several_machines_block_runs_as_written(tmp_path: Path, pg_available: bool) -> None:
    require(pg_available, "PostgreSQL at 127.0.0.1:5432")
    block = _block()
    assert block.count(PLACEHOLDER) == 1
    with throwaway_pg_database() as url:
        lines = []
        for line in block.replace(PLACEHOLDER, url).splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith(LONG_RUNNING):
                lines.append(f"{command} >>processes.log 2>&1 & echo $! >>pids")
            else:
                lines.append(line)
        script = "\n".join(
            [
                "set -euo pipefail",
                *lines,
                f"{shlex.quote(sys.executable)} -c {shlex.quote(CHECK)}",
            ]
        )
        env = clean_env(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            CONNECTOR_API__PORT=str(free_port()),
            CONNECTOR_WORKER__METRICS_PORT=str(free_port()),
        )
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            out, err = process.communicate(timeout=150)
        finally:
            _stop(tmp_path / "pids")
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log = (
            (tmp_path / "processes.log").read_text()
            if (tmp_path / "processes.log").exists()
            else ""
        )
        assert process.returncode == 0, (out, err, log)
        assert (
            "readyz {'status': 'ok', 'checks': {'database': 'ok', 'keys': 'ok', 'workers': 'ok'}}"
            in out
        ), (out, err, log)
        assert "accounts {'items': [], 'next_cursor': None}" in out
        assert "Traceback" not in err + log
