"""Start-up, as an operator meets it: one line with the cause and an exit code of its own.

Before: every database failure printed `error: unexpected OperationalError`, a bad
`browser.ws_endpoint` `unexpected Error`; a second `serve` on a used port printed "serving on"
and started its loops before dying among JSON log lines; `data_dir` followed the current
directory (a read-only command elsewhere made a new database and key file); a misspelt
`CONNECTOR_DATABSE__URL` was ignored in favour of SQLite; `public_base_url` ignored `api.port`;
`accounts remove` deleted without `--yes` when stdin was not a terminal; there was no
`--version`.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from connector import __version__
from connector.settings import Settings
from sandbox.common.server import free_port
from tests.conftest import PG_ADMIN_DSN, require
from tests.ops.support import cli, one_error_line

PASSWORD = "Startup-pw-secret-42"


def _pg(path: str, user: str = "postgres", password: str = "") -> str:
    host_port = PG_ADMIN_DSN.split("@", 1)[1].split("/", 1)[0]
    secret = f":{password}" if password else ""
    return f"postgresql+psycopg://{user}{secret}@{host_port}/{path}"


@pytest.mark.parametrize(
    ("url", "needs_pg", "label", "cause"),
    [
        (
            f"postgresql+psycopg://connector:{PASSWORD}@127.0.0.1:{free_port()}/connector",
            False,
            "PostgreSQL connector@127.0.0.1:",
            "Connection refused",
        ),
        (
            f"postgresql+psycopg://connector:{PASSWORD}@db.invalid/connector",
            False,
            "PostgreSQL connector@db.invalid/connector",
            "db.invalid",
        ),
        (_pg("no_such_database_here"), True, "/no_such_database_here", "does not exist"),
        (_pg("postgres", "no_such_role", PASSWORD), True, "no_such_role@", "no_such_role"),
    ],
    ids=["server-down", "unknown-host", "unknown-database", "unknown-user"],
)
def test_database_failures_say_what_failed(
    tmp_path: Path, url: str, needs_pg: bool, label: str, cause: str, pg_available: bool
) -> None:
    if needs_pg:
        require(pg_available, "PostgreSQL at 127.0.0.1:5432")
    result = cli("accounts", "list", cwd=tmp_path, env={"CONNECTOR_DATABASE__URL": url})
    assert result.returncode == 3, result.stderr
    line = one_error_line(result)
    assert line.startswith("error: cannot use the database (")
    assert label in line and cause in line, line
    assert PASSWORD not in result.stderr + result.stdout


def test_an_unreachable_remote_browser_is_one_line(tmp_path: Path) -> None:
    assert cli("db", "upgrade", cwd=tmp_path).returncode == 0
    endpoint = f"ws://127.0.0.1:{free_port()}/7f3c9a1e-secret-guid"
    result = cli("sync", cwd=tmp_path, env={"CONNECTOR_BROWSER__WS_ENDPOINT": endpoint})
    assert result.returncode == 6, result.stderr
    line = one_error_line(result)
    assert line.startswith("error: cannot reach the remote browser at ws://127.0.0.1:")
    assert "(browser.ws_endpoint)" in line
    assert "secret-guid" not in result.stderr + result.stdout


def test_a_port_in_use_stops_serve_before_anything_starts(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        result = cli(
            "serve",
            cwd=tmp_path,
            env={"CONNECTOR_API__PORT": str(port), "CONNECTOR_LOG__LEVEL": "info"},
        )
    finally:
        taken.close()
    assert result.returncode == 5, result.stderr
    line = one_error_line(result)
    assert line == (
        f"error: cannot listen for the API on 127.0.0.1:{port}: the address is already in use "
        "(another process serves there)"
    )
    assert "serving on" not in result.stdout
    assert result.stderr.strip() == line  # no loop started, nothing logged
    assert not (tmp_path / ".connector").exists()


def test_data_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    installation = tmp_path / "etc"
    installation.mkdir()
    config = installation / "connector.toml"
    config.write_text('data_dir = "state"\n')
    somewhere, elsewhere = tmp_path / "a", tmp_path / "b"
    somewhere.mkdir()
    elsewhere.mkdir()
    added = cli(
        "accounts", "add", "--vendor", "clearcorrect", "--username", "p@tps.example",
        "--config", str(config), cwd=somewhere, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = cli("accounts", "list", cwd=elsewhere, env={"CONNECTOR_CONFIG": str(config)})
    assert listed.returncode == 0 and "p@tps.example" in listed.stdout, listed.stderr
    assert (installation / "state" / "connector.db").is_file()
    assert (installation / "state" / "keys.json").is_file()
    assert list(somewhere.iterdir()) == list(elsewhere.iterdir()) == []


def test_a_read_only_command_in_an_empty_folder_creates_nothing(tmp_path: Path) -> None:
    for args in (["accounts", "list"], ["keys", "status"], ["webhooks", "status"]):
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == 3, (args, result.stderr)
        assert one_error_line(result).startswith("error: there is no connector database at ")
    assert list(tmp_path.iterdir()) == []


def test_a_misspelt_nested_variable_is_refused_with_the_right_name(tmp_path: Path) -> None:
    result = cli(
        "accounts", "list", cwd=tmp_path,
        env={"CONNECTOR_DATABSE__URL": "postgresql+psycopg://connector@db/connector"},
    )  # fmt: skip
    assert result.returncode == 2
    assert one_error_line(result) == (
        "error: CONNECTOR_DATABSE__URL is not a setting; did you mean CONNECTOR_DATABASE__URL?"
    )
    assert not (tmp_path / ".connector").exists()  # no fall-back to SQLite


def test_variables_a_platform_injects_are_only_warned_about(tmp_path: Path) -> None:
    assert cli("db", "upgrade", cwd=tmp_path).returncode == 0
    injected = {  # what Kubernetes sets for a Service named `connector`
        "CONNECTOR_PORT": "tcp://10.0.0.7:8080",
        "CONNECTOR_PORT_8080_TCP_ADDR": "10.0.0.7",
        "CONNECTOR_SERVICE_HOST": "10.0.0.7",
    }
    result = cli("accounts", "list", cwd=tmp_path, env=injected)
    assert result.returncode == 0, result.stderr
    assert "no accounts" in result.stdout
    assert "settings.unknown_environment" in result.stderr
    for name in injected:
        assert name in result.stderr
    assert "10.0.0.7" not in result.stderr  # names only, never values


def test_form_links_follow_the_api_port_unless_a_public_url_is_set() -> None:
    assert Settings(api={"port": 9123}).api.public_base_url == "http://127.0.0.1:9123"
    assert Settings(api={"host": "0.0.0.0", "port": 80}).api.public_base_url == (
        "http://127.0.0.1:80"
    )
    assert Settings(api={"host": "::1", "port": 9}).api.public_base_url == "http://[::1]:9"
    given = Settings(api={"port": 9123, "public_base_url": "https://connect.example.com/tps/"})
    assert given.api.public_base_url == "https://connect.example.com/tps"


def test_accounts_remove_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    added = cli(
        "accounts", "add", "--vendor", "clearcorrect", "--username", "p@tps.example", "--json",
        cwd=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    account_id = added.stdout.split('"id": "', 1)[1].split('"', 1)[0]
    refused = cli("accounts", "remove", account_id, cwd=tmp_path, stdin="y\n")
    assert refused.returncode == 2
    assert "pass --yes" in one_error_line(refused)
    assert account_id in cli("accounts", "list", cwd=tmp_path).stdout
    removed = cli("accounts", "remove", account_id, "--yes", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "no accounts" in cli("accounts", "list", cwd=tmp_path).stdout


def test_version(tmp_path: Path) -> None:
    result = cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"tps-connector {__version__}\n"


def test_a_browser_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    added = cli(
        "accounts", "add", "--vendor", "invisalign", "--username", "rx@tps.example",
        cwd=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = cli(
        "sync", cwd=tmp_path,
        env={
            "CONNECTOR_BROWSER__EXECUTABLE_PATH": "/bin/false",  # a "Chromium" that exits
            "CONNECTOR_VENDORS__INVISALIGN__BASE_URL": f"http://127.0.0.1:{free_port()}",
        },
    )  # fmt: skip
    assert result.returncode == 6, result.stderr
    assert one_error_line(result).startswith("error: the browser failed (")
