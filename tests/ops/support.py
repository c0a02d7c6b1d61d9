"""Running the command line as an operator would: a subprocess, a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "connector"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any CONNECTOR_* variable of the test run, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update({"COLUMNS": "200", "CONNECTOR_LOG__LEVEL": "warning"})
    env.update(extra)
    return env


def cli(
    *args: str,
    cwd: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**(env or {})),
        timeout=timeout,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error:` line a failed command printed (and no traceback anywhere)."""
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]
