"""A plain-httpx client of the IDS sandbox that does what the login page's script would do.

The hosted login page needs its script to answer a challenge; these tests answer it with the
sandbox's own `solve_challenge` (the browser tests prove the page script computes the same). The
login lives on its own host (127.0.0.2, same port): forms are posted where the page came from,
and httpx keeps each host's cookies apart as a browser does.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from sandbox.invisalign.auth import solve_challenge

_STATE = re.compile(r'name="state" value="([^"]+)"')
_CHALLENGE = re.compile(r'data-challenge="([^"]+)"')
_ERROR_CODE = re.compile(r'data-error-code="([^"]+)"')
HOME = "/v3/auth/patient/patientList.action"
LOGIN_HOST = "127.0.0.2"


def error_code(response: httpx.Response) -> str | None:
    match = _ERROR_CODE.search(response.text)
    return match.group(1) if match else None


class IdsClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=True, timeout=10)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> IdsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Login ------------------------------------------------------------------------------------

    def login_page(self) -> httpx.Response:
        """Open an app page without a session: the site redirects to the hosted login."""
        response = self.http.get("/v3/auth/patients.action")
        assert response.url.path == "/u/login", response.url
        assert response.url.host == LOGIN_HOST, response.url
        return response

    def submit_password(
        self,
        username: str,
        password: str,
        remember: bool = False,
        solve: bool = True,
        page: httpx.Response | None = None,
    ) -> httpx.Response:
        """Fill in the hosted login page (`page`, or a fresh one) as its script would."""
        page = page or self.login_page()
        state = _STATE.search(page.text)
        challenge = _CHALLENGE.search(page.text)
        assert state
        assert challenge
        form = {
            "state": state.group(1),
            "username": username,
            "password": password,
            "captcha": solve_challenge(challenge.group(1), state.group(1)) if solve else "",
        }
        if remember:
            form["remember"] = "true"
        return self.http.post(
            page.url.copy_with(query=None, params={"state": state.group(1)}), data=form
        )

    def submit_code(self, page: httpx.Response, code: str) -> httpx.Response:
        state = _STATE.search(page.text)
        assert state
        form = {"state": state.group(1), "code": code}
        return self.http.post(page.url.copy_with(params={"state": state.group(1)}), data=form)

    def login(self, username: str, password: str, remember: bool = False) -> httpx.Response:
        response = self.submit_password(username, password, remember)
        assert response.url.path == HOME, (response.status_code, response.url)
        return response

    # App --------------------------------------------------------------------------------------

    @property
    def csrf(self) -> str:
        return self.http.cookies.get("CSRF-TOKEN", domain="127.0.0.1") or ""

    def cookie_names(self, host: str = "127.0.0.1") -> set[str]:
        """The names of the cookies this client holds for one host."""
        return {c.name for c in self.http.cookies.jar if c.domain == host}

    def api_get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"X-CSRF-TOKEN": self.csrf})

    def api_post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRF-TOKEN": self.csrf})
