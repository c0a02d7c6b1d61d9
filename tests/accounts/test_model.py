"""Model-based test of "never lock a dentist out" (hypothesis stateful testing).

Random sequences of every entry point that can lead to a portal sign-in (the API's create,
update, rollback, pause, resume, sync-now and delete; the CLI's add, pause, resume and remove;
form submits with right and wrong passwords, with and without the dentist's confirmation;
syncs, scheduler rounds and outbound actions), interleaved with wall-clock jumps and with the
portal losing answers to sign-ins, against the ClearCorrect sandbox (3 failures in a row lock a
login; 200 sequences) and the Invisalign sandbox (real Chromium through the hosted login on its
own host; 20 sequences). After every step the sandbox's own counters must show:

- the login is never locked (so no sign-in ever happens during a lockout we caused);
- at most 2 failed sign-ins since its last success, whatever the time;
- every sign-in the portal counted was written ahead by the connector, and no credential
  version (stored, or typed into the form) has more than one failed attempt.

Each sequence uses a login of its own (the budget belongs to the portal login and outlives
accounts), against one sandbox and one database for the whole run.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from typer.testing import CliRunner

from adapters.base import no_code
from adapters.browser import BrowserPool
from connector import clock
from connector.accounts import gate
from connector.actions import request_action, run_due_actions
from connector.api.app import create_app
from connector.api.state import ApiContext
from connector.cli import app as cli_app
from connector.domain import ActionKind
from connector.logs import configure_logging
from connector.settings import Settings
from connector.store import signins
from connector.store.case_list import list_case_page
from connector.sync import Scheduler, SyncServices, sync_account
from connector.verify import Login, verify_login
from sandbox.clearcorrect import LOGIN_PATH
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from tests.sync.support import make_services
from vault import Secret

pytestmark = pytest.mark.slow

TOKEN = "model-test-token-0123456789"


@dataclass(frozen=True)
class Vendor:
    name: str
    sequences: int
    #: Where the password is posted (lost answers are aimed at it).
    login_path: str

    def own_logins(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Generated least-privilege logins: one per sequence (they are reused, reset)."""
        if self.name == "clearcorrect":
            return [x for x in state["logins"] if x["username"].startswith("tps.")]
        return [
            x
            for x in state["logins"]
            if x["kind"] == "staff"
            and x["scenario"] is None
            and x["roles"] == ["Prescription management"]
        ]


VENDORS = {
    "clearcorrect": Vendor(
        "clearcorrect", int(os.environ.get("CONNECTOR_MODEL_SEQUENCES", "200")), LOGIN_PATH
    ),
    "invisalign": Vendor(
        "invisalign", int(os.environ.get("CONNECTOR_MODEL_SEQUENCES_IDS", "20")), "/u/login"
    ),
}
T = TypeVar("T")


def _wall() -> float:
    return time.time() + clock.offset().total_seconds()


@dataclass
class World:
    """What every sequence shares: one sandbox, one database, one API app, one event loop."""

    vendor: Vendor
    portal: PortalHandle
    loop: asyncio.AbstractEventLoop
    api: httpx.AsyncClient
    ctx: ApiContext
    services: SyncServices
    env: dict[str, str]
    logins: list[dict[str, Any]]
    sequences: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)


@pytest.fixture(scope="module", params=list(VENDORS))
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    chromium_options: dict[str, Any],
) -> Iterator[World]:
    vendor = VENDORS[request.param]
    data = tmp_path_factory.mktemp(f"model-{vendor.name}")
    key = base64.b64encode(os.urandom(32)).decode()
    env = {
        "CONNECTOR_DATA_DIR": str(data),
        "CONNECTOR_DATABASE__URL": f"sqlite+aiosqlite:///{data / 'connector.db'}",
        "CONNECTOR_VAULT__PROVIDER": "env",
        "CONNECTOR_VAULT__KEYS": f"k1:{key}",
        "CONNECTOR_API__TOKENS": f'["{TOKEN}"]',
    }
    config = SandboxConfig(practices=24, cases=1, admin=True, wall=_wall)
    loop = asyncio.new_event_loop()
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"))
    with start_portal(vendor.name, config) as portal:
        env[f"CONNECTOR_VENDORS__{vendor.name.upper()}__BASE_URL"] = portal.url
        settings_ = Settings(
            data_dir=data,
            database={"url": env["CONNECTOR_DATABASE__URL"]},
            vault={"provider": "env", "keys": f"k1:{key}"},
            api={"tokens": [TOKEN]},
            vendors={vendor.name: {"base_url": portal.url}},
        )
        app = create_app(settings_)
        lifespan = app.router.lifespan_context(app)
        loop.run_until_complete(lifespan.__aenter__())
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="http://connector.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        ctx: ApiContext = app.state.ctx
        services = make_services(
            ctx.runtime.store, ctx.runtime.vault, {vendor.name: portal.url}, pool
        )
        logins = vendor.own_logins(portal.admin.state())
        assert len(logins) >= 20
        made = World(vendor, portal, loop, client, ctx, services, env, logins)
        try:
            yield made
        finally:
            loop.run_until_complete(client.aclose())
            loop.run_until_complete(lifespan.__aexit__(None, None, None))
            loop.run_until_complete(pool.close())
            loop.close()
            clock.reset()


