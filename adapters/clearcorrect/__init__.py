"""The ClearCorrect Doctor Portal adapter (httpx): a partner (collaborator) login, its cases,
setups and notes, in every language the portal speaks.

`ClearCorrectAdapter(base_url).open(credentials, saved_state, code_provider, guard=...)` gives a
`ClearCorrectSession` implementing `adapters.base.PortalSession`. It reads the WebForms pages
(`pages.py`) or, where the portal answers one, the JSON API (`api.py`, an optional fast path).
Everything the adapter knows of the portal's markup lives in `adapters.clearcorrect.site`.
"""

from adapters.base import VerificationCodeRejected
from adapters.clearcorrect.adapter import (
    MAX_RELOGINS,
    VENDOR,
    ClearCorrectAdapter,
    ClearCorrectSession,
)
from adapters.clearcorrect.api import MAX_LISTING_RESTARTS
from adapters.clearcorrect.status import STATUS_TABLE, case_status

__all__ = [
    "MAX_LISTING_RESTARTS",
    "MAX_RELOGINS",
    "STATUS_TABLE",
    "VENDOR",
    "ClearCorrectAdapter",
    "ClearCorrectSession",
    "VerificationCodeRejected",
    "case_status",
]
