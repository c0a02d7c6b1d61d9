"""The CLI end to end, in subprocesses: keys, accounts, rotation, errors, and no leaks."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from connector.credentials import reveal_login, store_audit_sink
from connector.settings import Settings
from connector.store import Store
from vault import LocalKeyFile, Vault

PASSWORD = "Cl3arCorrect-Pw!"  # 16 characters: ClearCorrect's maximum
CLI = [sys.executable, "-m", "connector"]


def cli(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    environment.update({"CONNECTOR_LOG__LEVEL": "debug", "COLUMNS": "200"})
    environment.update(env or {})
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def assert_no_leak(text: str | bytes, secret: str = PASSWORD) -> None:
    data = text.encode() if isinstance(text, str) else text
    assert secret.encode() not in data
    assert secret.encode("utf-16-le") not in data


def test_keys_accounts_rotation_and_no_password_anywhere(tmp_path: Path) -> None:
    outputs: list[str] = []

    generated = cli("keys", "generate", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    key_file = tmp_path / ".connector" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first_kid = LocalKeyFile(key_file).primary_kid

    # Hold the database open so SQLite keeps its -wal file for the scan below.
    data_dir = tmp_path / ".connector"
    db_path = data_dir / "connector.db"
    assert cli("db", "upgrade", cwd=tmp_path).returncode == 0
    holder = sqlite3.connect(db_path)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("SELECT count(*) FROM accounts").fetchone()
    try:
        added = cli(
            "accounts",
            "add",
            "--practice",
            "p1",
            "--vendor",
            "clearcorrect",
            "--username",
            "dr@example.com",
            cwd=tmp_path,
            stdin=PASSWORD + "\n",
        )
        outputs += [added.stdout, added.stderr]
        assert added.returncode == 0, added.stderr
        assert "added clearcorrect account acc_" in added.stdout
        assert "account.added" in added.stderr  # debug logging was on and is redacted-clean
        files = sorted(p for p in data_dir.iterdir() if p.is_file())
        assert any(p.name.endswith("-wal") and p.stat().st_size > 0 for p in files)
        for path in files:
            assert_no_leak(path.read_bytes())
    finally:
        holder.close()

    listed = cli("accounts", "list", cwd=tmp_path)
    as_json = cli("accounts", "list", "--json", cwd=tmp_path)
    outputs += [listed.stdout, listed.stderr, as_json.stdout, as_json.stderr]
    assert (
        listed.returncode == 0
        and "dr@example.com" in listed.stdout
        and "verifying" in listed.stdout
    )
    (item,) = json.loads(as_json.stdout)["items"]
    assert item["username"] == "dr@example.com" and item["practice_id"] == "p1"
    assert item["status"] == "verifying"
    assert not {"password", "totp_secret", "ciphertext"} & set(item)
    shown = cli("accounts", "show", item["id"], "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["id"] == item["id"]

    # A new primary key, then rotation: every record moves, and still opens.
    added_key = cli("keys", "generate", cwd=tmp_path)
    assert added_key.returncode == 0 and "added primary key" in added_key.stdout
    rotated = cli("keys", "rotate", cwd=tmp_path)
    outputs += [rotated.stdout, rotated.stderr]
    assert rotated.returncode == 0, rotated.stderr
    assert "rewrapped 1 record(s)" in rotated.stdout
    status = json.loads(cli("keys", "status", "--json", cwd=tmp_path).stdout)
    rows = {s["kek_id"]: s["rows"] for s in status}
    assert rows[first_kid] == 0
    assert sum(rows.values()) == 1

    async def reveal() -> str:
        store = Store.connect(f"sqlite+aiosqlite:///{db_path}")
        try:
            vault = Vault(LocalKeyFile(key_file), store_audit_sink(store))
            login = await reveal_login(store, vault, item["id"], reason="test")
            return login.password.reveal()
        finally:
            await store.close()

    assert asyncio.run(reveal()) == PASSWORD
    retired = cli("keys", "retire", first_kid, cwd=tmp_path)
    assert retired.returncode == 0, retired.stderr

    removed = cli("accounts", "remove", item["id"], "--yes", cwd=tmp_path)
    assert removed.returncode == 0
    assert json.loads(cli("accounts", "list", "--json", cwd=tmp_path).stdout)["items"] == []

    for text in outputs:
        assert_no_leak(text)
        assert "Traceback" not in text


def test_pause_and_resume(tmp_path: Path) -> None:
    add = cli(
        "accounts",
        "add",
        "--vendor",
        "invisalign",
        "--username",
        "rx@clinic.example",
        "--json",
        cwd=tmp_path,
        stdin="another-password-1\n",
    )
    account_id = json.loads(add.stdout)["id"]
    assert cli("accounts", "pause", account_id, cwd=tmp_path).returncode == 0
    shown = json.loads(cli("accounts", "show", account_id, "--json", cwd=tmp_path).stdout)
    assert shown["status"] == "disabled"
    assert cli("accounts", "resume", account_id, cwd=tmp_path).returncode == 0
    shown = json.loads(cli("accounts", "show", account_id, "--json", cwd=tmp_path).stdout)
    assert shown["status"] == "verifying"


@pytest.mark.parametrize(
    ("args", "env", "stdin", "code", "message"),
    [
        (["accounts", "show", "acc_missing"], {}, "", 1, "error: no account acc_missing"),
        (
            ["accounts", "add", "--vendor", "nope", "--username", "a@b.c"],
            {},
            "password-123456\n",
            2,
            "error: unknown vendor 'nope'",
        ),
        (
            ["accounts", "add", "--vendor", "invisalign", "--username", "a@b.c"],
            {},
            "",
            2,
            "error: expected the password on standard input",
        ),
        (
            ["accounts", "list"],
            {"CONNECTOR_API__PORT": "http"},
            "",
            2,
            "error: setting api.port (CONNECTOR_API__PORT)",
        ),
        (
            ["keys", "status"],
            {"CONNECTOR_VAULT__PROVIDER": "env"},
            "",
            2,
            "error: settings [vault]: provider 'env' needs",
        ),
        (["keys", "retire", "kek-unknown"], {}, "", 1, "error: key 'kek-unknown' is not in"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], stdin: str, code: int, message: str
) -> None:
    assert cli("db", "upgrade", cwd=tmp_path).returncode == 0  # read-only commands need one
    result = cli(*args, cwd=tmp_path, env=env, stdin=stdin)
    assert result.returncode == code
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error_lines == [error_lines[0]] and error_lines[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_password_is_never_accepted_as_an_argument(tmp_path: Path) -> None:
    result = cli(
        "accounts",
        "add",
        "--vendor",
        "invisalign",
        "--username",
        "a@b.c",
        "--password",
        PASSWORD,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert not (tmp_path / ".connector" / "connector.db").exists()


def test_key_file_readable_by_others_refuses_to_start(tmp_path: Path) -> None:
    assert cli("keys", "generate", cwd=tmp_path).returncode == 0
    assert cli("db", "upgrade", cwd=tmp_path).returncode == 0
    os.chmod(tmp_path / ".connector" / "keys.json", 0o644)
    result = cli("accounts", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "accessible by group or others" in result.stderr


def test_config_option_on_every_command(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'data_dir = "{tmp_path / "state"}"\n')
    for args in (["keys", "generate"], ["db", "upgrade"], ["accounts", "list"], ["keys", "status"]):
        result = cli(*args, "--config", str(config), cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)
    assert (tmp_path / "state" / "keys.json").exists()
    assert not (tmp_path / ".connector").exists()
    settings = Settings(data_dir=tmp_path / "state")
    assert settings.key_file.exists()


def test_help_runs_as_module_and_console_script(tmp_path: Path) -> None:
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0 and "accounts" in result.stdout and "keys" in result.stdout
