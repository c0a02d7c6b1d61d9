"""Verifying a login live, the way the update-credentials form (and anything else that takes a
dentist's login) does it.

Store the login (a new account, or a new credential version of the same account: Plaid's update
mode), log in on the portal with exactly what was typed, read what the login may do, count the
cases it sees, and account for the outcome exactly as a sync would: the login attempt (source
`form`), a rejected credential, the account's status and its `account.status_changed` event, the
saved portal session. A good login is made due for a sync at once.

Never lock a dentist out (DESIGN section 5): before anything is stored or sent, the account's
login-failure budget is checked, and a portal lockout still running is respected; in both cases
the portal is not tried. The verification holds the account's sync lease, so a scheduled sync
never logs in beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from adapters.base import (
    Access,
    AccountLocked,
    AdapterError,
    CodeProvider,
    Credentials,
    InvalidCredentials,
    MfaRequired,
    PasswordExpired,
    PortalChanged,
    PortalSession,
    VerificationCodeRejected,
)
from connector.clock import utcnow
from connector.credentials import (
    add_account,
    check_password,
    check_practice_id,
    check_totp_secret,
    check_username,
    update_credentials,
)
from connector.domain import Account, AccountStatus, CredentialState
from connector.errors import ConflictError, NotFoundError
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store import leases
from connector.sync import budget
from connector.sync.outcomes import outcome_of_access
from connector.sync.portal import (
    keep_session,
    open_session,
    record_error,
    record_logins,
    set_status,
)
from connector.sync.services import SyncServices
from vault import Secret

_log = structlog.get_logger("connector.verify")

SOURCE = "form"
#: How long a verification waits for a running sync of the same account to finish.
LEASE_WAIT = timedelta(seconds=30)
#: Counting cases stops here: the number is for a person ("more than 5000").
MAX_COUNTED_CASES = 5000


class Verdict(StrEnum):
    """What a verification found, in the form's terms."""

    CONNECTED = "connected"  # logged in, sees cases, no excessive right (maybe limited)
    EXCESS_PERMISSIONS = "excess_permissions"
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (a word, not a password)
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105
    CODE_NEEDED = "code_needed"  # a code was asked for and none came in time
    CODE_REFUSED = "code_refused"
    LOCKED = "locked"
    PORTAL_UNAVAILABLE = "portal_unavailable"
    PORTAL_CHANGED = "portal_changed"
    BUDGET_EXHAUSTED = "budget_exhausted"  # not tried: the failure budget is spent
    BUSY = "busy"  # not tried: a sync of the account kept running
    CONFLICT = "conflict"  # not tried: the username belongs to another practice's account


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    account: Account | None
    #: One English sentence, for logs and API clients (the form has its own words).
    message: str
    #: False when the portal was not contacted at all.
    portal_tried: bool = True
    cases: int | None = None
    cases_capped: bool = False
    access: Access | None = None
    #: Locked until, or the budget frees up at.
    until: datetime | None = None

    def __repr__(self) -> str:
        account_id = self.account.id if self.account else None
        return f"Verification({self.verdict}, account={account_id!r})"


@dataclass(frozen=True)
class Login:
    """What a person typed. Plaintext only for the verification that uses it."""

    username: str
    password: Secret
    totp_secret: Secret | None = None

    def __repr__(self) -> str:
        return f"Login(username={self.username!r})"


def checked_login(username: str, password: Secret, totp_secret: Secret | None) -> Login:
    """Validate and normalize a typed login (raises `InputError`, which echoes nothing)."""
    return Login(check_username(username), check_password(password), check_totp_secret(totp_secret))


AccountHook = Callable[[Account], Awaitable[None]]


