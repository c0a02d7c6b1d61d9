"""Fixtures for the ClearCorrect adapter tests: a running sandbox portal (the WebForms pages by
default; the Identity app or the WebForms site with its JSON API on request), adapters with a
fast retry policy, credentials of the scenario and generated logins, and what the portal's
state dump says a login should see, in the words of the language and the path it is read in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters.base import AuthorRole, CaseDetail, CasePage, CaseSummary, Credentials, utc
from adapters.clearcorrect import ClearCorrectAdapter, ClearCorrectSession, case_status
from adapters.http import RetryPolicy
from sandbox.clearcorrect import IDENTITY_JSON, WEBFORMS, labels
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle
from vault import Secret

#: How a test reads the portal: the WebForms pages, the WebForms site's JSON API, or the
#: Identity app (its API).
PAGES = "pages"
WEBFORMS_API = "webforms-api"
IDENTITY = "identity"
PATHS = (PAGES, WEBFORMS_API, IDENTITY)


def choose(portal: PortalHandle, path: str) -> None:
    """Make the running portal the variant a test path reads."""
    with ClearCorrectAdmin(portal.url) as admin:
        admin.variant(IDENTITY_JSON if path == IDENTITY else WEBFORMS, json_api=path != PAGES)


def set_language(portal: PortalHandle, username: str, lang: str | None) -> None:
    with ClearCorrectAdmin(portal.url) as admin:
        admin.language(username, lang)


#: Fast backoffs so fault tests run in seconds; many attempts so a 37% failure rate per attempt
#: (30% errors, 10% 429) practically never exhausts them.
FAST = RetryPolicy(max_attempts=10, max_total_seconds=20, initial_backoff=0.001, max_backoff=0.01)

PortalFactory = Callable[..., PortalHandle]


@pytest.fixture
def portal(start_portals: PortalFactory) -> PortalHandle:
    """Four practices of twelve cases: practices 0 and 3 share with the TPS-wide partner, and
    practice 3 grants it View without Reject setups."""
    return start_portals("clearcorrect", practices=4, cases=12, seed=11)


@pytest.fixture
def adapter(portal: PortalHandle) -> ClearCorrectAdapter:
    return ClearCorrectAdapter(portal.url, policy=FAST)


def scenario_credentials(name: str) -> Credentials:
    login = scenario(name)
    totp = Secret(login.totp_secret) if login.totp_secret else None
    return Credentials(login.username, Secret(login.password), totp)


def login_of(state: dict[str, Any], username: str) -> dict[str, Any]:
    for login in state["logins"]:
        if login["username"] == username.lower():
            found: dict[str, Any] = login
            return found
    raise KeyError(username)


def credentials_of(state: dict[str, Any], username: str) -> Credentials:
    return Credentials(username, Secret(login_of(state, username)["password"]))


def partner_of(state: dict[str, Any], doctor_id: str) -> str:
    """The per-practice partner login of one doctor."""
    for login in state["logins"]:
        if (
            login["kind"] == "partner"
            and login["username"].startswith("tps.")
            and doctor_id in login["permissions"]
        ):
            username: str = login["username"]
            return username
    raise KeyError(doctor_id)


def attempts(portal: PortalHandle, username: str) -> int:
    counter = portal.admin.logins().get(username.lower())
    return int(counter["attempts"]) if counter else 0


def login_posts(portal: PortalHandle) -> int:
    """Password posts, on either sign-in."""
    endpoints = portal.admin.requests()["by_endpoint"]
    return int(endpoints.get("POST /Login.aspx", 0)) + int(
        endpoints.get("POST /Identity/Account/Login", 0)
    )


def code_posts(portal: PortalHandle) -> int:
    endpoints = portal.admin.requests()["by_endpoint"]
    return int(endpoints.get("POST /LoginVerify.aspx", 0)) + int(
        endpoints.get("POST /Identity/Account/LoginWith2fa", 0)
    )


async def collect(
    session: ClearCorrectSession, cursor: str | None = None
) -> tuple[list[CasePage], dict[str, CaseSummary]]:
    pages = [page async for page in session.list_cases(cursor)]
    items: dict[str, CaseSummary] = {}
    for page in pages:
        for item in page.items:
            items[item.vendor_case_id] = item
    return pages, items


def mailbox_code_provider(
    portal: PortalHandle, username: str, asked: list[str] | None = None
) -> Callable[[str], Awaitable[Secret | None]]:
    """A person reading the sandbox mailbox: the newest code sent to `username`."""

    async def provide(channel: str) -> Secret | None:
        if asked is not None:
            asked.append(channel)
        messages = await asyncio.to_thread(portal.admin.mailbox, username)
        return Secret(messages[-1]["code"]) if messages else None

    return provide


# ---- what the state dump says a login sees ---------------------------------------------------


def unread_for(comment: dict[str, Any], username: str) -> bool:
    return comment["author_username"] != username and username not in comment["read_by"]


def language_of(state: dict[str, Any], username: str) -> str:
    """The language the adapter meets: the login's profile language (it sends no
    Accept-Language, so a login without one gets English)."""
    return login_of(state, username)["language"] or "en"


def shown_status(case: dict[str, Any], lang: str, path: str) -> str:
    """The status text the adapter reads: the page's words, or the API's English code."""
    return labels.status(case["status"], lang) if path == PAGES else case["status"]


def expected_summary(
    case: dict[str, Any], username: str, lang: str = "en", path: str = PAGES
) -> dict[str, Any]:
    return {
        "vendor_case_id": case["case_id"],
        "patient_name": case["patient_name"],
        "patient_id": case["patient_id"],
        "vendor_doctor_id": case["doctor_id"],
        "vendor_doctor_name": case["doctor_name"],
        "status": case_status(case["status"]),
        "vendor_status": shown_status(case, lang, path),
        "action_required": case["action_required"],
        "unread_comments": sum(unread_for(c, username) for c in case["comments"]),
        "updated_at": utc(case["updated_at"]),
    }


def actual_summary(summary: CaseSummary) -> dict[str, Any]:
    return {key: getattr(summary, key) for key in expected_summary_keys()}


def expected_summary_keys() -> tuple[str, ...]:
    return (
        "vendor_case_id",
        "patient_name",
        "patient_id",
        "vendor_doctor_id",
        "vendor_doctor_name",
        "status",
        "vendor_status",
        "action_required",
        "unread_comments",
        "updated_at",
    )


def visible_cases(state: dict[str, Any], username: str) -> dict[str, dict[str, Any]]:
    ids = set(login_of(state, username)["visible_case_ids"])
    return {c["case_id"]: c for c in state["cases"] if c["case_id"] in ids}


def _stl_files(case: dict[str, Any], setup: dict[str, Any]) -> list[tuple[str, str, None]]:
    """The STL scans of the submission a setup was made from, as the setup page lists them."""
    submission = next(
        (s for s in case["submissions"] if s["submission_id"] == setup["submission_id"]),
        case["submissions"][-1],
    )
    arch = {"upper": "maxillary", "lower": "mandibular"}
    return [(f["name"], arch[f["arch"]], None) for f in submission["files"] if f["kind"] == "stl"]


def expected_detail(
    case: dict[str, Any], username: str, base_url: str, lang: str = "en", path: str = PAGES
) -> dict[str, Any]:
    pages = path == PAGES
    states = {
        "Awaiting approval": "cc.wf.setup.state.in-review",
        "Declined": "cc.wf.setup.state.declined",
        "Approved": "cc.wf.setup.state.approved",
        "Superseded": "cc.wf.setup.state.superseded",
    }
    return {
        "summary": expected_summary(case, username, lang, path),
        "created_at": None if pages else utc(case["created_at"]),
        "setups": [
            {
                "id": s["setup_id"],
                "version": s["version"],
                "created_at": utc(s["created_at"]),
                "vendor_state": labels.word(states[s["state"]], lang) if pages else s["state"],
                "viewer_url": (
                    f"{base_url}/detail/setup.aspx?id={s['setup_id']}"
                    if pages
                    else base_url + s["viewer_url"]
                ),
                "files": (
                    _stl_files(case, s)
                    if pages
                    else [(f["name"], f["kind"], f["size"]) for f in s["files"]]
                ),
            }
            for s in case["setups"]
        ],
        "comments": [
            {
                "id": c["comment_id"],
                "role": AuthorRole(c["author_role"]),
                "author": (c["author_username"] or c["author_name"]) if pages else c["author_name"],
                "body": c["body"],
                "created_at": utc(c["created_at"]),
                "unread": unread_for(c, username),
            }
            for c in case["comments"]
        ],
    }


def actual_detail(detail: CaseDetail) -> dict[str, Any]:
    return {
        "summary": actual_summary(detail.summary),
        "created_at": detail.created_at,
        "setups": [
            {
                "id": s.vendor_setup_id,
                "version": s.version,
                "created_at": s.created_at,
                "vendor_state": s.vendor_state,
                "viewer_url": s.viewer_url,
                "files": [(f.name, f.kind, f.size) for f in s.files],
            }
            for s in detail.setups
        ],
        "comments": [
            {
                "id": c.vendor_comment_id,
                "role": c.author_role,
                "author": c.author_name,
                "body": c.body,
                "created_at": c.created_at,
                "unread": c.unread,
            }
            for c in detail.comments
        ],
    }


# ---- a doctor acting on the portal (to change the data under a listing) ----------------------

_META_TOKEN = re.compile(r'<meta name="request-verification-token" content="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="__RequestVerificationToken" type="hidden" value="([^"]+)"')


async def unshare(portal: PortalHandle, doctor: Credentials, case_id: str, partner: str) -> None:
    """The doctor stops sharing `case_id` with `partner`, through the portal's own API."""
    async with httpx.AsyncClient(base_url=portal.url) as client:
        page = await client.get("/Identity/Account/Login")
        match = _FORM_TOKEN.search(page.text)
        assert match
        form = {
            "Input.Email": doctor.username,
            "Input.Password": doctor.password.reveal(),
            "__RequestVerificationToken": match.group(1),
        }
        signed_in = await client.post("/Identity/Account/Login", data=form)
        assert signed_in.status_code == 302
        cases = await client.get("/Cases")
        meta = _META_TOKEN.search(cases.text)
        assert meta
        response = await client.delete(
            f"/api/cases/{case_id}/shares/{partner}",
            headers={"RequestVerificationToken": meta.group(1)},
        )
        assert response.status_code == 204, response.text


async def drain(pages: AsyncIterator[CasePage]) -> list[CasePage]:
    return [page async for page in pages]


def newest(items: dict[str, CaseSummary]) -> datetime:
    return max(i.updated_at for i in items.values() if i.updated_at is not None)
