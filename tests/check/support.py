"""What the portal check tests share: an account on a sandbox, the check, and the seed's values
that no recording may keep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.base.check import CheckReport, Verdict


def verdicts(report: CheckReport, verdict: Verdict) -> set[str]:
    return {r.fact for r in report.of(verdict)}


def seed_values(state: dict[str, Any], usernames: set[str]) -> set[str]:
    """Every value of the sandbox's seed a recording must not keep: patient names and ids,
    comment and note bodies, doctor names and ids, e-mail addresses, passwords (12 characters
    or more are searched whole; shorter words are searched only when they are names)."""
    found: set[str] = set()
    for login in state["logins"]:
        if login["username"] in usernames:
            found |= {login["username"], login["password"]}
    for case in state["cases"]:
        found.add(case["patient_name"])
        found |= set(case["patient_name"].split())
        found.add(str(case["case_id"]))
        found.add(str(case.get("patient_id") or case["case_id"]).lstrip("#"))
        found.add(case["doctor_name"])
        for comment in case["comments"]:
            found.add(comment["body"])
            found.add(str(comment["comment_id"]))
        for setup in case["setups"]:
            found.add(str(setup["setup_id"]))
    return {v for v in found if len(v) >= 4}


def recorded_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.iterdir()))


def manifest(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    return data


def write_config(directory: Path, vendor: str, url: str) -> Path:
    """A connector config for the CLI: its own data directory and key, the sandbox's URL."""
    import base64
    import os

    key = base64.b64encode(os.urandom(32)).decode()
    config = directory / "connector.toml"
    config.write_text(
        f'data_dir = "{directory / "data"}"\n[vault]\nprovider = "env"\nkeys = "k1:{key}"\n'
        f'[log]\nlevel = "warning"\n[vendors.{vendor}]\nbase_url = "{url}"\n'
    )
    return config
