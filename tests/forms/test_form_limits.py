"""Rate limits, codes that never come, and a shutdown while a sign-in waits for one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest

from connector.api.app import create_app
from connector.forms.texts import Texts
from sandbox.common.server import PortalHandle, free_port, serve
from sandbox.scenarios import scenario
from tests.forms.conftest import Connector, FormClient, settings_for
from tests.forms.test_form_http import title_of

T = Texts.of("en", portal="ClearCorrect Doctor Portal", tps="Planwerk TPS")

Start = Callable[..., AbstractContextManager[Connector]]


@pytest.fixture
def start_connector(
    tmp_path_factory: pytest.TempPathFactory,
    portals: dict[str, PortalHandle],
    connector: Connector,
) -> Start:
    """Another connector app with its own settings and database (same sandboxes and log)."""

    @contextmanager
    def start(**forms: Any) -> Iterator[Connector]:
        data_dir = tmp_path_factory.mktemp("forms-limits")
        port = free_port()
        settings = settings_for(data_dir, port, portals, connector.tps_url, **forms)
        with serve(create_app(settings), port=port) as running:
            yield Connector(
                running.url, settings, data_dir, connector.log, portals, connector.tps_url
            )

    return start


def form_for(app: Connector, **body: Any) -> FormClient:
    created = app.create_session(**body)
    http = httpx.Client(base_url=app.url, timeout=60)
    return FormClient(app, created["url"], http)


def test_a_link_is_rate_limited(start_connector: Start) -> None:
    with start_connector(max_attempts_per_token=1) as app:
        form = form_for(app, vendor="clearcorrect")
        username = "nobody.limited@tps-sandbox.example"
        first = form.post(username=username, password="Limit#Wrong2026")
        assert title_of(first.text) == T("wrong_password_title")
        before = app.portals["clearcorrect"].admin.requests()
        second = form.post(username=username, password="Limit#Wrong2027")
        assert second.status_code == 429
        assert title_of(second.text) == T("rate_limited_title")
        assert int(second.headers["retry-after"]) > 0
        assert app.portals["clearcorrect"].admin.requests() == before  # not tried
        # Bad input is not an attempt and still gets its own answer.
        assert form.post(username="", password="").status_code == 422
        assert app.account("clearcorrect", username) is None  # refused: nothing stored
        form.http.close()


def test_an_address_is_rate_limited(start_connector: Start) -> None:
    with start_connector(max_attempts_per_address=2) as app:
        forms = [form_for(app, vendor="clearcorrect") for _ in range(3)]
        answers = [
            form.post(username=f"nobody{i}@tps-sandbox.example", password="Limit#Wrong2028")
            for i, form in enumerate(forms)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert app.account("clearcorrect", "nobody2@tps-sandbox.example") is None
        for form in forms:
            form.http.close()


def test_a_code_that_never_comes(start_connector: Start) -> None:
    login = scenario("clearcorrect", "email_code")
    with start_connector(code_wait_seconds=1) as app:
        form = form_for(app, vendor="clearcorrect")
        page = form.post(username=login.username, password=login.password)
        assert T("code_title") in page.text
        time.sleep(1.5)
        shown = form.get()
        assert title_of(shown.text) == T("code_needed_title")
        assert app.account("clearcorrect", login.username) is None
        late = form.post("code", code="123456")
        assert title_of(late.text) == T("code_late_title")
        assert app.form_session(form.url)["consumed_at"] is None  # type: ignore[index]
        form.http.close()


def test_a_shutdown_while_a_code_is_awaited_is_recorded(start_connector: Start) -> None:
    login = scenario("clearcorrect", "email_code")
    with start_connector() as app:
        form = form_for(app, vendor="clearcorrect")
        page = form.post(username=login.username, password=login.password)
        assert T("code_title") in page.text
        form.http.close()
    assert app.account("clearcorrect", login.username) is None
    leases = app._db().execute("SELECT COUNT(*) FROM sync_leases").fetchone()[0]
    assert leases == 0
    pending = (
        app._db()
        .execute("SELECT COUNT(*) FROM login_attempts WHERE outcome = 'pending'")
        .fetchone()[0]
    )
    assert pending == 0


def test_a_slow_portal_shows_a_page_that_reloads_itself(start_connector: Start) -> None:
    login = scenario("clearcorrect", "good")
    with start_connector(verify_wait_seconds=1) as app:
        admin = app.portals["clearcorrect"].admin
        admin.faults(latency_ms=600)
        form = form_for(app, vendor="clearcorrect")
        try:
            waiting = form.post(username=login.username, password=login.password)
            assert waiting.status_code == 200
            assert T("checking_title") in waiting.text
            assert 'http-equiv="refresh"' in waiting.text and form.path in waiting.text
            for _ in range(40):
                shown = form.get()
                if T("checking_title") not in shown.text:
                    break
                time.sleep(0.25)
            assert title_of(shown.text) == T("connected_title")
            assert form.get().status_code == 410  # shown once, then the link is used
        finally:
            admin.clear_faults()
            app.remove_account("clearcorrect", login.username)
            form.http.close()
