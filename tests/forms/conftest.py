"""One connector app (uvicorn on loopback) and both sandbox portals for the form tests.

Shared by the package: starting them costs more than every form flow together. Tests that
touch an account remove it afterwards (`remove_account`), so each flow starts from a clean
account and a fresh login-failure budget. Every password a test types is registered in
`connector.typed`, and `scan_for_leaks` looks for them in every log line, event, stored row and
database file.
"""

from __future__ import annotations

import io
import logging
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from connector.api.app import create_app
from connector.logs import configure_logging
from connector.settings import Settings
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, free_port, serve, start_portal

API_TOKEN = "tps-form-test-token-0123456789"
#: Also allowed, never served: for validation tests.
OTHER_TPS = "https://other-tps.example.org"


@dataclass
class Connector:
    url: str
    settings: Settings
    data_dir: Path
    log: io.StringIO
    portals: dict[str, PortalHandle]
    #: The TPS app's settings page, a real server on loopback: where the form sends dentists.
    tps_url: str
    #: Every secret a test typed (passwords, TOTP secrets, codes of 12+ characters).
    typed: set[str] = field(default_factory=set)
    #: Every response body the tests received from the form (for the leak scan).
    bodies: list[str] = field(default_factory=list)
    #: Every form link token handed out: capabilities, never to be logged.
    tokens: set[str] = field(default_factory=set)

    @property
    def return_prefix(self) -> str:
        return f"{self.tps_url}/settings/"

    @property
    def return_url(self) -> str:
        return f"{self.return_prefix}aligners?tab=logins"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "connector.db"

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=60
        )

    def create_session(self, **body: Any) -> dict[str, Any]:
        with self.api() as client:
            response = client.post("/v1/form-sessions", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        self.tokens.add(data["url"].rsplit("/", 1)[-1])
        return data

    def _db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def account(self, vendor: str, username: str) -> dict[str, Any] | None:
        with self._db() as conn:
            row = conn.execute(
                "SELECT * FROM accounts WHERE vendor = ? AND username_key = ?",
                (vendor, username.strip().casefold()),
            ).fetchone()
        return dict(row) if row else None

    def login_attempts(self, vendor: str, username: str) -> list[dict[str, Any]]:
        """The portal login's sign-in attempts, oldest first."""
        with self._db() as conn:
            rows = conn.execute(
                "SELECT source, step, outcome, reason FROM login_attempts "
                "WHERE vendor = ? AND login_key = ? ORDER BY id",
                (vendor, username.strip().casefold()),
            ).fetchall()
        return [dict(r) for r in rows]

    def form_session(self, url: str) -> dict[str, Any] | None:
        from connector.store.form_sessions import token_hash

        token = url.rsplit("/", 1)[-1]
        with self._db() as conn:
            row = conn.execute(
                "SELECT * FROM form_sessions WHERE token_hash = ?", (token_hash(token),)
            ).fetchone()
        return dict(row) if row else None

    def execute(self, sql: str, *params: Any) -> None:
        with self._db() as conn:
            conn.execute(sql, params)

    def remove_account(self, vendor: str, username: str) -> None:
        """Delete the account (cascades: credentials, sessions, form sessions) and, as the
        sandbox's unlock does on its side, forget the portal login's budget and attempts, so
        the next test starts clean."""
        key = username.strip().casefold()
        with self._db() as conn:
            conn.execute(
                "DELETE FROM accounts WHERE vendor = ? AND username_key = ?", (vendor, key)
            )
            conn.execute(
                "DELETE FROM portal_logins WHERE vendor = ? AND login_key = ?", (vendor, key)
            )
            conn.execute(
                "DELETE FROM login_attempts WHERE vendor = ? AND login_key = ?", (vendor, key)
            )

    def sealed_logins(self) -> int:
        """How many sealed passwords the database holds."""
        with self._db() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'portal_login'"
            ).fetchone()
        return int(row[0])

    def scan_for_leaks(self) -> None:
        """No typed secret in any log line, event, response body, row or database file."""
        secrets = {s for s in self.typed if len(s) >= 12}
        assert secrets, "the tests typed no secret worth scanning for"
        logged = self.log.getvalue()
        assert logged, "nothing was logged: the scan would prove nothing"
        with self._db() as conn:
            events = [r[0] for r in conn.execute("SELECT data FROM events").fetchall()]
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            rows = [
                repr(tuple(row))
                for table in tables
                for row in conn.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
            ]
        files = [
            path.read_bytes()
            for path in self.data_dir.iterdir()
            if path.name.startswith("connector.db")  # the database, its -wal and -shm
        ]
        assert any(p.name.endswith("-wal") for p in self.data_dir.iterdir()) or files
        assert self.tokens
        for token in self.tokens:
            assert token not in logged, "a form token reached a log line"
        for secret in secrets:
            assert secret not in logged, "a typed secret reached a log line"
            assert not any(secret in e for e in events), "a typed secret reached an event"
            assert not any(secret in body for body in self.bodies), "a secret was in a page"
            assert not any(secret in row for row in rows), "a typed secret is stored in clear"
            encoded = secret.encode()
            assert not any(encoded in blob for blob in files), "a secret is in a database file"


