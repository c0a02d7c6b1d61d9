"""A plain httpx client that uses the portal the way an adapter would: read the login form's
anti-forgery token, post the form, then call the JSON API with the page's request token."""

from __future__ import annotations

import re
from typing import Any

import httpx

LOGIN = "/Identity/Account/Login"
TWO_FACTOR = "/Identity/Account/LoginWith2fa"
CHANGE_PASSWORD = "/Identity/Account/Manage/ChangePassword"
FORM_TOKEN = re.compile(r'name="__RequestVerificationToken" type="hidden" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="request-verification-token" content="([^"]+)"')


def form_token(html: str) -> str:
    match = FORM_TOKEN.search(html)
    assert match, "no anti-forgery token in the page"
    return match.group(1)


class PortalClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.api_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login_page(self, return_url: str = "/Cases") -> str:
        response = self.http.get(LOGIN, params={"ReturnUrl": return_url})
        assert response.status_code == 200
        return response.text

    def submit_login(
        self,
        username: str,
        password: str,
        email_field: str = "Input.Email",
        password_field: str = "Input.Password",  # noqa: S107 (a form field name)
    ) -> httpx.Response:
        """Post the login form (token from a fresh form); redirects are not followed."""
        token = form_token(self.login_page())
        data = {
            email_field: username,
            password_field: password,
            "__RequestVerificationToken": token,
        }
        return self.http.post(LOGIN, params={"ReturnUrl": "/Cases"}, data=data)

    def submit_code(self, code: str) -> httpx.Response:
        page = self.http.get(TWO_FACTOR)
        assert page.status_code == 200
        data = {"Input.TwoFactorCode": code, "__RequestVerificationToken": form_token(page.text)}
        return self.http.post(TWO_FACTOR, params={"ReturnUrl": "/Cases"}, data=data)

    def login(self, username: str, password: str) -> None:
        response = self.submit_login(username, password)
        assert response.status_code == 302, response.text
        assert response.headers["location"] == "/Cases"
        self.refresh_token()

    def refresh_token(self) -> str:
        """The user-bound request token, from the cases page's meta tag."""
        page = self.http.get("/Cases")
        assert page.status_code == 200
        match = META_TOKEN.search(page.text)
        assert match
        self.api_token = match.group(1)
        return self.api_token

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"RequestVerificationToken": self.api_token} if self.api_token else {}
        return self.http.post(path, json=body or {}, headers=headers)

    def cases(self, **params: Any) -> dict[str, Any]:
        response = self.http.get("/api/cases", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def all_case_numbers(self, **params: Any) -> list[str]:
        numbers: list[str] = []
        page = 1
        while True:
            result = self.cases(page=page, pageSize=100, **params)
            numbers += [item["caseNumber"] for item in result["items"]]
            if page >= result["totalPages"]:
                return numbers
            page += 1


def login_of(state: dict[str, Any], username: str) -> dict[str, Any]:
    """One login's entry in the admin state dump."""
    for login in state["logins"]:
        if login["username"] == username:
            result: dict[str, Any] = login
            return result
    raise KeyError(username)
