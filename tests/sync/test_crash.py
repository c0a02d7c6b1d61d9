"""SIGKILL in the middle of a sync, then a restart: the store ends equal to a clean sync's, with
every event exactly once (each case commits with its events; the cursor moves last)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import PortalFactory

VENDOR = "clearcorrect"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["CONNECTOR_LOG__LEVEL"] = "warning"
    return env


def _prepare(directory: Path, portal_url: str, username: str, password: str) -> Path:
    directory.mkdir()
    config = directory / "connector.toml"
    config.write_text(
        f'data_dir = "{directory / "data"}"\n[vendors.clearcorrect]\nbase_url = "{portal_url}"\n'
    )
    added = subprocess.run(
        [sys.executable, "-m", "connector", "accounts", "add", "--vendor", VENDOR,
         "--username", username, "--config", str(config)],
        input=password + "\n", capture_output=True, text=True, env=_env(), timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return config


def _sync(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _snapshot(db: Path) -> tuple[dict[str, tuple[object, ...]], Counter[tuple[str, str]]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        cases = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT vendor_case_id, patient_name, vendor_status, unread_comments, removed_at, "
                "(SELECT count(*) FROM setups s WHERE s.case_id = c.id), "
                "(SELECT count(*) FROM comments m WHERE m.case_id = c.id) FROM cases c"
            )
        }
        events = Counter(
            (row[0], row[1])
            for row in conn.execute(
                "SELECT e.type, coalesce(c.vendor_case_id, 'account') FROM events e "
                "LEFT JOIN cases c ON c.id = e.subject_id"
            )
        )
    return cases, events


def test_sigkill_during_a_sync_then_restart(tmp_path: Path, start_portals: PortalFactory) -> None:
    portal = start_portals(VENDOR, practices=1, cases=60)
    portal.admin.faults(latency_ms=15)
    login = next(x for x in portal.admin.state()["logins"] if x["username"].startswith("tps."))
    total = len(login["visible_case_ids"])
    assert total == 60

    crashed = _prepare(tmp_path / "crashed", portal.url, login["username"], login["password"])
    db = tmp_path / "crashed" / "data" / "connector.db"
    process = _sync(crashed)
    deadline = time.monotonic() + 60
    while _count(db, "SELECT count(*) FROM cases") < 10:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the sync made no progress"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    partial = _count(db, "SELECT count(*) FROM cases")
    assert 10 <= partial < total
    assert _count(db, "SELECT count(*) FROM accounts WHERE sync_cursor IS NOT NULL") == 0
    assert _count(db, "SELECT count(*) FROM sync_runs WHERE outcome = 'running'") == 1

    restarted = _sync(crashed)
    assert restarted.wait(timeout=120) == 0, restarted.stderr.read() if restarted.stderr else ""
    assert _count(db, "SELECT count(*) FROM sync_runs WHERE outcome = 'abandoned'") == 1
    assert _count(db, "SELECT count(*) FROM sync_runs WHERE outcome = 'succeeded'") == 1

    clean = _prepare(tmp_path / "clean", portal.url, login["username"], login["password"])
    reference = _sync(clean)
    assert reference.wait(timeout=120) == 0

    crashed_cases, crashed_events = _snapshot(db)
    clean_cases, clean_events = _snapshot(tmp_path / "clean" / "data" / "connector.db")
    assert len(crashed_cases) == total
    assert crashed_cases == clean_cases
    assert crashed_events == clean_events
    assert all(n == 1 for n in crashed_events.values())