def settings_for(
    data_dir: Path, port: int, portals: dict[str, PortalHandle], tps_url: str, **forms: Any
) -> Settings:
    return Settings(
        data_dir=data_dir,
        api={"tokens": [API_TOKEN], "public_base_url": f"http://127.0.0.1:{port}"},
        vendors={vendor: {"base_url": handle.url} for vendor, handle in portals.items()},
        forms={
            "return_url_allowlist": [f"{tps_url}/settings/", OTHER_TPS],
            "tps_name": "Planwerk TPS",
            "max_attempts_per_address": 10_000,
            "max_attempts_per_token": 50,
            **forms,
        },
    )


@pytest.fixture(scope="package")
def portals() -> Iterator[dict[str, PortalHandle]]:
    with (
        start_portal("invisalign", SandboxConfig(admin=True, practices=0, cases=0)) as invisalign,
        start_portal("clearcorrect", SandboxConfig(admin=True, practices=0, cases=0)) as cc,
    ):
        yield {"invisalign": invisalign, "clearcorrect": cc}


async def _tps_page(request: Request) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>TPS</title><h1>Planwerk TPS settings</h1>")


@pytest.fixture(scope="package")
def tps_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/{path:path}", _tps_page)])
    with serve(app) as running:
        yield running.url


@pytest.fixture(scope="package")
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    structlog.reset_defaults()


@pytest.fixture(scope="package")
def connector(
    tmp_path_factory: pytest.TempPathFactory,
    portals: dict[str, PortalHandle],
    log_stream: io.StringIO,
    tps_url: str,
) -> Iterator[Connector]:
    data_dir = tmp_path_factory.mktemp("forms-connector")
    port = free_port()
    settings = settings_for(data_dir, port, portals, tps_url)
    with serve(create_app(settings), port=port) as running:
        yield Connector(running.url, settings, data_dir, log_stream, portals, tps_url)


@dataclass
class FormClient:
    """A browser without a browser: keeps the form's cookie and reads the CSRF field."""

    connector: Connector
    url: str
    http: httpx.Client

    @property
    def path(self) -> str:
        return self.url.removeprefix(self.connector.url)

    def get(self, action: str = "") -> httpx.Response:
        response = self.http.get(self.path + (f"/{action}" if action else ""))
        self.connector.bodies.append(response.text)
        return response

    def csrf(self) -> str:
        return csrf_of(self.get().text)

    def post(self, action: str = "", **fields: str) -> httpx.Response:
        if "csrf" not in fields:
            fields["csrf"] = self.csrf()
        for name in ("password", "totp_secret", "code"):
            if fields.get(name):
                self.connector.typed.add(fields[name])
        response = self.http.post(self.path + (f"/{action}" if action else ""), data=fields)
        self.connector.bodies.append(response.text)
        return response


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
def form_client(connector: Connector) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(**body: Any) -> FormClient:
        created = connector.create_session(**body)
        http = httpx.Client(base_url=connector.url, timeout=120, follow_redirects=False)
        clients.append(http)
        return FormClient(connector, created["url"], http)

    yield make
    for client in clients:
        client.close()
