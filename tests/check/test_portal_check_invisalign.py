"""`portal check` on the Invisalign sandbox, through real Chromium: nothing differs in any
language or variant; layout 2 names only facts whose test ids it renamed, and fails; a locked
login is not tried; a recording keeps nothing of the seed and the adapter's parsers read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.base.check import Verdict
from adapters.browser import BrowserPool
from adapters.invisalign import pages, site
from adapters.invisalign.html import parse
from connector.portal_check import check_account
from connector.sessions import load_session_state
from connector.store import Store
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from sandbox.invisalign import layout
from sandbox.invisalign.scenarios import SCENARIOS
from sandbox.invisalign.variants import VARIANTS
from tests.check.support import manifest, recorded_text, seed_values, verdicts
from tests.sync.support import add, make_services, make_vault

pytestmark = pytest.mark.browser
VENDOR = "invisalign"
GOOD = next(s for s in SCENARIOS if s.name == "good")
LOCKED = next(s for s in SCENARIOS if s.name == "locked")


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalHandle]:
    with start_portal(VENDOR, SandboxConfig(admin=True, practices=0, cases=0)) as handle:
        yield handle


def _site(portal: PortalHandle, variant: str, language: str) -> None:
    httpx.put(f"{portal.url}/__sandbox/site", json={"variant": variant}).raise_for_status()
    httpx.put(
        f"{portal.url}/__sandbox/logins/{GOOD.username}/language", json={"language": language}
    ).raise_for_status()


def _renamed_facts() -> set[str]:
    """The facts whose selector names a test id layout 2 renames."""
    old, new = layout.markup_ids(1), layout.markup_ids(2)
    renamed = {old[k] for k in old if old[k] != new[k]}
    return {
        fact.id for fact in site.FACTS if any(f'"{test_id}"' in fact.value for test_id in renamed)
    }


async def test_every_language_and_variant_holds_and_layout_2_names_what_it_renamed(
    store: Store, portal: PortalHandle, chromium_options: dict[str, Any]
) -> None:
    vault = make_vault(store)
    pool = BrowserPool()
    services = make_services(store, vault, {VENDOR: portal.url}, pool)
    account = await add(store, vault, VENDOR, GOOD)
    posted = len(portal.admin.posted())
    held: set[str] = set()
    try:
        for language in ("en", "de", "pl", "ko"):
            for variant in VARIANTS:
                _site(portal, variant, language)
                report = await check_account(services, account.id)
                assert verdicts(report, Verdict.DIFFERS) == set(), (language, variant)
                assert report.parser_errors == () and report.unknown_words == ()
                assert report.language == language
                found = verdicts(report, Verdict.HOLDS)
                assert {
                    "ids.login.username-field",
                    "ids.session.cookie",
                    "ids.case.doctor",
                } <= found
                held |= found
        _site(portal, VARIANTS[0], "en")
        portal.admin.faults(layout_version=2)
        try:
            changed = await check_account(services, account.id)
        finally:
            portal.admin.faults(layout_version=1)
    finally:
        await pool.close()
    differs = verdicts(changed, Verdict.DIFFERS)
    renamed = _renamed_facts()
    assert differs and changed.differs
    assert differs <= renamed, differs - renamed  # nothing it did not rename
    # What every card and patient file must show, and layout 2 renamed, is named.
    assert {"ids.list.card", "ids.list.name", "ids.list.id", "ids.list.status",
            "ids.case.doctor"} <= differs  # fmt: skip
    assert not (renamed & held) & verdicts(changed, Verdict.HOLDS)
    assert len(portal.admin.posted()) == posted  # read-only
    assert portal.admin.logins()[GOOD.username.lower()]["successes"] == 1


async def test_a_locked_login_is_not_tried(
    store: Store, portal: PortalHandle, chromium_options: dict[str, Any]
) -> None:
    vault = make_vault(store)
    pool = BrowserPool()
    services = make_services(store, vault, {VENDOR: portal.url}, pool)
    account = await add(store, vault, VENDOR, LOCKED)
    try:
        first = await check_account(services, account.id)  # meets the portal's block once
        assert first.refused is not None
        before = portal.admin.logins()[LOCKED.username.lower()]["attempts"]
        again = await check_account(services, account.id)
    finally:
        await pool.close()
    assert again.refused is not None and again.refused.startswith("locked")
    assert portal.admin.logins()[LOCKED.username.lower()]["attempts"] == before


async def test_a_recording_keeps_nothing_of_the_seed_and_parses(
    store: Store, portal: PortalHandle, tmp_path: Path, chromium_options: dict[str, Any]
) -> None:
    vault = make_vault(store)
    pool = BrowserPool()
    services = make_services(store, vault, {VENDOR: portal.url}, pool)
    account = await add(store, vault, VENDOR, GOOD)
    _site(portal, VARIANTS[0], "pl")
    try:
        report = await check_account(services, account.id, record=tmp_path / "rec")
    finally:
        await pool.close()
        _site(portal, VARIANTS[0], "en")
    assert not report.differs
    saved = await load_session_state(store, vault, account.id, account.credential_version)
    assert saved is not None
    cookies = {c["value"] for c in json.loads(saved.reveal())["cookies"] if len(c["value"]) >= 8}
    assert cookies
    recorded = recorded_text(tmp_path / "rec")
    for value in seed_values(portal.admin.state(), {GOOD.username}) | cookies:
        assert value not in recorded, value
    entries = manifest(tmp_path / "rec")["pages"]
    kinds: dict[str, list[str]] = {}
    for name, entry in entries.items():
        kinds.setdefault(entry["page"], []).append(name)
    assert {"login", "list", "patient", "profile", "json"} <= set(kinds)

    def read(name: str) -> Any:
        return parse((tmp_path / "rec" / name).read_text(encoding="utf-8"))

    listing = pages.read_list(read(kinds["list"][0]))
    assert listing.rows and all(r.patient_id.startswith("9") for r in listing.rows)
    files = [pages.read_patient_file(read(n), portal.url) for n in kinds["patient"]]
    assert all(f.state == "ok" for f in files)
    assert any(f.setups for f in files) and any(f.comments for f in files)
    profile = read(kinds["profile"][0])
    assert not pages.doctor_only_tabs(profile) and pages.read_profile(profile).roles
