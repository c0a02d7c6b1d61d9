"""Verifying a login live, the way the update-credentials form does it.

The form signs in on the portal with exactly what the dentist typed, reads what the login may
do and counts the cases it sees, and only then stores anything: a password the portal rejected,
or a sign-in the dentist gave up on, leaves nothing behind (for a new login, no account at all;
for an existing one, its stored credentials as they were). A login the portal accepted becomes a
new account, or a new credential version of the account (Plaid's update mode), with the portal
session it just opened, and is due for a sync at once.

Never lock a dentist out (DESIGN section 5): the typed password goes through the same gate as
every other sign-in (`connector.accounts.gate`), keyed by the portal login, so a running lockout,
a spent failure budget and the form's own earlier failures all count. The verification holds the
account's lease, so a scheduled sync never signs in beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from adapters.base import (
    Access,
    AdapterError,
    CodeProvider,
    Credentials,
    PortalSession,
    SignInRefused,
)
from connector.accounts import gate, service
from connector.accounts.gate import AttemptSource, GatedSignIns, Refusal, SignInSubject
from connector.accounts.lease import LeaseBusy, account_lease
from connector.accounts.meaning import (
    REFUSALS,
    AccountOutcome,
    RefusalReason,
    Verdict,
    outcome_of_access,
    outcome_of_error,
)
from connector.clock import utcnow
from connector.credentials import (
    check_password,
    check_practice_id,
    check_totp_secret,
    check_username,
    seal_login,
    store_version,
)
from connector.domain import Account, AccountStatus
from connector.errors import ConflictError
from connector.sessions import save_session_state
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store import signins
from connector.store.ids import new_id
from connector.sync.portal import keep_session, open_session, record_error
from connector.sync.services import SyncServices
from vault import Secret

__all__ = ["Login", "Verdict", "Verification", "checked_login", "recheck_account", "verify_login"]

_log = structlog.get_logger("connector.verify")

#: How long a verification waits for a running sync of the same account to finish.
LEASE_WAIT = timedelta(seconds=30)
#: Counting cases stops here: the number is for a person ("more than 5000").
MAX_COUNTED_CASES = 5000


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
    #: Locked until (the portal's lockout).
    until: datetime | None = None
    #: Sign-ins the gate still allows before it needs the dentist's confirmation.
    failures_left: int | None = None

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
    confirmed_own_sign_in: bool = False,
    on_account: AccountHook | None = None,
    wake: Callable[[], None] = lambda: None,
    lease_wait: timedelta = LEASE_WAIT,
) -> Verification:
    """Sign in with `login` and, when the portal accepts it, store it for the account
    (`account_id`, or the vendor's account with this username, or a new one).

    An existing account found by username is updated only when it serves the same practice
    (or neither names one); otherwise the result is `CONFLICT` and nothing changes.
    `confirmed_own_sign_in`: the dentist confirmed signing in on the portal themselves just now,
    which resets the portal's failure count and so the gate's budget. `on_account` is called
    once an account holds the login.
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
    if account is not None and login.username.casefold() != account.username.casefold():
        async with services.store.read() as conn:
            clash = await account_rows.find_account(conn, vendor, login.username)
        if clash is not None and clash.id != account.id:
            return Verification(
                Verdict.CONFLICT, account, "another account uses this username", portal_tried=False
            )
    if confirmed_own_sign_in:
        await gate.confirm_own_sign_in(services.store, vendor, login.username)
    subject = SignInSubject(
        vendor=vendor,
        username=login.username,
        source=AttemptSource.FORM,
        account_id=account.id if account else None,
        trial=uuid.uuid4().hex,
    )
    if account is None:
        return await _try(services, subject, login, code_provider, None, practice_id, wake)
    try:
        async with account_lease(
            services.store,
            account.id,
            holder=f"{services.holder}/form",
            ttl=services.lease_ttl,
            wait=lease_wait,
            keep_alive=True,
        ):
            result = await _try(services, subject, login, code_provider, account, None, wake)
    except LeaseBusy:
        return Verification(
            Verdict.BUSY, account, "a sync of this account is running", portal_tried=False
        )
    if result.account is not None and on_account is not None:
        await on_account(result.account)
    return result


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
    try:
        async with account_lease(
            services.store,
            account_id,
            holder=f"{services.holder}/form",
            ttl=services.lease_ttl,
            wait=lease_wait,
            keep_alive=True,
        ):
            try:
                session = await open_session(
                    services,
                    account,
                    code_provider,
                    reason="form recheck",
                    source=AttemptSource.FORM,
                )
            except SignInRefused as refused:
                return await _refused(services, account, refused)
            except AdapterError as error:
                return await _failed_stored(services, account, error)
            try:
                outcome, access, cases, capped = await _read_access(session)
                await keep_session(services, account, session)
            except AdapterError as error:
                return await _failed_stored(services, account, error)
            finally:
                await session.close()
            account = await _connected(services, account, outcome, access)
    except LeaseBusy:
        return Verification(
            Verdict.BUSY, account, "a sync of this account is running", portal_tried=False
        )
    wake()
    return Verification(
        outcome.verdict, account, outcome.message, cases=cases, cases_capped=capped, access=access
    )


# --- the steps ----------------------------------------------------------------------------------


async def _try(
    services: SyncServices,
    subject: SignInSubject,
    login: Login,
    code_provider: CodeProvider,
    account: Account | None,
    practice_id: str | None,
    wake: Callable[[], None],
) -> Verification:
    """Sign in with the typed login; store it only once the portal accepted it."""
    adapter = services.adapters[subject.vendor]
    credentials = Credentials(login.username, login.password, login.totp_secret)
    guard = GatedSignIns(services.store, subject, holder=services.holder)
    try:
        # Typed credentials: never a session saved for older ones.
        session = await adapter.open(credentials, None, code_provider, guard=guard)
    except SignInRefused as refused:
        return await _not_tried(services, subject, account, refused)
    except AdapterError as error:
        return await _failed_typed(services, subject, account, error)
    try:
        try:
            outcome, access, cases, capped = await _read_access(session)
        except AdapterError as error:
            return await _failed_typed(services, subject, account, error)
        state = await session.export_state()
    finally:
        await session.close()
    stored = await _store_typed(services, subject, login, account, practice_id, outcome, access)
    await save_session_state(
        services.store, services.vault, stored.id, stored.credential_version, state
    )
    wake()
    _log.info(
        "verify.done",
        account_id=stored.id,
        vendor=stored.vendor,
        verdict=str(outcome.verdict),
        logins=session.logins,
    )
    return Verification(
        outcome.verdict, stored, outcome.message, cases=cases, cases_capped=capped, access=access
    )


async def _read_access(session: PortalSession) -> tuple[AccountOutcome, Access, int, bool]:
    access = await session.check_access()
    outcome = outcome_of_access(access)
    cases, capped = 0, False
    if access.insufficient is None:
        cases, capped = await _count_cases(session)
    return outcome, access, cases, capped


async def _count_cases(session: PortalSession) -> tuple[int, bool]:
    seen: set[str] = set()
    async for page in session.list_cases(None):
        seen.update(item.vendor_case_id for item in page.items)
        if len(seen) >= MAX_COUNTED_CASES:
            return len(seen), True
    return len(seen), False


async def _store_typed(
    services: SyncServices,
    subject: SignInSubject,
    login: Login,
    account: Account | None,
    practice_id: str | None,
    outcome: AccountOutcome,
    access: Access,
) -> Account:
    """The portal accepted the typed login: make it the account's current credential (a new
    account when there is none), signed in just now, with its access, due for a sync now."""
    account_id = account.id if account is not None else new_id("acc")
    record = await seal_login(services.vault, account_id, login.password, login.totp_secret)
    now = utcnow()
    async with services.store.transaction() as conn:
        if account is None:
            current = await account_rows.insert_account(
                conn,
                account_id=account_id,
                vendor=subject.vendor,
                username=login.username,
                practice_id=practice_id,
                status=AccountStatus.VERIFYING,
                now=now,
            )
        else:
            current = await account_rows.get_account(conn, account_id, lock=True)
        credential = await store_version(
            conn,
            account_id,
            login.username,
            record,
            has_totp=login.totp_secret is not None,
            now=now,
        )
        await credential_rows.mark_signed_in(conn, credential.id, now)
        await signins.adopt_trial(
            conn, subject.credential_ref, account_id, credential.id, credential.version
        )
        current = await account_rows.update_account(
            conn,
            account_id,
            now=now,
            username=login.username,
            credential_version=credential.version,
        )
        # A pause is the TPS's decision: a verified login does not lift it.
        paused = current.status is AccountStatus.DISABLED
        updated, _ = await service.change_status(
            conn,
            current,
            now,
            status=AccountStatus.DISABLED if paused else outcome.status,
            reason="paused" if paused else outcome.reason,
            message=outcome.message,
            capabilities=sorted(str(c) for c in access.capabilities),
            access={"roles": list(access.roles)},
            failure_count=0,
            last_error=None,
            next_sync_at=None if paused else now,  # due at once: the first sync reads the cases
        )
    return updated


async def _connected(
    services: SyncServices, account: Account, outcome: AccountOutcome, access: Access
) -> Account:
    now = utcnow()
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account.id, lock=True)
        updated, _ = await service.apply_outcome(
            conn,
            current,
            outcome,
            now,
            capabilities=sorted(str(c) for c in access.capabilities),
            access={"roles": list(access.roles)},
            failure_count=0,
            last_error=None,
            next_sync_at=now,
        )
    return updated


