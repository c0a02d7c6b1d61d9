"""`portal check` on the ClearCorrect sandbox: nothing differs in any language or variant; the
changed layout names exactly the grids it renamed and fails; a locked login is not tried; a
recording keeps nothing of the seed and the adapter's parsers read it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.base.check import Verdict
from adapters.clearcorrect.site import html, webforms
from connector.cli.app import app
from connector.portal_check import check_account
from connector.runtime import open_runtime
from connector.sessions import load_session_state
from connector.settings import load_settings
from connector.store import Store
from sandbox.clearcorrect.scenarios import SCENARIOS
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from tests.check.support import manifest, recorded_text, seed_values, verdicts, write_config
from tests.sync.support import add, make_services, make_vault

VENDOR = "clearcorrect"
GOOD = next(s for s in SCENARIOS if s.name == "good")
LOCKED = next(s for s in SCENARIOS if s.name == "locked")


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalHandle]:
    with start_portal(VENDOR, SandboxConfig(admin=True, practices=1, cases=3)) as handle:
        yield handle


def _site(portal: PortalHandle, variant: str, username: str, language: str) -> None:
    httpx.put(f"{portal.url}/__sandbox/variant", json={"variant": variant}).raise_for_status()
    httpx.put(
        f"{portal.url}/__sandbox/logins/{username}/language", json={"language": language}
    ).raise_for_status()


async def test_every_language_and_variant_holds_and_nothing_is_posted(
    store: Store, portal: PortalHandle
) -> None:
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    # A portal does not change its kind under a saved session: one login per variant.
    partner = next(x for x in portal.admin.state()["logins"] if x["username"].startswith("tps."))
    logins = {"webforms": GOOD.username, "aspnetcore-json": partner["username"]}
    accounts = {
        "webforms": await add(store, vault, VENDOR, GOOD),
        "aspnetcore-json": await add(store, vault, VENDOR, partner),
    }
    posted = len(portal.admin.posted())
    for variant, account in accounts.items():
        for language in ("en", "de", "pl"):
            _site(portal, variant, logins[variant], language)
            report = await check_account(services, account.id)
            assert verdicts(report, Verdict.DIFFERS) == set(), (variant, language)
            assert report.parser_errors == () and report.unknown_words == ()
            held = verdicts(report, Verdict.HOLDS)
            if variant == "webforms":
                assert report.language == language
                assert {
                    "cc.wf.list.grid",
                    "cc.wf.case.notes-grid",
                    "cc.wf.setup.files-grid",
                } <= held
                assert "cc.wf.signin.username-field" in held
            else:
                assert {"cc.app.api.cases", "cc.app.signin.email-field"} <= held
    assert len(portal.admin.posted()) == posted  # read-only
    # One sign-in per login: the saved session is reused while it works.
    assert [portal.admin.logins()[u]["successes"] for u in logins.values()] == [1, 1]
    _site(portal, "webforms", GOOD.username, "en")


def test_a_changed_layout_names_the_renamed_grids_and_fails(
    tmp_path: Path, portal: PortalHandle
) -> None:
    config = write_config(tmp_path, VENDOR, portal.url)

    async def seed() -> str:
        async with open_runtime(load_settings(config)) as rt:
            return (await add(rt.store, rt.vault, VENDOR, GOOD)).id

    account_id = asyncio.run(seed())
    runner = CliRunner()
    base = ["portal", "check", "--account", account_id, "--config", str(config)]
    ok = runner.invoke(app, base)
    assert ok.exit_code == 0, ok.output
    assert "nothing differs" in ok.output and "cc.wf.list.grid" in ok.output
    portal.admin.faults(layout_version=2)
    try:
        changed = runner.invoke(app, [*base, "--json"])
    finally:
        portal.admin.faults(layout_version=1)
    assert changed.exit_code == 1, changed.output
    report = json.loads(changed.output)
    # `webforms-v2` renames the orders, notes and files grids, and nothing else.
    assert set(report["differs"]) == {
        "cc.wf.list.grid",
        "cc.wf.case.notes-grid",
        "cc.wf.setup.files-grid",
    }
    assert GOOD.password not in changed.output and GOOD.password not in ok.output


async def test_a_locked_login_is_not_tried(store: Store, portal: PortalHandle) -> None:
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    account = await add(store, vault, VENDOR, LOCKED)
    first = await check_account(services, account.id)  # meets the portal's lockout once
    assert first.refused is not None and first.results == ()
    before = portal.admin.logins()[LOCKED.username]["attempts"]
    again = await check_account(services, account.id)
    assert again.refused is not None and again.refused.startswith("locked")
    assert portal.admin.logins()[LOCKED.username]["attempts"] == before


async def test_a_recording_keeps_nothing_of_the_seed_and_parses(
    store: Store, portal: PortalHandle, tmp_path: Path
) -> None:
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    account = await add(store, vault, VENDOR, GOOD)
    report = await check_account(services, account.id, record=tmp_path / "rec")
    assert not report.differs
    saved = await load_session_state(store, vault, account.id, account.credential_version)
    assert saved is not None
    session_cookie_values = {c["value"] for c in json.loads(saved.reveal())["cookies"]}
    assert session_cookie_values
    state = portal.admin.state()
    recorded = recorded_text(tmp_path / "rec")
    for value in seed_values(state, {GOOD.username}) | session_cookie_values:
        assert value not in recorded, value
    pages = manifest(tmp_path / "rec")["pages"]
    kinds = {entry["page"]: name for name, entry in pages.items()}
    assert {"signin", "account", "list", "case", "setup"} <= set(kinds)
    assert "cc.wf.list.grid" in pages[kinds["list"]]["facts"]
    # The adapter's parsers read the recording as they read the portal.

    def read(page: str) -> html.Document:
        return html.parse((tmp_path / "rec" / kinds[page]).read_text(encoding="utf-8"))

    listing = webforms.parse_list(read("list"))
    assert listing.items and all(i.vendor_case_id.startswith("9") for i in listing.items)
    case_id = pages[kinds["case"]]["url"].rsplit("=", 1)[1]
    case = webforms.parse_case(read("case"), case_id)
    assert case.comments and case.setups
    assert webforms.parse_files(read("setup"))
    assert webforms.parse_access(read("account")).capabilities
