"""The adapter protocol the sync engine relies on (DESIGN section 4).

There is deliberately no `approve`: a TPS may comment and reject a setup, never approve one, and
the safest way to guarantee that is for no code path to exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from adapters.base.models import (
    Access,
    CaseDetail,
    CasePage,
    CodeProvider,
    Credentials,
    PostResult,
    StatusTable,
)
from adapters.base.signin import SignInGuard
from vault import Secret


class PortalSession(Protocol):
    """A logged-in session on one portal, for one account. Never shared between accounts."""

    #: Logins this session performed (0 when a saved state was restored and still valid).
    logins: int

    async def export_state(self) -> Secret:
        """Cookies and storage state to encrypt and keep, so the next sync needs no login."""
        ...

    async def check_access(self) -> Access: ...

    def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        """Pages of case summaries changed since `cursor` (None: everything), in portal order."""
        ...

    async def get_case(self, vendor_case_id: str) -> CaseDetail: ...

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult: ...

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        """ClearCorrect: decline the 3D setup. Invisalign: request a modification of the plan."""
        ...

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        """Whether something carrying `marker` is already on the portal for this case."""
        ...

    async def close(self) -> None: ...


class Adapter(Protocol):
    """One vendor portal."""

    vendor: str
    status_table: StatusTable

    async def open(
        self,
        credentials: Credentials,
        session_state: Secret | None,
        code_provider: CodeProvider,
        *,
        guard: SignInGuard,
    ) -> PortalSession:
        """Restore `session_state` when it is still valid; otherwise log in (once).

        Every password or code the session sends, now or on a later new login, first goes
        through `guard.attempt()` (see `adapters.base.signin`)."""
        ...