async def _failed_typed(
    services: SyncServices, subject: SignInSubject, account: Account | None, error: AdapterError
) -> Verification:
    """The typed login did not get in: nothing is stored. An existing account keeps its own
    credentials; it shows a lockout or a spent budget that this attempt brought about."""
    outcome = outcome_of_error(error, utcnow())
    if account is not None:
        account = await _reflect_standing(services, account)
    _log.info(
        "verify.failed",
        account_id=account.id if account else None,
        vendor=subject.vendor,
        verdict=str(outcome.verdict),
        reason=outcome.reason,
    )
    return await _with_budget(
        services,
        subject,
        Verification(outcome.verdict, account, outcome.message, until=outcome.locked_until),
    )


async def _failed_stored(
    services: SyncServices, account: Account, error: AdapterError
) -> Verification:
    outcome, _ = await record_error(services, account.id, error, policy=services.policy)
    async with services.store.read() as conn:
        updated = await account_rows.get_account(conn, account.id)
    _log.info(
        "verify.failed",
        account_id=account.id,
        vendor=account.vendor,
        verdict=str(outcome.verdict),
        reason=outcome.reason,
    )
    return Verification(outcome.verdict, updated, outcome.message, until=outcome.locked_until)


async def _not_tried(
    services: SyncServices,
    subject: SignInSubject,
    account: Account | None,
    refused: SignInRefused,
) -> Verification:
    """The gate kept the typed login from the portal."""
    outcome = REFUSALS[RefusalReason(refused.why)]
    if account is not None:
        account = await _reflect_standing(services, account)
    _log.info(
        "verify.not_tried",
        account_id=account.id if account else None,
        vendor=subject.vendor,
        why=refused.why,
    )
    result = Verification(
        outcome.verdict, account, str(refused), portal_tried=False, until=refused.retry_at
    )
    return await _with_budget(services, subject, result)


