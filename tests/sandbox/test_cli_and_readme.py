"""`tps-connector sandbox` and `demo` from the command line, and the README's scenario table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.common.server import free_port
from sandbox.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_scenario_login() -> None:
    readme = (ROOT / "README.md").read_text()
    for s in SCENARIOS:
        row = f"| {s.vendor} | `{s.name}` | `{s.username}` | `{s.password}` | {s.outcome}"
        assert row in readme, row


def test_sandbox_command_serves_both_portals_and_prints_logins(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["COLUMNS"] = "250"
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", str(port), "--admin",
         "--practices", "2", "--cases", "3"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "press Ctrl-C" in line or not line:
                break
        output = "".join(lines)
        assert f"invisalign sandbox: http://127.0.0.1:{port}/" in output
        assert f"clearcorrect sandbox: http://127.0.0.1:{port + 1}/" in output
        for s in SCENARIOS:
            assert s.username in output
        # The URLs are printed only once both servers accept connections: no retry needed.
        for offset, vendor in enumerate(("invisalign", "clearcorrect")):
            url = f"http://127.0.0.1:{port + offset}"
            state = httpx.get(f"{url}/__sandbox/state", timeout=10).json()
            assert state["vendor"] == vendor
            assert len(state["doctors"]) >= 2
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_demo_once_syncs_the_demo_logins_and_exits(
    tmp_path: Path, chromium_options: dict[str, Any]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["COLUMNS"] = "250"
    result = subprocess.run(
        [sys.executable, "-m", "connector", "demo", "--once"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"acc_\w+ +│ invisalign +│ succeeded +│ active", result.stdout)
    assert re.search(r"acc_\w+ +│ clearcorrect +│ succeeded +│ active", result.stdout)
    assert "What the TPS now knows" in result.stdout
    assert re.search(r"API docs: http://127\.0\.0\.1:\d+/docs", result.stdout)
    assert re.search(
        r"form \(Invisalign\): http://127\.0\.0\.1:\d+/forms/[\w-]{20,}", result.stdout
    )
    assert re.search(r"│ invisalign +│ rx\.staff@smile-dental\.example +│ [1-9]", result.stdout)
    assert (tmp_path / ".connector" / "keys.json").exists()
    for s in SCENARIOS:
        assert s.password not in result.stdout + result.stderr
