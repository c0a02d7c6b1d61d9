"""A plain httpx client that uses the WebForms pages as a browser would: it keeps the last page,
submits its one form with every field the page rendered (hidden fields, text boxes, selected
options), sets `__EVENTTARGET` / `__EVENTARGUMENT` for a `__doPostBack`, and adds the clicked
button's name and value."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

LOGIN = "/Login.aspx"
USERNAME = "ctl00$MainPH$txtUserName"
PASSWORD = "ctl00$MainPH$txtPassword"
SIGN_IN = "ctl00$MainPH$btnLogin"
ERROR = re.compile(r'id="ctl00_MainPH_lblError"[^>]*>([^<]*)<')


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name"):
            if a.get("type") == "submit":
                self.buttons[a["name"]] = a.get("value", "")
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self._first_option = None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.fields.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


class WebFormsClient:
    def __init__(self, base_url: str, accept_language: str | None = None) -> None:
        headers = {"Accept-Language": accept_language} if accept_language else {}
        self.http = httpx.Client(base_url=base_url, timeout=10, headers=headers)
        self.url = base_url
        self.html = ""
        self.last: httpx.Response | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WebFormsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.last = response
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            self.url = str(response.url)
            self.html = response.text
        return response

    def get(self, path: str) -> httpx.Response:
        return self._keep(self.http.get(path))

    def form(self) -> _Form:
        parsed = _Form()
        parsed.feed(self.html)
        return parsed

    def postback(
        self,
        target: str = "",
        argument: str = "",
        *,
        press: str | None = None,
        **fields: str,
    ) -> httpx.Response:
        """Post the current page's form back, as `__doPostBack(target, argument)` or as a click
        on the button `press`, with `fields` changed."""
        form = self.form()
        data = dict(form.fields)
        data.update(fields)
        data["__EVENTTARGET"] = target
        data["__EVENTARGUMENT"] = argument
        if press is not None:  # a button the page did not render is posted with its name
            data[press] = form.buttons.get(press, press)
        return self._keep(self.http.post(urljoin(self.url, form.action), data=data))

    def sign_in(
        self, username: str, password: str, return_url: str | None = None
    ) -> httpx.Response:
        path = LOGIN + (f"?ReturnUrl={return_url}" if return_url else "")
        assert self.get(path).status_code == 200
        return self.postback(press=SIGN_IN, **{USERNAME: username, PASSWORD: password})

    def login(self, username: str, password: str) -> None:
        response = self.sign_in(username, password)
        assert response.status_code == 302, ERROR.findall(response.text)
        assert self.get(response.headers["location"]).status_code == 200

    def error(self) -> str:
        found = ERROR.findall(self.html)
        return found[0] if found else ""