async def _refused(
    services: SyncServices, account: Account, refused: SignInRefused
) -> Verification:
    outcome = REFUSALS[RefusalReason(refused.why)]
    return Verification(
        outcome.verdict,
        await _reflect_standing(services, account),
        str(refused),
        portal_tried=False,
        until=refused.retry_at,
    )


async def _reflect_standing(services: SyncServices, account: Account) -> Account:
    """Show on the account a lockout or a spent budget of its portal login (a form attempt can
    cause either), without touching its credentials."""
    now = utcnow()
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account.id, lock=True)
        subject = await gate.subject_for_account(conn, account.id, AttemptSource.SYNC)
        if isinstance(subject, Refusal) or current.status is AccountStatus.DISABLED:
            return current
        decision = await gate.decide(conn, subject, now)
        if not isinstance(decision, Refusal) or decision.why not in (
            RefusalReason.LOCKED,
            RefusalReason.BUDGET_SPENT,
        ):
            return current
        change = service.refusal_change(decision, services.policy.lock_margin)
        updated, _ = await service.change_status(
            conn,
            current,
            now,
            status=change.status,
            reason=change.reason,
            message=change.message,
            next_sync_at=change.next_sync_at,
        )
    return updated


async def _with_budget(
    services: SyncServices, subject: SignInSubject, result: Verification
) -> Verification:
    async with services.store.read() as conn:
        login = await signins.find_portal_login(conn, subject.vendor, subject.username)
    failures = login.failures if login else 0
    return Verification(
        result.verdict,
        result.account,
        result.message,
        portal_tried=result.portal_tried,
        until=result.until,
        failures_left=max(0, gate.MAX_FAILURES - failures),
    )
