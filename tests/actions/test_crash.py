"""SIGKILL after the portal took a comment but before the connector heard back, then a restart:
the portal shows the comment exactly once and the action ends `succeeded`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sandbox.clearcorrect import IDENTITY_JSON
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from tests.conftest import PortalFactory

VENDOR = "clearcorrect"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["CONNECTOR_LOG__LEVEL"] = "warning"
    return env


def _cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connector", *args, "--config", str(config)],
        input=stdin, capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip


def test_sigkill_while_the_answer_is_on_its_way(
    tmp_path: Path, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=3)
    # The JSON API's comment path takes its own fault (the pages post back to the case page).
    with ClearCorrectAdmin(portal.url) as admin:
        admin.variant(IDENTITY_JSON)
    good = next(x for x in portal.admin.state()["logins"] if x["scenario"] == "good")
    config = tmp_path / "connector.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[vendors.clearcorrect]\nbase_url = "{portal.url}"\n'
    )
    assert _cli(config, "accounts", "add", "--vendor", VENDOR, "--username", good["username"],
                stdin=good["password"] + "\n").returncode == 0  # fmt: skip
    assert _cli(config, "sync").returncode == 0
    db = tmp_path / "data" / "connector.db"
    with sqlite3.connect(db) as conn:
        case_id, vendor_case_id = conn.execute(
            "SELECT id, vendor_case_id FROM cases LIMIT 1"
        ).fetchone()
    queued = _cli(config, "actions", "comment", case_id, "--idempotency-key", "crash-1", "--json",
                  stdin="Please double-check the attachments on 23.")  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    action_id = json.loads(queued.stdout)["id"]
    marker = f"[ref:{action_id}]"

    # The portal handles the POST at once but holds its answer back for a long time.
    portal.admin.faults(
        response_latency_ms=6_000, path_prefixes=[f"/api/cases/{vendor_case_id}/comments"]
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "connector", "actions", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not [p for p in portal.admin.posted() if marker in (p.get("body") or "")]:
        assert runner.poll() is None
        assert time.monotonic() < deadline, "the comment never reached the portal"
        time.sleep(0.05)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(timeout=10)
    with sqlite3.connect(db) as conn:
        status, attempts = conn.execute(
            "SELECT status, attempts FROM actions WHERE id = ?", (action_id,)
        ).fetchone()
    assert (status, attempts) == ("running", 1)

    portal.admin.clear_faults()
    restarted = _cli(config, "actions", "run")
    assert restarted.returncode == 0, restarted.stderr
    shown = json.loads(_cli(config, "actions", "show", action_id, "--json").stdout)
    assert shown["status"] == "succeeded"
    assert shown["result"] == {"vendor_id": None, "found_marker": True}
    landed = [p for p in portal.admin.posted() if marker in (p.get("body") or "")]
    assert len(landed) == 1
