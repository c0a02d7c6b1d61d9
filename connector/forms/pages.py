"""The update-credentials form dentists open from a link: `/forms/{token}`.

Server-rendered (Jinja2, autoescaped), no JavaScript at all: every step is a form POST and a
page, and the "still checking" page reloads itself with a meta refresh. A typed password or
authenticator secret is never written into a page, a log line or an event.

Protection, besides the unguessable link: a CSRF token in a hidden field bound to the
`tpsc_form` cookie (HttpOnly, SameSite=Strict) and to the link's token; a strict CSP without
scripts, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and `Cache-Control: no-store` on
every page; rate limits per link and per client address; and, in `connector.verify`, the
account's login-failure budget, so the form can never be what locks a portal account.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from connector.api.state import ApiContext
from connector.clock import utcnow
from connector.credentials import check_password, check_totp_secret, check_username
from connector.domain import MAX_SIGN_IN_FAILURES, Account
from connector.errors import ConnectorError, InputError
from connector.forms.guidance import VendorGuidance, guidance_for
from connector.forms.limits import FormLimits
from connector.forms.links import form_path, return_origin, return_target
from connector.forms.texts import Texts, negotiate
from connector.forms.waiting import InFlight, Verifications
from connector.settings import Settings
from connector.store import accounts as account_rows
from connector.store import form_sessions as records
from connector.store.form_sessions import FormSession
from connector.verify import Login, Verdict, Verification, recheck_account, verify_login
from vault import Secret

_log = structlog.get_logger("connector.forms")

#: The form's CSRF cookie. Not XSRF-TOKEN or CSRF-TOKEN: the sandbox portals use those, and
#: cookies are kept per host, not per port, so everything on 127.0.0.1 shares one jar.
CSRF_COOKIE = "tpsc_form"
CSRF_FIELD = "csrf"
#: The box the dentist ticks after signing in on the portal themselves (budget reset).
CONFIRM_FIELD = "confirmed_sign_in"
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_CODE = re.compile(r"^[0-9]{4,10}$")
#: The "still checking" page reloads itself this often (seconds).
REFRESH_SECONDS = 2


# --- per-process state --------------------------------------------------------------------------


class FormRuntime:
    """What the form keeps in memory: verifications in flight and the rate limits."""

    def __init__(self, settings: Settings) -> None:
        forms = settings.forms
        self.settings = settings
        self.verifications = Verifications()
        self.limits = FormLimits(
            per_token=forms.max_attempts_per_token,
            per_address=forms.max_attempts_per_address,
            window=forms.rate_window_minutes * 60,
        )
        self.base_path = urlsplit(settings.api.public_base_url).path.rstrip("/")
        self.secure_cookie = settings.api.public_base_url.startswith("https://")


def runtime_of(app: Any) -> FormRuntime:
    state = app.state
    runtime: FormRuntime | None = getattr(state, "forms", None)
    if runtime is None:
        runtime = FormRuntime(state.settings)
        state.forms = runtime
    return runtime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's lifespan: verifications still waiting at shutdown are told no code
    will come (their accounts go to `mfa_required`) before the store closes."""
    runtime = runtime_of(app)
    try:
        yield
    finally:
        await runtime.verifications.close()


router = APIRouter(lifespan=lifespan, include_in_schema=False)

