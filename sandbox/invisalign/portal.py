"""The portal's state: data, sessions, login counters, mailbox and the tick log.

`InvisalignPortal` is what the routes act on and what the admin API (`AdminPortal`) drives.
Everything runs on the server's one event loop, so no locking is needed here; the recorder,
which benchmarks read from other threads, has its own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.common.clock import VirtualClock
from sandbox.common.config import SandboxConfig
from sandbox.common.files import PDF, ZIP, Content, FileCache, content_for, originals
from sandbox.common.recorder import LoginCounter, Recorder
from sandbox.invisalign import activity, flow, i18n
from sandbox.invisalign.data import Case, Comment, Login, PlanFile, Setup, case_json, iso
from sandbox.invisalign.generator import SCENARIO_PROFILES, generate
from sandbox.invisalign.sessions import Sessions
from sandbox.invisalign.store import Dataset
from sandbox.invisalign.variants import SiteSettings

# Brute-force protection of the hosted login: 10 consecutive failures block the login. The real
# block lasts until the user follows the emailed unblock link; the sandbox lifts it after a day
# (or at once through the admin API), so a forgotten sandbox heals itself.
LOCKOUT_THRESHOLD = 10
BLOCK_SECONDS = 24 * 3600
TICK = timedelta(hours=1)


class InvisalignPortal:
    vendor = "invisalign"

    def __init__(self, config: SandboxConfig, wall: Callable[[], float] = time.time) -> None:
        self.config = config
        self.faults = config.faults
        self.recorder = Recorder()
        self.wall = wall
        self.sessions = Sessions(
            wall,
            ttl=config.session_ttl_seconds,
            max_age=config.saved_login_max_age_seconds,
            max_idle=config.saved_login_max_idle_seconds,
        )
        if config.language is not None and config.language not in i18n.LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(i18n.LANGUAGES)}")
        self.site = SiteSettings()
        if config.variant is not None:
            self.site.update({"variant": config.variant})
        self.clock = VirtualClock()
        self.data = Dataset()
        self.data_seed = config.seed
        self.tick_count = 0
        self.tick_log: list[dict[str, Any]] = []
        self.mail: list[dict[str, Any]] = []
        #: Made files, kept across reseeds (a file's bytes depend only on seed and identity).
        self.files = FileCache(config.files_dir)
        self._load(config.practices, config.cases, config.seed)

    # Admin API (AdminPortal) ------------------------------------------------------------------

    def seed(self, practices: int, cases: int, seed: int) -> dict[str, Any]:
        self.faults.reset()
        self._load(practices, cases, seed)
        return {
            "vendor": self.vendor,
            "seed": seed,
            "practices": practices,
            "cases": len(self.data.cases),
            "logins": len(self.data.logins),
            "clock": iso(self.clock.now()),
        }

    def tick(self, steps: int) -> dict[str, Any]:
        changes: list[dict[str, Any]] = []
        for _ in range(steps):
            self.tick_count += 1
            at = self.clock.advance(TICK)
            applied = activity.run_tick(self.data, self.data_seed, self.tick_count, at)
            logged = [c.to_json() for c in applied]
            self.tick_log.append({"tick": self.tick_count, "clock": iso(at), "changes": logged})
            changes += [{"tick": self.tick_count, **c} for c in logged]
        return {"tick": self.tick_count, "clock": iso(self.clock.now()), "changes": changes}

    def changes(self, since_tick: int) -> list[dict[str, Any]]:
        return [entry for entry in self.tick_log if entry["tick"] > since_tick]

    def dump(self) -> dict[str, Any]:
        data = self.data
        return {
            "vendor": self.vendor,
            "seed": self.data_seed,
            "clock": iso(self.clock.now()),
            "tick": self.tick_count,
            "layout_version": self.faults.layout_version,
            "site": self.site.to_json(),
            "logins": [self._login_json(login) for login in data.logins.values()],
            "doctors": [
                {"doctor_id": d.doctor_id, "name": d.name, "practice": d.practice}
                for d in data.doctors.values()
            ],
            "cases": [self._case_json(c) for c in data.cases.values()],
        }

    def _case_json(self, case: Case) -> dict[str, Any]:
        """The case as the data holds it, with each plan file's size as it is served."""
        dumped = case_json(case, self.data.doctors[case.doctor_id])
        for setup, shown in zip(case.setups, dumped["setups"], strict=True):
            for file, entry in zip(setup.files, shown["files"], strict=True):
                entry["size"] = self.file_size(setup, file)
        return dumped

    def file_content(self, setup: Setup, file: PlanFile) -> Content:
        """What a plan file holds: a PDF (overview, IPR form) or a zip of meshes (staging
        models), made from the plan's id and the name, sized by `config.file_sizes`."""
        return content_for(
            ZIP if file.name.lower().endswith(".zip") else PDF,
            f"invisalign:{setup.setup_id}:{file.name}",
            label=f"{file.kind}: {file.name}",
            sizes=self.config.file_sizes,
        )

    def files_json(self) -> list[dict[str, Any]]:
        made = [
            (case.case_id, f.name, self.files.make(self.file_content(setup, f)))
            for case in self.data.cases.values()
            for setup in case.setups
            for f in setup.files
        ]
        return originals(made)

    def file_size(self, setup: Setup, file: PlanFile) -> int:
        return self.file_content(setup, file).exact_size()

    def mailbox(self, to: str | None) -> list[dict[str, Any]]:
        if to is None:
            return list(self.mail)
        return [m for m in self.mail if m["to"].lower() == to.strip().lower()]

    def unlock(self, username: str) -> bool:
        key = username.strip().lower()
        if key not in self.recorder.logins and self.data.login(key) is None:
            return False
        counter = self.recorder.login(key)
        counter.locked_until = None
        counter.consecutive_failures = 0
        return True

    def expire_sessions(self, username: str | None) -> int:
        return self.sessions.expire_user(username)

    def set_language(self, username: str, language: str | None) -> bool:
        """Set one login's profile language (None: follow the browser); False if unknown."""
        if language is not None and language not in i18n.LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(i18n.LANGUAGES)} or null")
        login = self.data.login(username)
        if login is None:
            return False
        login.language = language
        return True

    # Login rules ------------------------------------------------------------------------------

    def wall_now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def blocked(self, username: str) -> bool:
        """Whether brute-force protection blocks this username now (an ended block is cleared)."""
        counter = self.recorder.login(username)
        if counter.locked_until is None:
            return False
        if counter.locked_until > self.wall_now():
            return True
        counter.locked_until = None
        counter.consecutive_failures = 0
        return False

    def login_failed(self, username: str) -> bool:
        """Count a wrong password; return True when this failure blocks the login."""
        counter = self.recorder.login(username)
        counter.failures += 1
        counter.consecutive_failures += 1
        if counter.consecutive_failures < LOCKOUT_THRESHOLD:
            return False
        self._block(counter)
        if self.data.login(username) is not None:
            self.send_mail(
                username,
                "Your Invisalign Doctor Site account has been blocked",
                "Your account has been blocked after multiple consecutive login attempts. "
                "Contact Invisalign Doctor Support or follow the unblock link to unblock it.",
            )
        return True

    def login_succeeded(self, username: str) -> None:
        counter = self.recorder.login(username)
        counter.successes += 1
        counter.consecutive_failures = 0

    def send_mail(self, to: str, subject: str, body: str, **extra: Any) -> None:
        message = {"to": to, "subject": subject, "body": body, "sent_at": iso(self.wall_now())}
        self.mail.append({**message, **extra})

    # What users do on the site ----------------------------------------------------------------

    def post_comment(self, login: Login, case: Case, body: str) -> Comment:
        author = flow.Author(login.kind, login.display_name, login.username)
        comment, _ = flow.add_comment(self.data, case, author, body, self.clock.now())
        return comment

    def request_modification(
        self, login: Login, case: Case, setup: Setup, instructions: str
    ) -> Comment:
        author = flow.Author(login.kind, login.display_name, login.username)
        now = self.clock.now()
        comment, _ = flow.request_modification(self.data, case, setup, author, instructions, now)
        return comment

    def approve(self, case: Case, setup: Setup) -> None:
        flow.approve(self.data, case, setup, self.clock.now())

    def mark_read(self, login: Login, case: Case, comment_ids: set[str] | None) -> list[str]:
        """Mark comments read for this user only (viewing a case never does)."""
        marked = []
        for comment in case.comments:
            if comment_ids is not None and comment.comment_id not in comment_ids:
                continue
            if login.username.lower() not in comment.read_by:
                comment.read_by.add(login.username.lower())
                marked.append(comment.comment_id)
        return marked

    # Internals --------------------------------------------------------------------------------

    def _load(self, practices: int, cases: int, seed: int) -> None:
        self.clock = VirtualClock()
        self.data = generate(practices, cases, seed, self.clock.now(), self.config.language)
        self.data_seed = seed
        self.tick_count = 0
        self.tick_log = []
        self.mail.clear()
        self.sessions.clear()
        self.recorder.reset()
        for login in self.data.logins.values():
            profile = SCENARIO_PROFILES.get(login.scenario or "")
            if profile is not None and profile.locked:
                counter = self.recorder.login(login.username)
                counter.attempts = counter.failures = LOCKOUT_THRESHOLD
                counter.consecutive_failures = LOCKOUT_THRESHOLD
                self._block(counter)

    def _block(self, counter: LoginCounter) -> None:
        counter.locked_until = self.wall_now() + timedelta(seconds=BLOCK_SECONDS)

    def _login_json(self, login: Login) -> dict[str, Any]:
        return {
            "username": login.username,
            "password": login.password,
            "kind": login.kind,
            "name": login.display_name,
            "roles": list(login.roles),
            "doctor_id": login.doctor_id,
            "scenario": login.scenario,
            "mfa": login.mfa,
            "totp_secret": login.totp_secret,
            "password_expired": login.password_expired,
            "language": login.language,
            "list_filter": login.list_filter,
            "visible_case_ids": [c.case_id for c in self.data.visible_cases(login)],
        }