async def verify_login(
    services: SyncServices,
    *,
    vendor: str,
    login: Login,
    code_provider: CodeProvider,
    account_id: str | None = None,
    practice_id: str | None = None,
    on_account: AccountHook | None = None,
    wake: Callable[[], None] = lambda: None,
    lease_wait: timedelta = LEASE_WAIT,
) -> Verification:
    """Store `login` for the account (`account_id`, or the vendor's account with this username,
    or a new one) and verify it on the portal.

    An existing account found by username is updated only when it serves the same practice
    (or neither names one); otherwise the result is `CONFLICT` and nothing changes. `on_account`
    is called as soon as the account exists (so a later attempt updates the same account).
    """
    practice_id = check_practice_id(practice_id)
    if vendor not in services.adapters:
        raise LookupError(f"no adapter for {vendor}")
    async with services.store.read() as conn:
        if account_id is not None:
            account: Account | None = await account_rows.get_account(conn, account_id)
        else:
            account = await account_rows.find_account(conn, vendor, login.username)
    if account is not None and account.vendor != vendor:
        raise ConflictError("the account belongs to another vendor")
    if account is not None and account_id is None and account.practice_id != practice_id:
        return Verification(
            Verdict.CONFLICT,
            None,
            "this username is already connected for another practice",
            portal_tried=False,
        )
    if account is not None:
        lease = _Lease(services, account.id, lease_wait)
        if not await lease.acquire():
            return _busy(account)
        try:
            refusal = await _refusal(services, account)
            if refusal is not None:
                return refusal
            try:
                account = await update_credentials(
                    services.store,
                    services.vault,
                    account.id,
                    password=login.password,
                    username=login.username,
                    totp_secret=login.totp_secret,
                )
            except ConflictError:  # the new username is another account's
                return Verification(
                    Verdict.CONFLICT,
                    account,
                    "another account uses this username",
                    portal_tried=False,
                )
            if on_account is not None:
                await on_account(account)
            return await _verify(services, account, login, code_provider, wake)
        finally:
            await asyncio.shield(lease.release())
    try:
        account = await add_account(
            services.store,
            services.vault,
            vendor=vendor,
            username=login.username,
            password=login.password,
            totp_secret=login.totp_secret,
            practice_id=practice_id,
            due=False,  # verified right here; the scheduler must not try it meanwhile
        )
    except ConflictError:
        # Created meanwhile by someone else: the next attempt finds it by username.
        return Verification(
            Verdict.BUSY, None, "the account was being created meanwhile", portal_tried=False
        )
    if on_account is not None:
        await on_account(account)
    lease = _Lease(services, account.id, lease_wait)
    if not await lease.acquire():
        return _busy(account)
    try:
        # A new account is due at once: a scheduled sync may have won the lease and tried
        # this password already. A rejected password is never tried a second time.
        async with services.store.read() as conn:
            current = await credential_rows.credential_in_state(
                conn, account.id, CredentialState.CURRENT
            )
            account = await account_rows.get_account(conn, account.id)
        if current is not None and current.rejected_at is not None:
            return Verification(
                Verdict.WRONG_PASSWORD,
                account,
                "the portal rejected this password already; it is not tried again",
                portal_tried=False,
            )
        return await _verify(services, account, login, code_provider, wake)
    finally:
        await asyncio.shield(lease.release())


async def recheck_account(
    services: SyncServices,
    account_id: str,
    *,
    code_provider: CodeProvider,
    wake: Callable[[], None] = lambda: None,
    lease_wait: timedelta = LEASE_WAIT,
) -> Verification:
    """Verify the stored login again (after the dentist changed the login's rights on the
    portal): the saved session is reused when it is still valid, so usually nothing logs in."""
    async with services.store.read() as conn:
        account = await account_rows.get_account(conn, account_id)
        current = await credential_rows.credential_in_state(
            conn, account_id, CredentialState.CURRENT
        )
    if current is None:
        raise NotFoundError(f"account {account_id} has no stored credentials")
    if current.rejected_at is not None:
        return Verification(
            Verdict.WRONG_PASSWORD,
            account,
            "the stored password was rejected by the portal; enter it again",
            portal_tried=False,
        )
    lease = _Lease(services, account_id, lease_wait)
    if not await lease.acquire():
        return _busy(account)
    try:
        refusal = await _refusal(services, account)
        if refusal is not None:
            return refusal
        try:
            session = await open_session(services, account, code_provider, reason="form recheck")
        except AdapterError as error:
            return await _failed(services, account, error)
        return await _with_session(services, account, session, wake)
    finally:
        await asyncio.shield(lease.release())


# --- the steps ----------------------------------------------------------------------------------


async def _verify(
    services: SyncServices,
    account: Account,
    login: Login,
    code_provider: CodeProvider,
    wake: Callable[[], None],
) -> Verification:
    adapter = services.adapters[account.vendor]
    credentials = Credentials(login.username, login.password, login.totp_secret)
    try:
        # New credentials: never a session saved for older ones.
        session = await adapter.open(credentials, None, code_provider)
    except AdapterError as error:
        return await _failed(services, account, error)
    return await _with_session(services, account, session, wake)


