"""The portal's state and rules: seeded data, indexes, sign-in rules, actions and admin hooks.

One `ClearCorrectPortal` per app. It runs on the server's event loop and its methods never
await, so requests see it consistently without locks. Indexes keep every page fast at 10,000
cases: cases by number (the data's dict), the case numbers each login may see, and per login
a cached list sorted by last update (dropped whenever a case changes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pyotp

from sandbox.clearcorrect import timeline
from sandbox.clearcorrect.antiforgery import Antiforgery
from sandbox.clearcorrect.data import (
    APPROVED,
    AWAITING_SETUP,
    EVALUATING,
    LANGUAGES,
    LOWER,
    REJECT_SETUPS,
    SETUP_APPROVED,
    SETUP_AWAITING,
    SETUP_DECLINED,
    STL,
    VIEW,
    Case,
    CaseFile,
    Comment,
    Login,
    PortalData,
    Setup,
    Share,
    dump_case,
    dump_login,
    iso,
)
from sandbox.clearcorrect.generator import add_comment, decide_setup, generate
from sandbox.clearcorrect.sessions import PendingSignIn, SessionStore
from sandbox.common.clock import VirtualClock
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import Faults
from sandbox.common.files import JPEG, Content, FileCache, content_for, originals
from sandbox.common.files import STL as MESH
from sandbox.common.recorder import LoginCounter, Recorder

VENDOR = "clearcorrect"
MAIL_FROM = "no-reply@clearcorrect.example"

#: The sites this sandbox can be (register, section Variants): the WebForms partner pages the
#: public code shows (the default), and the invented ASP.NET Core Identity sign-in with its JSON
#: app (an assumed variant, kept so the adapter's JSON fast path has a portal to run against).
WEBFORMS = "webforms"
IDENTITY_JSON = "aspnetcore-json"
VARIANTS: tuple[str, ...] = (WEBFORMS, IDENTITY_JSON)


class Refused(Exception):
    """An action the portal refuses: HTTP status and the message it shows."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class SignIn:
    """The result of checking a password or a second-factor code."""

    outcome: Literal["success", "failed", "locked", "two_factor"]
    login: Login | None = None
    locked_until: datetime | None = None


