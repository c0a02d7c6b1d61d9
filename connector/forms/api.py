"""`POST /v1/form-sessions`: a short-lived link to the update-credentials form.

The TPS asks for a link and sends the dentist's browser to it, so the password goes from the
dentist straight to the connector and never passes through the TPS app (Plaid Link's model).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import available_timezones

import structlog
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from connector.api.errors import ErrorResponse
from connector.api.models import (
    ID_PATTERN,
    RETURN_URL_PATTERN,
    TEXT_PATTERN,
    Vendor,
    locale_pattern,
)
from connector.api.state import ApiContext
from connector.clock import utcnow
from connector.credentials import check_practice_id
from connector.errors import ConflictError, InputError, NotFoundError
from connector.forms.links import check_return_url, form_path, new_token
from connector.forms.texts import LANGUAGES, normalize_locale
from connector.store import accounts as account_rows
from connector.store import form_sessions as records

_log = structlog.get_logger("connector.forms")

router = APIRouter(tags=["forms"])

#: Every IANA time zone this machine knows: the schema lists them, so a client (or a fuzzer)
#: can only send one the form can show times in.
TimeZone = StrEnum(  # type: ignore[misc]
    "TimeZone", {name: name for name in sorted(available_timezones())}
)

_ACCOUNT_ID = re.compile(r"^acc_[0-9a-z]{26}$")


class FormSessionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "vendor": "invisalign",
                    "practice_id": "practice-42",
                    "locale": "de",
                    "timezone": "Europe/Berlin",
                    "return_url": "https://tps.example.com/settings/aligners",
                },
                {"vendor": "clearcorrect", "account_id": "acc_01jd5x0s7c3v9q2m8k4n6p1r5t"},
            ]
        },
    )

    vendor: Vendor = Field(description="The vendor portal: one of the registered adapters.")
    practice_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=TEXT_PATTERN,
        description="The TPS's practice id, set on an account the form creates.",
    )
    account_id: str | None = Field(
        None,
        max_length=40,
        pattern=ID_PATTERN,
        description="Update this account's credentials (same id). Absent: the form creates "
        "an account, or updates the vendor's account with the typed username when it serves "
        "the same practice.",
    )
    locale: str | None = Field(
        None,
        max_length=35,
        pattern=locale_pattern(LANGUAGES),
        description=f"The form's language ({', '.join(LANGUAGES)}; a region like de-AT is "
        "accepted). Absent: the browser's Accept-Language, else English.",
    )
    timezone: TimeZone | None = Field(
        None,
        description="The dentist's IANA time zone (`Europe/Warsaw`), for the times the form "
        "shows. Absent: Europe/Berlin for German, Europe/Warsaw for Polish, UTC otherwise.",
        examples=["Europe/Warsaw"],
    )
    return_url: str | None = Field(
        None,
        max_length=2000,
        pattern=RETURN_URL_PATTERN,
        description="Where the form sends the dentist back, with `account_id` and `status` "
        "added to its query: an absolute http(s) URL that `forms.return_url_allowlist` admits "
        "(403 otherwise).",
    )


class FormSessionResponse(BaseModel):
    url: str = Field(
        description="The form link to send the dentist's browser to. It is a capability: "
        "whoever has it can set this login. Do not log it.",
        examples=["https://connector.example.com/forms/6Zq0cX1G2h-M3n4Pq5Rs6Tu7Vw8Xy9Za0Bc1De2Fg3"],
    )
    expires_at: datetime = Field(examples=["2026-11-25T10:30:00Z"])


def _error_example(code: str, message: str) -> dict[str, Any]:
    return {"application/json": {"example": {"error": {"code": code, "message": message}}}}


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "The body cannot be read (not UTF-8 JSON).",
        "content": _error_example("bad_request", "There was an error parsing the body"),
    },
    401: {
        "model": ErrorResponse,
        "description": "Missing or wrong bearer token.",
        "content": _error_example("unauthorized", "a valid bearer token is required"),
    },
    404: {
        "model": ErrorResponse,
        "description": "`account_id` names no account.",
        "content": _error_example("not_found", "no account acc_01jd5x0s7c3v9q2m8k4n6p1r5t"),
    },
    403: {
        "model": ErrorResponse,
        "description": "`forms.return_url_allowlist` does not admit the return_url.",
        "content": _error_example("forbidden", "return_url is not in forms.return_url_allowlist"),
    },
    409: {
        "model": ErrorResponse,
        "description": "The account belongs to another vendor or practice.",
        "content": _error_example("conflict", "the account belongs to another vendor"),
    },
    422: {
        "model": ErrorResponse,
        "description": "The request does not validate (an unknown vendor, say).",
        "content": _error_example("invalid_request", "vendor: unknown vendor"),
    },
}


@router.post(
    "/form-sessions",
    status_code=201,
    response_model=FormSessionResponse,
    responses=RESPONSES,
    summary="Create a link to the update-credentials form",
)
async def create_form_session(body: FormSessionRequest, request: Request) -> FormSessionResponse:
    """A link (valid `forms.token_ttl_minutes`) a dentist opens to enter or update a vendor login.

    The link's token is random (256 bits) and stored only as a hash. It is consumed by a final
    outcome (connected, or given up), not by a wrong password the dentist may correct.
    """
    ctx: ApiContext = request.app.state.ctx
    settings = ctx.settings
    vendor = body.vendor
    practice_id = check_practice_id(body.practice_id)
    locale = None
    if body.locale is not None:
        locale = normalize_locale(body.locale)
        if locale is None:
            raise InputError(f"locale: expected one of {', '.join(LANGUAGES)}")
    return_url = None
    if body.return_url is not None:
        try:
            return_url = check_return_url(body.return_url, settings.forms.return_url_allowlist)
        except InputError as refused:
            # The schema admitted its form: what is left is the configured allow-list's say.
            raise HTTPException(403, str(refused)) from None
    now = utcnow()
    token = new_token()
    async with ctx.runtime.store.transaction() as conn:
        if body.account_id is not None:
            if not _ACCOUNT_ID.match(body.account_id):
                raise NotFoundError("no such account")
            account = await account_rows.get_account(conn, body.account_id)
            if account.vendor != vendor:
                raise ConflictError("the account belongs to another vendor")
            if practice_id is not None and account.practice_id not in (None, practice_id):
                raise ConflictError("the account serves another practice")
            practice_id = practice_id or account.practice_id
        await records.purge_expired(conn, now)
        session = await records.insert_session(
            conn,
            token=token,
            vendor=vendor,
            practice_id=practice_id,
            account_id=body.account_id,
            locale=locale,
            return_url=return_url,
            now=now,
            ttl=timedelta(minutes=settings.forms.token_ttl_minutes),
            timezone=str(body.timezone) if body.timezone is not None else None,
        )
    _log.info(
        "form.session_created",
        form_session=session.id,
        vendor=vendor,
        account_id=body.account_id,
    )
    # Built from `public_base_url`: /forms faces dentists' browsers, /v1 stays internal.
    url = form_path(settings.api.public_base_url.rstrip("/"), token)
    return FormSessionResponse(url=url, expires_at=session.expires_at)
