"""The sandbox's languages, variants and site settings over plain HTTP: the login's profile
language wins over the browser's, the classic table takes the old list's parameters, the guessed
JSON API can be switched off, and the generator makes what the real site has (staff usernames
that are not e-mail addresses, patients with several treatments)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from sandbox.common.server import PortalHandle
from tests.sandbox.invisalign.conftest import scenario
from tests.sandbox.invisalign.ids_client import IdsClient

GOOD = scenario("good")
LIST = "/v3/auth/patient/patientList.action"


def html_lang(response: httpx.Response) -> str:
    match = re.search(r'<html lang="([a-z]+)"', response.text)
    assert match
    return match.group(1)


def put(portal: PortalHandle, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.put(f"{portal.url}/__sandbox{path}", json=body, timeout=10)


def test_the_profile_language_wins_over_the_browsers(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    client.http.headers["Accept-Language"] = "ko-KR,ko;q=0.9"
    page = client.login_page()
    assert html_lang(page) == "ko" and "비밀번호" in page.text
    assert html_lang(client.login(GOOD.username, GOOD.password)) == "ko"
    assert put(portal, f"/logins/{GOOD.username}/language", {"language": "pl"}).status_code == 200
    listing = client.http.get(LIST)
    assert html_lang(listing) == "pl" and ">Konto<" in listing.text
    data = client.api_get("/v3/api/patients").json()
    assert data["patients"][0]["trackerStatus"] in {
        "ClinCheck w przygotowaniu", "Wstrzymano", "Przegląd planu leczenia ClinCheck",
        "W trakcie leczenia", "Przesłano",
    }  # fmt: skip
    assert put(portal, f"/logins/{GOOD.username}/language", {"language": "fr"}).status_code == 400
    assert put(portal, "/logins/nobody/language", {"language": "de"}).status_code == 404
    state = portal.admin.state()
    assert next(x for x in state["logins"] if x["username"] == GOOD.username)["language"] == "pl"


def test_the_classic_table_takes_the_old_lists_parameters(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    assert put(portal, "/site", {"variant": "classic-table"}).json()["variant"] == "classic-table"
    client = client_for("good")
    every = client.http.get(LIST, params={"display.filter": "CURRENT"})
    assert "<table" in every.text and ">Order status</th>" in every.text
    assert 'id="tab-action" role="tab" class="action"' in every.text
    rows = re.findall(r"\(#([0-9]{7})\)", every.text)
    state = portal.admin.state()
    login = next(x for x in state["logins"] if x["username"] == GOOD.username)
    assert list(dict.fromkeys(rows)) == login["visible_case_ids"]
    waiting = client.http.get(LIST, params={"display.filter": "ACTION"})
    assert 'class="action active" aria-selected="true"' in waiting.text
    cases = {c["case_id"]: c for c in state["cases"]}
    assert {r for r in re.findall(r"\(#([0-9]{7})\)", waiting.text)} == {
        i for i in login["visible_case_ids"] if cases[i]["action_required"]
    }
    small = client.http.get(
        LIST,
        params={"display.filter": "CURRENT", "display.itemPerPage": "2", "display.pageNumber": "2"},
    )
    assert 'rel="next"' in small.text and 'rel="prev"' in small.text
    nothing = client.http.get(LIST, params={"display.searchString": "Zzyzx"})
    assert 'data-testid="EmptySearch-emptyText"' in nothing.text
    assert put(portal, "/site", {"variant": "tiles"}).status_code == 400


def test_the_guessed_json_api_can_be_switched_off(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    assert client.api_get("/v3/api/patients").status_code == 200
    assert put(portal, "/site", {"json_api": False}).status_code == 200
    gone = client.api_get("/v3/api/patients")
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/plain")
    assert client.api_get("/v3/ui-data/patients").status_code == 200  # the pages' own path
    assert 'data-api="/v3/ui-data"' in client.http.get(LIST).text


def test_the_generator_makes_what_the_real_site_has(portal: PortalHandle) -> None:
    state = portal.admin.state()
    generated_staff = [
        x for x in state["logins"] if x["kind"] == "staff" and x["doctor_id"] != "100001"
    ]
    assert generated_staff and all("@" not in x["username"] for x in generated_staff)
    assert any(c["earlier_treatments"] for c in state["cases"])
    assert all(c["package"] for c in state["cases"])