class ClearCorrectPortal:
    vendor = VENDOR

    def __init__(
        self,
        config: SandboxConfig,
        wall: Callable[[], float] = time.time,
        variant: str = WEBFORMS,
    ) -> None:
        self.config = config
        self.faults: Faults = config.faults
        self.recorder = Recorder()
        self.sessions = SessionStore(config.session_ttl_seconds, self.faults, wall)
        self.antiforgery = Antiforgery()
        self.wall = wall
        self.variant = variant
        #: The WebForms site can also answer the invented JSON API (a page script might load
        #: one): off by default; the Identity app always has it.
        self.json_api = False
        self._mail: list[dict[str, Any]] = []
        self._log: list[dict[str, Any]] = []
        self._visible: dict[str, set[str]] = {}
        self._sorted: dict[str, list[Case]] = {}
        self._setup_case: dict[str, str] = {}
        self._file_case: dict[str, str] = {}
        #: Made files, kept across reseeds (a file's bytes depend only on seed and id).
        self.files = FileCache(config.files_dir)
        self._load(config.practices, config.cases, config.seed)

    # ---- data lifecycle (admin) -------------------------------------------------------------

    def _load(self, practices: int, cases: int, seed: int) -> None:
        self.seed_value = seed
        self.practices = practices
        self.clock = VirtualClock()
        self.tick_no = 0
        self.data: PortalData = generate(practices, cases, seed, self.clock.now())
        self._log = []
        self._mail = []
        self.sessions.clear()
        self._reindex()
        locked = next((x for x in self.data.logins.values() if x.scenario == "locked"), None)
        if locked is not None:
            counter = self.recorder.login(locked.username)
            counter.consecutive_failures = self.config.lockout_threshold
            counter.locked_until = self.wall_now() + timedelta(seconds=self.config.lockout_seconds)

    def seed(
        self,
        practices: int,
        cases: int,
        seed: int,
        variant: str | None = None,
        language: str | None = None,
        json_api: bool | None = None,
    ) -> dict[str, Any]:
        """A fresh generation; `variant`, `json_api` and one profile `language` for every
        login may come with it (the admin API's seed takes them)."""
        self.faults.reset()
        self.recorder.reset()
        if variant is not None:
            self.set_variant(variant)
        if json_api is not None:
            self.json_api = json_api
        self._load(practices, cases, seed)
        if language is not None:
            for login in self.data.logins.values():
                self.set_language(login.username, language)
        return {
            "vendor": VENDOR,
            "variant": self.variant,
            "seed": seed,
            "practices": practices,
            "cases": len(self.data.cases),
            "logins": len(self.data.logins),
            "clock": iso(self.clock.now()),
            "tick": self.tick_no,
        }

    def tick(self, steps: int) -> dict[str, Any]:
        made: list[dict[str, Any]] = []
        for _ in range(steps):
            self.tick_no += 1
            now = self.clock.advance(timeline.STEP)
            rng = timeline.step_rng(self.seed_value, self.tick_no)
            changes = timeline.run_step(self.data, rng, now)
            self._log.append({"tick": self.tick_no, "clock": iso(now), "changes": changes})
            made += [{**c, "tick": self.tick_no} for c in changes]
        self._reindex()
        return {"tick": self.tick_no, "clock": iso(self.clock.now()), "changes": made}

    def changes(self, since_tick: int) -> list[dict[str, Any]]:
        return [entry for entry in self._log if entry["tick"] > since_tick]

    def file_content(self, file: CaseFile) -> Content:
        """What a submission file holds: a mesh of its arch or a photo, made from the file's id
        (ids follow the seed; the scenario practice's are the same under every seed), sized by
        `config.file_sizes`."""
        return content_for(
            MESH if file.kind == STL else JPEG,
            f"clearcorrect:{file.file_id}",
            label=file.name,
            upper=file.arch != LOWER,
            sizes=self.config.file_sizes,
        )

    def files_json(self) -> list[dict[str, Any]]:
        made = [
            (case.case_id, f.name, self.files.make(self.file_content(f)))
            for case in self.data.cases.values()
            for submission in case.submissions
            for f in submission.files
        ]
        return originals(made)

    def dump(self) -> dict[str, Any]:
        data = self.data
        cases = [dump_case(c, data.doctor_name(c.doctor_id)) for c in data.cases.values()]
        for case, dumped in zip(data.cases.values(), cases, strict=True):
            for submission, shown in zip(case.submissions, dumped["submissions"], strict=True):
                for file, entry in zip(submission.files, shown["files"], strict=True):
                    entry["size"] = self.file_content(file).exact_size()
        return {
            "vendor": VENDOR,
            "seed": self.seed_value,
            "clock": iso(self.clock.now()),
            "tick": self.tick_no,
            "variant": self.variant,
            "json_api": self.json_api or self.variant == IDENTITY_JSON,
            "layout_version": self.faults.layout_version,
            "logins": [
                dump_login(login, sorted(self._visible.get(login.username, ())))
                for login in data.logins.values()
            ],
            "doctors": [
                {"doctor_id": d.doctor_id, "name": d.name, "practice": d.practice}
                for d in data.doctors.values()
            ],
            "tps_wide_partner": data.tps_wide_username,
            "cases": cases,
        }

    def mailbox(self, to: str | None) -> list[dict[str, Any]]:
        if not to:
            return list(self._mail)
        return [m for m in self._mail if m["to"] == to.strip().lower()]

    def unlock(self, username: str) -> bool:
        key = username.strip().lower()
        if key not in self.data.logins:
            return False
        counter = self.recorder.login(key)
        counter.locked_until = None
        counter.consecutive_failures = 0
        return True

    def expire_sessions(self, username: str | None) -> int:
        return self.sessions.expire(username.strip().lower() if username else None)

    def set_variant(self, variant: str) -> None:
        """Switch the site (sessions end: each variant has its own cookies and sign-in)."""
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
        if variant != self.variant:
            self.sessions.clear()
        self.variant = variant

    def set_language(self, username: str, language: str | None) -> bool:
        """A login's profile language (My Account > Language Preferences); None: the browser's."""
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)} or null")
        login = self.login(username)
        if login is None:
            return False
        login.language = language
        return True

    @property
    def api_served(self) -> bool:
        return self.variant == IDENTITY_JSON or self.json_api

    # ---- indexes ------------------------------------------------------------------------------

    def _reindex(self) -> None:
        visible: dict[str, set[str]] = {name: set() for name in self.data.logins}
        doctors = self.data.doctors
        logins = self.data.logins
        for case in self.data.cases.values():
            visible[doctors[case.doctor_id].username].add(case.case_id)
            for username in case.shares:
                if VIEW in logins[username].permissions.get(case.doctor_id, frozenset()):
                    visible[username].add(case.case_id)
        self._visible = visible
        self._sorted = {}
        self._setup_case = {
            s.setup_id: case.case_id for case in self.data.cases.values() for s in case.setups
        }
        self._file_case = {
            f.file_id: case.case_id
            for case in self.data.cases.values()
            for submission in case.submissions
            for f in submission.files
        }

    def _touched(self) -> None:
        """A case changed: the per-login sort order may have too."""
        self._sorted.clear()

    # ---- what a user sees ---------------------------------------------------------------------

    def login(self, username: str) -> Login | None:
        return self.data.logins.get(username.strip().lower())

    def visible_cases(self, username: str) -> list[Case]:
        """The cases `username` may see, most recently updated first."""
        cached = self._sorted.get(username)
        if cached is None:
            cases = self.data.cases
            cached = sorted(
                (cases[i] for i in self._visible.get(username, ())),
                key=lambda c: (c.updated_at, c.case_id),
                reverse=True,
            )
            self._sorted[username] = cached
        return cached

    def visible_case(self, username: str, case_id: str) -> Case | None:
        if case_id not in self._visible.get(username, ()):
            return None
        return self.data.cases.get(case_id)

    def doctor_name(self, doctor_id: str) -> str:
        return self.data.doctor_name(doctor_id)

    def case_of_setup(self, username: str, setup_id: str) -> Case | None:
        case_id = self._setup_case.get(setup_id)
        return self.visible_case(username, case_id) if case_id else None

    def case_of_file(self, username: str, file_id: str) -> Case | None:
        case_id = self._file_case.get(file_id)
        return self.visible_case(username, case_id) if case_id else None

    # ---- sign-in rules (wall time) ------------------------------------------------------------

    def wall_now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def _counter(self, username: str) -> LoginCounter:
        """The attempt counter, with an expired lockout cleared (the failure count restarts)."""
        counter = self.recorder.login(username)
        if counter.locked_until is not None and counter.locked_until <= self.wall_now():
            counter.locked_until = None
            counter.consecutive_failures = 0
        return counter

    def _fail(self, counter: LoginCounter, login: Login | None) -> SignIn:
        counter.failures += 1
        counter.consecutive_failures += 1
        if login is not None and counter.consecutive_failures >= self.config.lockout_threshold:
            counter.locked_until = self.wall_now() + timedelta(seconds=self.config.lockout_seconds)
            return SignIn("locked", login, counter.locked_until)
        return SignIn("failed", login)

    def _succeed(self, counter: LoginCounter, login: Login) -> SignIn:
        counter.successes += 1
        counter.consecutive_failures = 0
        return SignIn("success", login)

    def check_password(self, username: str, password: str) -> SignIn:
        """One counted sign-in attempt. While locked even the right password is refused (and
        counted as a failure, without extending the lockout); the threshold-th consecutive
        failure locks the account for `lockout_seconds`."""
        key = username.strip().lower()
        counter = self._counter(key)
        counter.attempts += 1
        login = self.data.logins.get(key)
        if counter.locked_until is not None:
            counter.failures += 1
            return SignIn("locked", login, counter.locked_until)
        if login is None or login.password != password:
            return self._fail(counter, login)
        if login.mfa is not None:
            return SignIn("two_factor", login)
        return self._succeed(counter, login)

    def check_code(self, pending: PendingSignIn, code: str) -> SignIn:
        """A second-factor code is an attempt too: wrong codes count toward the lockout."""
        counter = self._counter(pending.username)
        counter.attempts += 1
        login = self.data.logins.get(pending.username)
        if counter.locked_until is not None:
            counter.failures += 1
            return SignIn("locked", login, counter.locked_until)
        if login is None or not self._code_ok(login, pending, code):
            return self._fail(counter, login)
        return self._succeed(counter, login)

    def _code_ok(self, login: Login, pending: PendingSignIn, code: str) -> bool:
        if pending.channel == "totp":
            return login.totp_secret is not None and bool(
                pyotp.TOTP(login.totp_secret).verify(code, valid_window=1)
            )
        return (
            pending.email_code is not None
            and pending.code_expires_at > self.sessions.now()
            and code == pending.email_code
        )

    def send_email_code(self, pending: PendingSignIn) -> None:
        code = pending.email_code or ""
        self._mail.append(
            {
                "to": pending.username,
                "from": MAIL_FROM,
                "subject": "Your ClearCorrect security code",
                "body": (
                    f"Your security code is {code}. It expires in 10 minutes.\n"
                    "If you did not try to sign in, change your password."
                ),
                "code": code,
                "sent_at": self.wall_now().isoformat(),
            }
        )

    def change_password(self, login: Login, new_password: str) -> None:
        login.password = new_password
        login.password_expired = False

    # ---- actions ------------------------------------------------------------------------------

    def post_comment(self, login: Login, case: Case, body: str) -> Comment:
        role: Literal["doctor", "partner"] = login.kind
        now = self.clock.now()
        comment = add_comment(self.data, case, role, login.display_name, login.username, body, now)
        self._touched()
        return comment

    def mark_read(self, login: Login, case: Case, comment_ids: list[str] | None) -> int:
        wanted = None if comment_ids is None else set(comment_ids)
        marked = 0
        for comment in case.comments:
            if (wanted is None or comment.comment_id in wanted) and comment.unread_for(
                login.username
            ):
                comment.read_by.add(login.username)
                marked += 1
        return marked

    def _awaiting(self, case: Case, setup_id: str) -> Setup:
        setup = case.setup(setup_id)
        if setup is None:
            raise Refused(404, "Treatment setup not found.")
        if setup.state != SETUP_AWAITING or case.status != EVALUATING:
            raise Refused(
                409, f"This treatment setup is {setup.state.lower()}, not awaiting approval."
            )
        return setup

    def decline(self, login: Login, case: Case, setup_id: str, reason: str) -> Setup:
        """Decline a setup: it becomes Declined and the case goes back to Awaiting Setup until
        the technician shares a new version (on the next tick)."""
        if not login.may(REJECT_SETUPS, case.doctor_id):
            raise Refused(
                403, "You do not have permission to reject treatment setups for this doctor."
            )
        setup = self._awaiting(case, setup_id)
        now = self.clock.now()
        decide_setup(setup, SETUP_DECLINED, login.display_name, now, reason)
        case.set_status(AWAITING_SETUP, now)
        self.data.resetup_due.append(case.case_id)
        self._touched()
        return setup

    def approve(self, login: Login, case: Case, setup_id: str) -> Setup:
        """Only the primary doctor approves; partners get 403 whatever they were granted."""
        if login.kind != "doctor" or login.doctor_id != case.doctor_id:
            raise Refused(403, "Only the primary doctor can approve a treatment setup.")
        setup = self._awaiting(case, setup_id)
        now = self.clock.now()
        decide_setup(setup, SETUP_APPROVED, login.display_name, now)
        case.set_status(APPROVED, now)
        self._touched()
        return setup

    def reinstate(self, login: Login, case: Case, setup_id: str) -> Setup:
        """The doctor overrides a partner's decline: the setup is awaiting approval again and
        the case back in Evaluating Treatment Setup (the doctor explains why in the chat)."""
        if login.kind != "doctor" or login.doctor_id != case.doctor_id:
            raise Refused(403, "Only the primary doctor can set a case back to evaluation.")
        setup = case.setup(setup_id)
        if setup is None:
            raise Refused(404, "Treatment setup not found.")
        if (
            setup is not case.setups[-1]
            or setup.state != SETUP_DECLINED
            or (case.status != AWAITING_SETUP)
        ):
            raise Refused(
                409, "Only the latest, declined setup of a case awaiting setup can be reinstated."
            )
        setup.state = SETUP_AWAITING
        setup.decided_by = setup.decided_at = setup.decline_reason = None
        case.set_status(EVALUATING, self.clock.now())
        self.data.resetup_due = [c for c in self.data.resetup_due if c != case.case_id]
        self._touched()
        return setup

    def share(self, login: Login, case: Case, partner_email: str, consent: bool) -> Share:
        """A doctor shares a case with a partner they added, after confirming patient consent."""
        if login.kind != "doctor" or login.doctor_id != case.doctor_id:
            raise Refused(403, "Only the primary doctor can share this case.")
        partner = self.login(partner_email)
        if (
            partner is None
            or partner.kind != "partner"
            or case.doctor_id not in partner.permissions
        ):
            raise Refused(404, "No partner with this email address. Add the partner first.")
        if not consent:
            raise Refused(400, "Please confirm that the patient consented to sharing this case.")
        share = case.shares.get(partner.username) or Share(partner.username, True, self.clock.now())
        case.shares[partner.username] = share
        if VIEW in partner.permissions[case.doctor_id]:
            self._visible[partner.username].add(case.case_id)
        self._touched()
        return share

    def unshare(self, login: Login, case: Case, partner_email: str) -> bool:
        if login.kind != "doctor" or login.doctor_id != case.doctor_id:
            raise Refused(403, "Only the primary doctor can stop sharing this case.")
        key = partner_email.strip().lower()
        if case.shares.pop(key, None) is None:
            return False
        self._visible.get(key, set()).discard(case.case_id)
        self._touched()
        return True