_templates = Environment(
    loader=PackageLoader("connector.forms", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_STYLESHEET = (files("connector.forms") / "assets" / "form.css").read_bytes()


# --- responses ----------------------------------------------------------------------------------


def _headers(extra_form_action: str | None = None) -> dict[str, str]:
    form_action = "'self'" + (f" {extra_form_action}" if extra_form_action else "")
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def _html(
    runtime: FormRuntime,
    template: str,
    status: int,
    values: Mapping[str, Any],
    *,
    cookie: str | None = None,
    return_url: str | None = None,
) -> HTMLResponse:
    body = _templates.get_template(template).render(
        stylesheet=f"{runtime.base_path}/forms/assets/form.css", **values
    )
    response = HTMLResponse(
        body,
        status_code=status,
        headers=_headers(return_origin(return_url) if return_url else None),
    )
    if cookie is not None:
        response.set_cookie(
            CSRF_COOKIE,
            cookie,
            path=f"{runtime.base_path}/forms",
            httponly=True,
            samesite="strict",
            secure=runtime.secure_cookie,
        )
    return response


def _link_page(
    request: Request, runtime: FormRuntime, kind: str, status: int, language: str | None = None
) -> HTMLResponse:
    """A page about the link itself: not valid, expired, already used."""
    settings = runtime.settings
    lang = language or negotiate(None, request.headers.get("accept-language"))
    t = Texts.of(lang, tps=settings.forms.tps_name)
    return _html(
        runtime,
        "notice.html",
        status,
        {
            "lang": t.language,
            "t": t,
            "title": t(f"{kind}_title"),
            "body": t(f"{kind}_body", minutes=settings.forms.token_ttl_minutes),
        },
    )


@router.get("/forms/assets/form.css")
async def stylesheet() -> Response:
    return Response(
        _STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# --- the page's context -------------------------------------------------------------------------


@dataclass
class Page:
    """One request to one form session."""

    request: Request
    ctx: ApiContext
    runtime: FormRuntime
    session: FormSession
    token: str
    t: Texts
    guide: VendorGuidance
    cookie: str
    new_cookie: bool
    expired: bool = False

    def expired_page(self) -> HTMLResponse:
        return _link_page(self.request, self.runtime, "expired", 410, self.t.language)

    @property
    def csrf(self) -> str:
        return hmac.new(
            self.token.encode(), f"csrf:{self.cookie}".encode(), hashlib.sha256
        ).hexdigest()

    def csrf_ok(self, form: Mapping[str, str]) -> bool:
        if self.new_cookie:  # the browser sent no (valid) cookie with its POST
            return False
        return hmac.compare_digest(form.get(CSRF_FIELD, "").encode(), self.csrf.encode())

    def path(self, action: str = "") -> str:
        return form_path(self.runtime.base_path, self.token, action)

    @property
    def address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        common = {
            "lang": self.t.language,
            "t": self.t,
            "portal": self.guide.portal,
            "guide": self.guide,
            "csrf": self.csrf,
            "action": self.path(),
            "code_action": self.path("code"),
            "cancel_action": self.path("cancel"),
            "recheck_action": self.path("recheck"),
            "form_link": self.path(),
            "return_url": self.session.return_url,
        }
        return _html(
            self.runtime,
            template,
            status,
            {**common, **values},
            cookie=self.cookie if self.new_cookie else None,
            return_url=self.session.return_url,
        )


async def _open(request: Request, token: str) -> Page | HTMLResponse:
    ctx: ApiContext = request.app.state.ctx
    runtime = runtime_of(request.app)
    async with ctx.runtime.store.read() as conn:
        session = await records.find_by_token(conn, token)
    if session is None:
        return _link_page(request, runtime, "not_found", 404)
    lang = negotiate(session.locale, request.headers.get("accept-language"))
    flight = runtime.verifications.get(session.id)
    # The outcome that consumed the link is still shown once, to the page that waited for it.
    unseen = flight is not None and flight.done and request.method == "GET"
    if session.consumed and not unseen:
        return _link_page(request, runtime, "used", 410, lang)
    expired = session.expired(utcnow())
    if expired and flight is None:
        # A sign-in already under way may finish (its code page outlives the link's expiry);
        # nothing new starts on an expired link.
        return _link_page(request, runtime, "expired", 410, lang)
    guide = guidance_for(session.vendor)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    new_cookie = not _COOKIE_VALUE.match(cookie)
    if new_cookie:
        cookie = secrets.token_urlsafe(32)
    return Page(
        request=request,
        ctx=ctx,
        runtime=runtime,
        session=session,
        token=token,
        t=Texts.of(lang, session.timezone, portal=guide.portal, tps=ctx.settings.forms.tps_name),
        guide=guide,
        cookie=cookie,
        new_cookie=new_cookie,
        expired=expired,
    )


async def _form_fields(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # a body that is not a form reads as an empty one
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- pages --------------------------------------------------------------------------------------


async def _account(page: Page) -> Account | None:
    if page.session.account_id is None:
        return None
    async with page.ctx.runtime.store.read() as conn:
        try:
            return await account_rows.get_account(conn, page.session.account_id)
        except ConnectorError:
            return None


async def _form(
    page: Page,
    *,
    status: int = 200,
    username: str | None = None,
    message: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    confirm: bool = False,
) -> HTMLResponse:
    """The form; `confirm` adds the box the dentist ticks after signing in on the portal
    themselves, which resets a spent failure budget."""
    account = await _account(page)
    if username is None:
        username = account.username if account else ""
    if account is not None and account.sign_in_failures >= MAX_SIGN_IN_FAILURES:
        confirm = True
    return page.render(
        "form.html",
        status,
        username=username,
        message=message,
        errors=errors or {},
        confirm=confirm,
        title=page.t("page_title"),
    )


def _message(page: Page, title_key: str, body_key: str, **values: Any) -> dict[str, Any]:
    return {"kind": "error", "title": page.t(title_key), "body": page.t(body_key, **values)}


_FAILURES: dict[Verdict, str] = {
    Verdict.WRONG_PASSWORD: "wrong_password",
    Verdict.PASSWORD_EXPIRED: "password_expired",
    Verdict.CODE_NEEDED: "code_needed",
    Verdict.CODE_REFUSED: "code_refused",
    Verdict.LOCKED: "locked",
    Verdict.PORTAL_UNAVAILABLE: "unavailable",
    Verdict.PORTAL_CHANGED: "portal_changed",
    Verdict.BUDGET_EXHAUSTED: "budget",
    Verdict.CREDENTIALS_REJECTED: "credentials_rejected",
    Verdict.BUSY: "busy",
    Verdict.CONFLICT: "conflict",
}


async def _outcome(page: Page, result: Verification | None, username: str) -> HTMLResponse:
    t = page.t
    if result is None:
        return await _form(
            page, username=username, message=_message(page, "error_title", "error_body")
        )
    account = result.account
    if result.verdict is Verdict.CONNECTED and account is not None:
        capabilities = [str(c) for c in result.access.capabilities] if result.access else []
        back = (
            return_target(page.session.return_url, account.id, str(account.status))
            if page.session.return_url
            else None
        )
        count_key = "connected_cases_capped" if result.cases_capped else "connected_cases"
        return page.render(
            "outcome.html",
            title=t("connected_title"),
            kind="success",
            body=t("connected_body"),
            detail=t(count_key, count=result.cases or 0),
            advice_title=t("limited_title"),
            advice=page.guide.limited_advice(capabilities, t.language),
            back=back,
            final=True,
            username=account.username,
        )
    if result.verdict in (Verdict.EXCESS_PERMISSIONS, Verdict.INSUFFICIENT_PERMISSIONS):
        access = result.access
        excess = result.verdict is Verdict.EXCESS_PERMISSIONS
        sentence = (access.excessive if excess else access.insufficient) if access else None
        key = "excess" if excess else "insufficient"
        return page.render(
            "outcome.html",
            title=t(f"{key}_title"),
            kind="warning",
            body=t(f"{key}_body"),
            detail=None,
            advice_title=None,
            advice=page.guide.access_sentence(sentence or result.message, t.language),
            back=None,
            final=False,
            username=account.username if account else username,
        )
    key = _FAILURES.get(result.verdict, "unavailable")
    values: dict[str, Any] = {}
    if result.until is not None:
        values["time"] = t.moment(result.until)
    budget_spent = result.verdict is Verdict.BUDGET_EXHAUSTED
    if budget_spent:
        values["failures"] = MAX_SIGN_IN_FAILURES
    message = _message(page, f"{key}_title", f"{key}_body", **values)
    return await _form(page, username=username, message=message, confirm=budget_spent)


async def _progress(page: Page, flight: InFlight) -> HTMLResponse:
    """Whatever the verification of this session is doing now, as a page."""
    if flight.awaiting_code:
        return _code_page(page, flight)
    if not flight.done:
        return page.render(
            "checking.html",
            title=page.t("checking_title"),
            refresh=f"{REFRESH_SECONDS};url={page.path()}",
        )
    page.runtime.verifications.forget(page.session.id)
    return await _outcome(page, flight.result(), flight.username)


def _code_page(
    page: Page, flight: InFlight, *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    channel = flight.channel or "other"
    intro_key = {"email": "code_email_body", "totp": "code_totp_body"}.get(
        channel, "code_other_body"
    )
    return page.render(
        "code.html",
        status,
        title=page.t("code_title"),
        intro=page.t(intro_key),
        again=flight.asks > 1 and error is None,
        error=error,
        wait=page.t("code_wait", minutes=max(1, round(flight.code_wait / 60))),
        channel=channel,
    )


def _rate_limited(page: Page, wait: float) -> HTMLResponse:
    minutes = max(1, int(wait // 60) + 1)
    response = page.render(
        "notice.html",
        429,
        title=page.t("rate_limited_title"),
        body=page.t("rate_limited_body", minutes=minutes),
        back=None,
    )
    response.headers["Retry-After"] = str(int(wait) + 1)
    return response


def _csrf_refused(page: Page) -> HTMLResponse:
    _log.info("form.csrf_refused", form_session=page.session.id)
    return page.render(
        "notice.html", 403, title=page.t("csrf_title"), body=page.t("csrf_body"), back=None
    )


def _check_fields(form: Mapping[str, str]) -> tuple[Login | None, dict[str, str], str]:
    """The typed login, or the fields' errors (text keys). Never echoes a secret."""
    errors: dict[str, str] = {}
    raw_username = form.get("username", "")
    username = raw_username.strip()
    password = form.get("password", "")
    totp = form.get("totp_secret", "")
    if not username:
        errors["username"] = "username_required"
    else:
        try:
            username = check_username(raw_username)
            if not username.isprintable():  # zero-width, bidi overrides, C1 controls...
                raise InputError("the username contains characters that are not printable")
        except InputError:
            errors["username"] = "username_invalid"
    if not password:
        errors["password"] = "password_required"  # noqa: S105 (a text key)
    else:
        try:
            check_password(Secret(password))
        except InputError:
            errors["password"] = "password_invalid"  # noqa: S105 (a text key)
    totp_secret: Secret | None = None
    try:
        totp_secret = check_totp_secret(Secret(totp)) if totp.strip() else None
    except InputError:
        errors["totp_secret"] = "totp_invalid"  # noqa: S105 (a text key)
    shown = username if "username" not in errors else raw_username[:320]
    if errors:
        return None, errors, shown
    return Login(username, Secret(password), totp_secret), {}, username


async def _settled(page: Page, flight: InFlight) -> HTMLResponse:
    """Give the sign-in up to `forms.verify_wait_seconds` to finish, then show where it stands."""
    await flight.settle(page.ctx.settings.forms.verify_wait_seconds)
    return await _progress(page, flight)


def _start(page: Page, username: str, run: Any) -> InFlight:
    return page.runtime.verifications.start(
        page.session.id, username, page.ctx.settings.forms.code_wait_seconds, run
    )


async def _run_login(
    page: Page, login: Login, flight: InFlight, confirmed: bool
) -> Verification | None:
    ctx, session = page.ctx, page.session
    store = ctx.runtime.store

    async def on_account(account: Account) -> None:
        async with store.transaction() as conn:
            await records.set_account(conn, session.id, account.id, utcnow())

    try:
        result = await verify_login(
            ctx.services,
            vendor=session.vendor,
            login=login,
            code_provider=flight.code_provider,
            account_id=session.account_id,
            practice_id=session.practice_id,
            confirmed_own_sign_in=confirmed,
            on_account=on_account,
            wake=ctx.wakers.sync,
        )
    except Exception as exc:
        _log.error("form.verify_error", form_session=session.id, error=type(exc).__name__)
        return None
    return await _record(page, result)


async def _run_recheck(page: Page, account_id: str, flight: InFlight) -> Verification | None:
    ctx = page.ctx
    try:
        result = await recheck_account(
            ctx.services, account_id, code_provider=flight.code_provider, wake=ctx.wakers.sync
        )
    except Exception as exc:
        _log.error("form.verify_error", form_session=page.session.id, error=type(exc).__name__)
        return None
    return await _record(page, result)


async def _record(page: Page, result: Verification) -> Verification:
    final = result.verdict is Verdict.CONNECTED
    async with page.ctx.runtime.store.transaction() as conn:
        if result.account is not None and page.session.account_id is None:
            await records.set_account(conn, page.session.id, result.account.id, utcnow())
        await records.record_outcome(
            conn, page.session.id, str(result.verdict), utcnow(), final=final
        )
    _log.info(
        "form.outcome",
        form_session=page.session.id,
        account_id=result.account.id if result.account else None,
        vendor=page.session.vendor,
        outcome=str(result.verdict),
        portal_tried=result.portal_tried,
    )
    return result


@router.get("/forms/{token}")
async def show_form(request: Request, token: str) -> Response:
    page = await _open(request, token)
    if not isinstance(page, Page):
        return page
    flight = page.runtime.verifications.get(page.session.id)
    if flight is not None:
        return await _progress(page, flight)
    return await _form(page)


async def _posted(request: Request, token: str) -> tuple[Page, dict[str, str]] | Response:
    """A POST to a live link with a valid CSRF token, or the page that refuses it."""
    page = await _open(request, token)
    if not isinstance(page, Page):
        return page
    form = await _form_fields(request)
    if not page.csrf_ok(form):
        return _csrf_refused(page)
    return page, form


@router.post("/forms/{token}")
async def submit_login(request: Request, token: str) -> Response:
    posted = await _posted(request, token)
    if not isinstance(posted, tuple):
        return posted
    page, form = posted
    flight = page.runtime.verifications.get(page.session.id)
    if flight is not None and not flight.done:
        # A sign-in of this session is already under way (a double click): show it.
        return await _settled(page, flight)
    if page.expired:
        return page.expired_page()
    login, errors, shown = _check_fields(form)
    if login is None:
        summary = {"kind": "error", "title": page.t("problem"), "body": None}
        return await _form(page, status=422, username=shown, message=summary, errors=errors)
    wait = page.runtime.limits.attempt(page.session.id, page.address)
    if wait is not None:
        return _rate_limited(page, wait)
    page.runtime.verifications.forget(page.session.id)
    confirmed = form.get(CONFIRM_FIELD) == "yes"
    flight = _start(page, login.username, lambda f: _run_login(page, login, f, confirmed))
    return await _settled(page, flight)


@router.post("/forms/{token}/code")
async def submit_code(request: Request, token: str) -> Response:
    posted = await _posted(request, token)
    if not isinstance(posted, tuple):
        return posted
    page, form = posted
    flight = page.runtime.verifications.get(page.session.id)
    if flight is None:
        message = _message(page, "code_late_title", "code_late_body")
        return await _form(page, message=message)
    if not flight.awaiting_code:
        return await _settled(page, flight)
    code = re.sub(r"[\s-]", "", form.get("code", ""))
    if not code:
        return _code_page(page, flight, status=422, error="code_required")
    if not _CODE.match(code):
        return _code_page(page, flight, status=422, error="code_invalid")
    wait = page.runtime.limits.attempt(page.session.id, page.address)
    if wait is not None:
        return _rate_limited(page, wait)
    flight.hand_code(Secret(code))
    return await _settled(page, flight)


@router.post("/forms/{token}/recheck")
async def recheck(request: Request, token: str) -> Response:
    posted = await _posted(request, token)
    if not isinstance(posted, tuple):
        return posted
    page, _ = posted
    flight = page.runtime.verifications.get(page.session.id)
    if flight is not None and not flight.done:
        return await _settled(page, flight)
    if page.expired:
        return page.expired_page()
    account = await _account(page)
    if account is None:
        return await _form(page)
    wait = page.runtime.limits.attempt(page.session.id, page.address)
    if wait is not None:
        return _rate_limited(page, wait)
    page.runtime.verifications.forget(page.session.id)
    account_id = account.id
    flight = _start(page, account.username, lambda f: _run_recheck(page, account_id, f))
    return await _settled(page, flight)


@router.post("/forms/{token}/cancel")
async def give_up(request: Request, token: str) -> Response:
    posted = await _posted(request, token)
    if not isinstance(posted, tuple):
        return posted
    page, _ = posted
    flight = page.runtime.verifications.get(page.session.id)
    if flight is not None:
        flight.withdraw()  # a sign-in waiting for a code ends now (mfa_required)
        await flight.settle(10)
        page.runtime.verifications.forget(page.session.id)
    account = await _account(page)
    status = str(account.status) if account else "cancelled"
    async with page.ctx.runtime.store.transaction() as conn:
        took = await records.record_outcome(
            conn, page.session.id, "cancelled", utcnow(), final=True
        )
    if not took:
        return _link_page(request, page.runtime, "used", 410, page.t.language)
    _log.info(
        "form.given_up",
        form_session=page.session.id,
        account_id=account.id if account else None,
        status=status,
    )
    if page.session.return_url:
        target = return_target(page.session.return_url, account.id if account else None, status)
        return RedirectResponse(target, status_code=303, headers=_headers(return_origin(target)))
    return page.render(
        "notice.html", title=page.t("stopped_title"), body=page.t("stopped_body"), back=None
    )
