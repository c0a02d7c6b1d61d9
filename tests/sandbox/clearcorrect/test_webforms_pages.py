"""The WebForms pages a partner reads and acts on: Manage Orders by group and page, a case with
its notes and submission pop-up, submission versions and their files, setups and declining them,
My Account, languages, the variants and the changed layout."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.clearcorrect import IDENTITY_JSON, labels
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.webforms_client import WebFormsClient

STATUS = "ctl00$MainPH$ddlStatus"
GRID = "ctl00$MainPH$grdCases"
VERSIONS = "ctl00$MainPH$frmCaseSubmission$tcRecord$tpFiles$ddlCaseSubmissionID"
OPEN_LAST = "ctl00$MainPH$tcRecord$tpSubmissions$grdSubmissions$ctl{:02d}$lnkOpen"
CASE_LINK = re.compile(r'href="detail/case\.aspx\?id=(\d+)"')
NOTE_ROW = re.compile(
    r'<tr( class="unread")?><td>([^<]*)</td><td><input type="hidden" id="[^"]*_hfNoteID" '
    r'value="(\d+)"><span id="[^"]*_lbhNoteText">([^<]*)</span>'
)
FILE_ROW = re.compile(r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]+)</td></tr>')


@pytest.fixture
def client(wf_portal: PortalHandle) -> Iterator[WebFormsClient]:
    login = scenario("good")
    with WebFormsClient(wf_portal.url) as signed_in:
        signed_in.login(login.username, login.password)
        yield signed_in


def case_of(state: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(c for c in state["cases"] if c["case_id"] == case_id)


def visible(state: dict[str, Any], username: str) -> list[dict[str, Any]]:
    login = next(x for x in state["logins"] if x["username"] == username)
    return [c for c in state["cases"] if c["case_id"] in login["visible_case_ids"]]


def group_listing(client: WebFormsClient, group: str) -> list[str]:
    client.get("/cases.aspx")
    client.postback(STATUS, **{STATUS: group})
    found = CASE_LINK.findall(client.html)
    page = 1
    while f"Page${page + 1}" in client.html:
        page += 1
        client.postback(GRID, f"Page${page}")
        found += CASE_LINK.findall(client.html)
    return found


def test_manage_orders_lists_each_group_by_the_status_drop_down(
    wf_portal: PortalHandle, client: WebFormsClient
) -> None:
    state = wf_portal.admin.state()
    mine = visible(state, scenario("good").username)
    for group in ("ActionNeeded", "InProgress", "Closed"):
        expected = sorted(
            (c for c in mine if c["group"] == group), key=lambda c: c["updated_at"], reverse=True
        )
        assert group_listing(client, group) == [c["case_id"] for c in expected]
    for header in ("Order number", "Last Activity", "Collaborator Status", "Doctor"):
        assert f'<th scope="col">{header}</th>' in client.html


def test_the_pager_posts_back_pages_of_25(start_portals: Callable[..., PortalHandle]) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=70, seed=5)
    state = portal.admin.state()
    partner = max(
        (x for x in state["logins"] if x["username"].startswith("tps.")),
        key=lambda x: len(x["visible_case_ids"]),
    )
    with WebFormsClient(portal.url) as client:
        client.login(partner["username"], partner["password"])
        listed = {g: group_listing(client, g) for g in ("ActionNeeded", "InProgress", "Closed")}
    assert max(len(ids) for ids in listed.values()) > 25
    everything = [case_id for ids in listed.values() for case_id in ids]
    assert sorted(everything) == sorted(partner["visible_case_ids"])
    # A pager argument the page did not render is refused by event validation.
    with WebFormsClient(portal.url) as client:
        client.login(partner["username"], partner["password"])
        assert client.postback(GRID, "Page$99").status_code == 500


def test_a_case_page_shows_its_details_and_notes_newest_first(
    wf_portal: PortalHandle, client: WebFormsClient
) -> None:
    username = scenario("good").username
    state = wf_portal.admin.state()
    case = max(visible(state, username), key=lambda c: len(c["comments"]))
    client.get(f"/detail/case.aspx?id={case['case_id']}")
    assert f'id="ctl00_MainPH_lbl_txtCaseID">{case["case_id"]}<' in client.html
    assert f'id="ctl00_MainPH_lblPatientName">{case["patient_name"]}<' in client.html
    assert f'href="../cases.aspx?doctor={case["doctor_id"]}"' in client.html
    assert f">{labels.status(case['status'], 'en')}</span>" in client.html
    rows = NOTE_ROW.findall(client.html)
    assert [r[2] for r in rows] == [c["comment_id"] for c in reversed(case["comments"])]
    unread = {c["comment_id"] for c in case["comments"] if username not in c["read_by"]}
    assert {r[2] for r in rows if r[0]} == unread
    assert ("ctl00_MainPH_tcRecord_tpActionNeeded_header" in client.html) == case["action_required"]
    # Reading never marks anything read.
    assert wf_portal.admin.state()["cases"] == state["cases"]


def test_submission_versions_switch_by_postback_and_list_their_stl_files_with_the_arch(
    wf_portal: PortalHandle, client: WebFormsClient
) -> None:
    state = wf_portal.admin.state()
    mine = visible(state, scenario("good").username)
    case = max(mine, key=lambda c: (len(c["submissions"]), len(c["submissions"][0]["files"])))
    client.get(f"/detail/case.aspx?id={case['case_id']}")
    assert "ctl00_MainPH_frmCaseSubmission_tcRecord" not in client.html
    rows = client.html.count('class="btnlgray bdlgray hand"')
    assert rows == len(case["submissions"])
    client.postback(OPEN_LAST.format(rows + 1))  # the last row is the newest submission
    newest = case["submissions"][-1]
    assert f'selected=selected value="{newest["submission_id"]}"' in client.html
    for submission in reversed(case["submissions"]):
        client.postback(VERSIONS, **{VERSIONS: submission["submission_id"]})
        files = FILE_ROW.findall(client.html)
        assert [name for _, name, _ in files] == [f["name"] for f in submission["files"]]
        for (href, _, kind), data in zip(files, submission["files"], strict=True):
            if data["kind"] == "stl":
                assert ".stl" in href.lower()
                words = {"upper": ("upper", "max"), "lower": ("lower", "mand")}[data["arch"]]
                assert any(word in kind.lower() for word in words)
        has_form = submission["instructions"] is not None
        form_tab = 'id="ctl00_MainPH_frmCaseSubmission_tcRecord_tpForm_tab" style="display:none'
        assert (form_tab not in client.html) == has_form
        if has_form:
            assert submission["instructions"] in client.html
    download = client.http.get(href)
    assert download.status_code == 200


def test_a_note_lands_once_at_the_top_only_as_real_text(
    wf_portal: PortalHandle, client: WebFormsClient
) -> None:
    case_id = visible(wf_portal.admin.state(), scenario("good").username)[0]["case_id"]
    client.get(f"/detail/case.aspx?id={case_id}")
    box, state = "ctl00$MainPH$txtNote", "ctl00$MainPH$tbwmNote_ClientState"
    save = "ctl00$MainPH$btnSaveNote"
    client.postback(press=save, **{box: "Watermark only"})
    assert labels.word("cc.wf.case.note-required", "en") in client.html
    client.postback(press=save, **{box: "Please rotate 22. [ref:act_12345678]", state: "true"})
    top = NOTE_ROW.findall(client.html)[0]
    assert top[3] == "Please rotate 22. [ref:act_12345678]" and top[1] == "Collaborator"
    assert "created: " in client.html and f" by {scenario('good').username}<" in client.html
    posted = wf_portal.admin.posted()
    assert [(p["kind"], p["accepted"]) for p in posted] == [("comment", False), ("comment", True)]


def test_a_decline_sends_the_case_back_to_awaiting_setup_and_a_tick_brings_a_new_setup(
    wf_portal: PortalHandle, client: WebFormsClient
) -> None:
    state = wf_portal.admin.state()
    case = next(
        c
        for c in visible(state, scenario("good").username)
        if c["status"] == "Evaluating Treatment Setup"
    )
    setup = case["setups"][-1]
    client.get(f"/detail/setup.aspx?id={setup['setup_id']}")
    header = f'id="ctl00_MainPH_tcRecordHeaderLarge">Setup: {case["case_id"]} - '
    assert header in client.html
    assert "ctl00_MainPH_frmCaseSubmission_tcRecord_tpFiles_grdAllFiles" in client.html
    assert "ctl00$MainPH$btnApprove" not in client.html
    client.postback(press="ctl00$MainPH$btnApprove")  # not rendered for a partner: ignored
    client.postback(
        press="ctl00$MainPH$btnDecline", **{"ctl00$MainPH$txtDeclineReason": "Less IPR."}
    )
    assert labels.word("cc.wf.decline.msg-done", "en") in client.html
    assert 'id="ctl00_MainPH_lblSetupState">Declined<' in client.html
    assert "ctl00$MainPH$btnDecline" not in client.html
    after = case_of(wf_portal.admin.state(), case["case_id"])
    assert after["status"] == "Awaiting Setup"
    assert after["setups"][-1]["decline_reason"] == "Less IPR."
    assert [p["kind"] for p in wf_portal.admin.posted()] == ["decline"]
    wf_portal.admin.tick(1)
    after = case_of(wf_portal.admin.state(), case["case_id"])
    assert after["status"] == "Evaluating Treatment Setup"
    assert after["setups"][-1]["version"] == setup["version"] + 1


def test_only_the_cases_own_doctor_approves(wf_portal: PortalHandle) -> None:
    doctor = scenario("excess")
    state = wf_portal.admin.state()
    case = next(
        c for c in visible(state, doctor.username) if c["status"] == "Evaluating Treatment Setup"
    )
    with WebFormsClient(wf_portal.url) as client:
        client.login(doctor.username, doctor.password)
        client.get(f"/detail/setup.aspx?id={case['setups'][-1]['setup_id']}")
        client.postback(press="ctl00$MainPH$btnApprove")
        assert labels.word("cc.wf.approve.msg-done", "en") in client.html
    assert case_of(wf_portal.admin.state(), case["case_id"])["status"] == "Approved"


@pytest.mark.parametrize("lang", ["de", "pl"])
def test_signed_in_pages_speak_the_profile_language(
    wf_portal: PortalHandle, client: WebFormsClient, lang: str
) -> None:
    login = scenario("good")
    with ClearCorrectAdmin(wf_portal.url) as admin:
        admin.language(login.username, lang)
    client.get("/cases.aspx")
    assert f'<html lang="{lang}"' in client.html
    assert labels.word("cc.list.col.collaborator-status", lang) in client.html
    assert labels.word("cc.wf.signin.welcome-prefix", lang) in client.html
    client.get("/account.aspx")
    assert labels.word("cc.perm.decline-setups", lang) in client.html
    assert labels.word("cc.role.collaborator", lang) in client.html
    if lang == "de":
        client.get("/cases.aspx")
        assert "Collaborator Status (Partnerstatus)" in client.html


def test_my_account_shows_each_doctors_permissions(
    start_portals: Callable[..., PortalHandle],
) -> None:
    portal = start_portals("clearcorrect", practices=4, cases=2, seed=11)
    state = portal.admin.state()
    wide = next(x for x in state["logins"] if x["username"] == state["tps_wide_partner"])
    with WebFormsClient(portal.url) as client:
        client.login(wide["username"], wide["password"])
        client.get("/account.aspx")
    for doctor_id, granted in wide["permissions"].items():
        assert f'href="cases.aspx?doctor={doctor_id}"' in client.html
        row = client.html.split(f"doctor={doctor_id}", 1)[1].split("</tr>", 1)[0]
        assert ("Decline Treatment Setups" in row) == ("reject_setups" in granted)
        assert ("<li>View</li>" in row) == ("view" in granted)


def test_each_variant_answers_only_its_own_routes(wf_portal: PortalHandle) -> None:
    with WebFormsClient(wf_portal.url) as client, ClearCorrectAdmin(wf_portal.url) as admin:
        assert client.http.get("/Identity/Account/Login").status_code == 404
        assert client.http.get("/api/account").status_code == 404
        admin.variant(json_api=True)
        assert client.http.get("/api/account").status_code == 401
        login = scenario("good")
        client.login(login.username, login.password)
        assert client.http.get("/api/account").json()["email"] == login.username
        assert admin.variant(IDENTITY_JSON) == IDENTITY_JSON
        assert client.http.get("/Login.aspx").status_code == 404
        assert client.http.get("/Identity/Account/Login").status_code == 200
        assert wf_portal.admin.state()["variant"] == IDENTITY_JSON
        seeded = admin.seed(1, 2, 3, variant="webforms", language="pl")
        assert seeded["variant"] == "webforms"
        assert {x["language"] for x in wf_portal.admin.state()["logins"]} == {"pl"}


def test_layout_2_renames_the_grids(wf_portal: PortalHandle, client: WebFormsClient) -> None:
    wf_portal.admin.faults(layout_version=2)
    client.get("/cases.aspx")
    assert 'id="ctl00_MainPH_gvOrders"' in client.html
    assert "ctl00_MainPH_grdCases" not in client.html