async def _with_session(
    services: SyncServices, account: Account, session: PortalSession, wake: Callable[[], None]
) -> Verification:
    try:
        try:
            access = await session.check_access()
            outcome = outcome_of_access(access)
            cases, capped = 0, False
            if access.insufficient is None:
                cases, capped = await _count_cases(session)
        except AdapterError as error:
            await record_logins(services, account, session.logins, source=SOURCE)
            return await _failed(services, account, error)
        await record_logins(services, account, session.logins, source=SOURCE)
        await keep_session(services, account, session)
    finally:
        await session.close()
    now = utcnow()
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account.id, lock=True)
        account, _ = await set_status(
            conn,
            current,
            outcome,
            now,
            capabilities=sorted(str(c) for c in access.capabilities),
            access={"roles": list(access.roles)},
            failure_count=0,
            last_error=None,
            next_sync_at=now,  # due at once: the first sync reads the cases
        )
    wake()
    verdict = {
        AccountStatus.EXCESS_PERMISSIONS: Verdict.EXCESS_PERMISSIONS,
        AccountStatus.INSUFFICIENT_PERMISSIONS: Verdict.INSUFFICIENT_PERMISSIONS,
    }.get(outcome.status, Verdict.CONNECTED)
    _log.info(
        "verify.done",
        account_id=account.id,
        vendor=account.vendor,
        verdict=str(verdict),
        logins=session.logins,
    )
    return Verification(
        verdict, account, outcome.message, cases=cases, cases_capped=capped, access=access
    )


async def _count_cases(session: PortalSession) -> tuple[int, bool]:
    seen: set[str] = set()
    async for page in session.list_cases(None):
        seen.update(item.vendor_case_id for item in page.items)
        if len(seen) >= MAX_COUNTED_CASES:
            return len(seen), True
    return len(seen), False


async def _failed(services: SyncServices, account: Account, error: AdapterError) -> Verification:
    outcome, _ = await record_error(
        services, account.id, error, source=SOURCE, policy=services.policy
    )
    async with services.store.read() as conn:
        updated = await account_rows.get_account(conn, account.id)
    verdict = _verdict_of(error)
    _log.info(
        "verify.failed",
        account_id=account.id,
        vendor=account.vendor,
        verdict=str(verdict),
        reason=outcome.reason,
    )
    return Verification(verdict, updated, outcome.message, until=outcome.locked_until)


def _verdict_of(error: AdapterError) -> Verdict:
    if isinstance(error, InvalidCredentials):
        return Verdict.WRONG_PASSWORD
    if isinstance(error, PasswordExpired):
        return Verdict.PASSWORD_EXPIRED
    if isinstance(error, VerificationCodeRejected):
        return Verdict.CODE_REFUSED
    if isinstance(error, MfaRequired):
        return Verdict.CODE_NEEDED
    if isinstance(error, AccountLocked):
        return Verdict.LOCKED
    if isinstance(error, PortalChanged):
        return Verdict.PORTAL_CHANGED
    return Verdict.PORTAL_UNAVAILABLE


async def _refusal(services: SyncServices, account: Account) -> Verification | None:
    """Why the portal must not be tried now (nothing is changed), or None."""
    now = utcnow()
    async with services.store.read() as conn:
        exhausted_until = await budget.budget_exhausted_until(conn, account.id, now)
    if exhausted_until is not None:
        _log.info("verify.budget_exhausted", account_id=account.id, vendor=account.vendor)
        return Verification(
            Verdict.BUDGET_EXHAUSTED,
            account,
            f"{budget.MAX_FAILURES} failed logins in the last "
            f"{int(budget.WINDOW.total_seconds() // 60)} minutes; the portal was not tried",
            portal_tried=False,
            until=exhausted_until,
        )
    if (
        account.status is AccountStatus.LOCKED
        and account.locked_until is not None
        and account.locked_until > now
    ):
        return Verification(
            Verdict.LOCKED,
            account,
            "the portal's lockout is still running; the portal was not tried",
            portal_tried=False,
            until=account.locked_until,
        )
    return None


def _busy(account: Account) -> Verification:
    return Verification(
        Verdict.BUSY, account, "a sync of this account is running", portal_tried=False
    )


class _Lease:
    """The account's sync lease for the length of a verification, renewed while it lasts (a
    sign-in may wait minutes for an e-mailed code; the lease must not lapse meanwhile)."""

    def __init__(self, services: SyncServices, account_id: str, wait: timedelta) -> None:
        self.services = services
        self.account_id = account_id
        self.wait = wait
        self.holder = f"{services.holder}/form-{uuid.uuid4().hex[:6]}"
        self._renewer: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait.total_seconds()
        while True:
            now = utcnow()
            async with self.services.store.transaction() as conn:
                await leases.reap_dead_holder(conn, self.account_id, now)
                taken = await leases.acquire_lease(
                    conn, self.account_id, self.holder, self.services.lease_ttl, now
                )
            if taken:
                self._renewer = asyncio.create_task(self._renew())
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.5)

    async def _renew(self) -> None:
        ttl = self.services.lease_ttl
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            async with self.services.store.transaction() as conn:
                await leases.renew_lease(conn, self.account_id, self.holder, ttl, utcnow())

    async def release(self) -> None:
        if self._renewer is None:
            return
        self._renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._renewer
        self._renewer = None
        async with self.services.store.transaction() as conn:
            await leases.release_lease(conn, self.account_id, self.holder)
