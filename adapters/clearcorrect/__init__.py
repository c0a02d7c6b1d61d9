"""The ClearCorrect Doctor Portal adapter (httpx): a partner login, its cases, setups and chat.

`ClearCorrectAdapter(base_url).open(credentials, saved_state, code_provider)` gives a
`ClearCorrectSession` implementing `adapters.base.PortalSession`. The portal's URLs, fields and
messages live in `adapters.clearcorrect.site`; statuses in `adapters.clearcorrect.status`.
"""

from adapters.base import VerificationCodeRejected
from adapters.clearcorrect.adapter import (
    MAX_LISTING_RESTARTS,
    MAX_RELOGINS,
    VENDOR,
    ClearCorrectAdapter,
    ClearCorrectSession,
)
from adapters.clearcorrect.status import STATUS_TABLE, author_role, case_status, setup_state

__all__ = [
    "MAX_LISTING_RESTARTS",
    "MAX_RELOGINS",
    "STATUS_TABLE",
    "VENDOR",
    "ClearCorrectAdapter",
    "ClearCorrectSession",
    "VerificationCodeRejected",
    "author_role",
    "case_status",
    "setup_state",
]