class Sequence(RuleBasedStateMachine):
    """One dentist's login, driven through every entry point in a random order."""

    world: World

    @initialize()
    def a_fresh_login(self) -> None:
        """A login of its own: the pool's logins are reused, each time as if new (the portal's
        count and ours start again; the checks below look at what happened since)."""
        world = self.world
        world.sequences += 1
        login = world.logins[world.sequences % len(world.logins)]
        self.username: str = login["username"]
        self.good: str = login["password"]
        self.wrong = 0
        self.account_id: str | None = None
        world.portal.admin.faults(seed=0, late_error_rate=0.0)
        world.portal.admin.unlock(self.username)
        self.counted = self._counter()
        self.first_attempt = self.world.run(self._forget_login()) + 1

    async def _forget_login(self) -> int:
        """Start this portal login afresh on our side; returns the newest attempt id so far."""
        store = self.world.ctx.runtime.store
        now = clock.utcnow()
        async with store.transaction() as conn:
            await signins.portal_login(conn, self.world.vendor.name, self.username, now)
            await signins.update_portal_login(
                conn, self.world.vendor.name, self.username, now, failures=0, locked_until=None
            )
            history = await signins.list_attempts(
                conn, self.world.vendor.name, self.username, limit=1
            )
        return history[0].id if history else 0

    def _counter(self) -> dict[str, int]:
        found = self.world.portal.admin.logins().get(self.username.lower(), {})
        return {"attempts": found.get("attempts", 0), "failures": found.get("failures", 0)}

    # --- helpers --------------------------------------------------------------------------

    def _password(self, good: bool) -> str:
        if good:
            return self.good
        self.wrong += 1
        return f"Wrong#{self.wrong:02d}x{abs(hash(self.username)) % 10_000:04d}"

    def _count(self, step: str) -> None:
        self.world.steps[step] = self.world.steps.get(step, 0) + 1

    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.world.run(self.world.api.request(method, path, **kwargs))

    def _cli(self, *args: str, stdin: str = "") -> str:
        result = CliRunner().invoke(cli_app, list(args), input=stdin, env=self.world.env)
        # The command pointed the log at CliRunner's stream, which is closed now.
        configure_logging("warning", "console")
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.stdout

    def _find_account(self) -> None:
        response = self._api("GET", "/v1/accounts", params={"vendor": self.world.vendor.name})
        for item in response.json()["items"]:
            if item["username"].casefold() == self.username.casefold():
                self.account_id = item["id"]
                return
        self.account_id = None

    # --- creating the account ---------------------------------------------------------------

    @precondition(lambda self: self.account_id is None)
    @rule(good=st.booleans())
    def api_create(self, good: bool) -> None:
        self._count("api_create")
        body = {
            "vendor": self.world.vendor.name,
            "username": self.username,
            "password": self._password(good),
        }
        response = self._api("POST", "/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        self.account_id = response.json()["id"]

    @precondition(lambda self: self.account_id is None)
    @rule(good=st.booleans())
    def cli_add(self, good: bool) -> None:
        self._count("cli_add")
        self._cli(
            "accounts", "add", "--vendor", self.world.vendor.name, "--username", self.username,
            stdin=self._password(good) + "\n",
        )  # fmt: skip
        self._find_account()

    @rule(good=st.booleans(), confirmed=st.booleans())
    def form_submit(self, good: bool, confirmed: bool) -> None:
        """The dentist types a login into the form; `confirmed`: they signed in on the portal
        themselves just before (which resets the portal's count) and ticked the box."""
        self._count("form_submit")
        if confirmed:
            self.world.portal.admin.unlock(self.username)
        self.world.run(
            verify_login(
                self.world.services,
                vendor=self.world.vendor.name,
                login=Login(self.username, Secret(self._password(good))),
                code_provider=no_code,
                account_id=self.account_id,
                confirmed_own_sign_in=confirmed,
                lease_wait=timedelta(seconds=5),
            )
        )
        self._find_account()

    # --- changing it ------------------------------------------------------------------------

    @precondition(lambda self: self.account_id is not None)
    @rule(good=st.booleans())
    def api_update(self, good: bool) -> None:
        self._count("api_update")
        response = self._api(
            "PUT",
            f"/v1/accounts/{self.account_id}/credentials",
            json={"password": self._password(good)},
        )
        assert response.status_code == 202, response.text

    @precondition(lambda self: self.account_id is not None)
    @rule()
    def api_rollback(self) -> None:
        self._count("api_rollback")
        response = self._api("POST", f"/v1/accounts/{self.account_id}/credentials/rollback")
        assert response.status_code in (202, 409), response.text

    @precondition(lambda self: self.account_id is not None)
    @rule(action=st.sampled_from(["pause", "resume", "sync"]))
    def api_account_action(self, action: str) -> None:
        self._count(f"api_{action}")
        response = self._api("POST", f"/v1/accounts/{self.account_id}/{action}")
        assert response.status_code in (202, 409), response.text

    @precondition(lambda self: self.account_id is not None)
    @rule(action=st.sampled_from(["pause", "resume"]))
    def cli_account_action(self, action: str) -> None:
        self._count(f"cli_{action}")
        assert self.account_id is not None
        self._cli("accounts", action, self.account_id)

    @precondition(lambda self: self.account_id is not None)
    @rule(through_cli=st.booleans())
    def delete(self, through_cli: bool) -> None:
        self._count("delete")
        assert self.account_id is not None
        if through_cli:
            self._cli("accounts", "remove", self.account_id, "--yes")
        else:
            assert self._api("DELETE", f"/v1/accounts/{self.account_id}").status_code == 204
        self.account_id = None

    # --- what the scheduler and the action loop do ------------------------------------------

    @precondition(lambda self: self.account_id is not None)
    @rule()
    def sync(self) -> None:
        self._count("sync")
        assert self.account_id is not None
        self.world.run(sync_account(self.world.services, self.account_id))

    @rule()
    def scheduler_round(self) -> None:
        self._count("scheduler_round")

        async def round_() -> None:
            scheduler = Scheduler(self.world.services)
            await scheduler.tick()
            await scheduler.drain()

        self.world.run(round_())

    @precondition(lambda self: self.account_id is not None)
    @rule()
    def comment(self) -> None:
        self._count("comment")
        store = self.world.ctx.runtime.store

        async def act() -> None:
            async with store.read() as conn:
                items = await list_case_page(conn, account_id=self.account_id, limit=1)
            if not items:
                return
            await request_action(
                store,
                kind=ActionKind.COMMENT,
                case_id=items[0]["id"],
                body="Please check the attachments.",
                idempotency_key=f"k{self.world.sequences}-{self.wrong}",
            )
            await run_due_actions(self.world.services)

        self.world.run(act())

    # --- the world around it ------------------------------------------------------------------

    @rule(minutes=st.sampled_from([1, 21, 25 * 60]))
    def time_passes(self, minutes: int) -> None:
        self._count("time_passes")
        clock.shift(timedelta(minutes=minutes))

    @rule(lost=st.booleans(), seed=st.integers(0, 50))
    def answers_to_sign_ins_get_lost(self, lost: bool, seed: int) -> None:
        """Half the sign-in requests are handled by the portal, then answered 502."""
        self._count("lost_answers")
        self.world.portal.admin.faults(
            path_prefixes=[self.world.vendor.login_path],
            late_error_rate=0.5 if lost else 0.0,
            seed=seed,
        )

    # --- what must always hold ------------------------------------------------------------------

    @invariant()
    def the_dentist_is_never_locked_out(self) -> None:
        if not hasattr(self, "username"):
            return
        counter = self.world.portal.admin.logins().get(self.username.lower())
        if counter is None:
            return
        assert counter["locked_until"] is None, counter
        assert counter["consecutive_failures"] <= gate.MAX_FAILURES, counter

        async def ours() -> list[signins.Attempt]:
            async with self.world.ctx.runtime.store.read() as conn:
                found = await signins.list_attempts(
                    conn, self.world.vendor.name, self.username, limit=1000
                )
            return [a for a in found if a.id >= self.first_attempt]

        attempts = self.world.run(ours())
        portal_attempts = counter["attempts"] - self.counted["attempts"]
        portal_failures = counter["failures"] - self.counted["failures"]
        # Written ahead: every sign-in the portal counted is on our record.
        assert portal_attempts <= len(attempts), (portal_attempts, len(attempts))
        failed = [a for a in attempts if a.outcome == "failed"]
        assert portal_failures <= len(failed), (portal_failures, len(failed))
        refs = [a.credential_ref for a in failed]
        assert len(refs) == len(set(refs)), "a credential version failed twice"

    def teardown(self) -> None:
        self.world.portal.admin.faults(seed=0, late_error_rate=0.0)
        if getattr(self, "account_id", None) is not None:
            self._api("DELETE", f"/v1/accounts/{self.account_id}")


def test_no_sequence_of_entry_points_locks_a_login(world: World) -> None:
    Sequence.world = world
    sequences = world.vendor.sequences
    run_state_machine_as_test(
        Sequence,
        settings=settings(
            max_examples=sequences,
            stateful_step_count=10 if world.vendor.name == "clearcorrect" else 6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert world.sequences >= sequences
    # Every entry point was exercised (the 20 Invisalign sequences cover the sign-in paths).
    expected = {"api_create", "form_submit", "api_update", "sync", "time_passes"}
    if world.vendor.name == "clearcorrect":
        expected |= {
            "cli_add", "api_rollback", "api_pause", "api_resume", "api_sync", "cli_pause",
            "cli_resume", "delete", "scheduler_round", "comment", "lost_answers",
        }  # fmt: skip
    assert expected <= set(world.steps), expected - set(world.steps)
    counted = world.portal.admin.logins().values()
    assert sum(c["attempts"] for c in counted) >= sequences // 2  # sign-ins did happen
    assert sum(c["failures"] for c in counted) >= sequences // 10  # and some failed
