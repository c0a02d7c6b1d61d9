"""Verifications running in the background, and the verification codes they wait for.

An adapter asks for an e-mailed code in the middle of its login (`await code_provider("email")`),
with the portal's sign-in page open. So a verification runs as a task of its own, whose code
provider parks on a future: the password POST waits until the task either finishes or asks for a
code, and renders the outcome or the code page; `POST /forms/{token}/code` resolves the future
and waits the same way for what comes next (the outcome, or another request for a code when the
portal refused one). A code that does not come within `forms.code_wait_seconds` resolves to None,
the adapter raises `MfaRequired`, and the account goes to `mfa_required`.

All of this lives in the memory of the process that started the sign-in, which is why the code
POST must reach that same process (sticky sessions, by the link's path, with several replicas).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

from connector.verify import Verification
from vault import Secret

_log = structlog.get_logger("connector.forms")

#: A finished verification nobody came back for is forgotten after this many seconds.
KEEP_FINISHED = 600.0


class InFlight:
    """One verification of one form session, running in the background."""

    def __init__(self, session_id: str, username: str, code_wait: float) -> None:
        self.session_id = session_id
        self.username = username
        self.code_wait = code_wait
        self.task: asyncio.Task[Verification | None] | None = None
        self.channel: str | None = None
        self.asks = 0
        self.finished_at: float | None = None
        self._code: asyncio.Future[Secret | None] | None = None
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"InFlight({self.session_id!r}, asks={self.asks})"

    async def code_provider(self, channel: str) -> Secret | None:
        """The adapter's `CodeProvider`: parks until the dentist types a code, or gives up."""
        future: asyncio.Future[Secret | None] = asyncio.get_running_loop().create_future()
        self.channel = channel
        self._code = future
        self.asks += 1
        self._changed.set()
        try:
            return await asyncio.wait_for(future, timeout=self.code_wait)
        except TimeoutError:
            _log.info("form.code_timeout", form_session=self.session_id, channel=channel)
            return None
        finally:
            self._code = None

    @property
    def awaiting_code(self) -> bool:
        return self._code is not None and not self._code.done()

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def hand_code(self, code: Secret) -> bool:
        """Give the waiting sign-in its code; False when none is waiting."""
        if self._code is None or self._code.done():
            return False
        self._changed.clear()
        self._code.set_result(code)
        return True

    def withdraw(self) -> None:
        """No code will come (the dentist gave up, or the process stops)."""
        if self._code is not None and not self._code.done():
            self._changed.clear()
            self._code.set_result(None)

    async def settle(self, seconds: float) -> None:
        """Wait until the verification finishes or asks for a code (or `seconds` pass)."""
        if self.task is None or self.done or self.awaiting_code:
            return
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({self.task, changed}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            changed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await changed

    def result(self) -> Verification | None:
        assert self.task is not None and self.task.done()
        if self.task.cancelled():
            return None
        return self.task.result()


Run = Callable[[InFlight], Awaitable[Verification | None]]


class Verifications:
    """The verifications of this process, by form session id."""

    def __init__(self) -> None:
        self._items: dict[str, InFlight] = {}

    def get(self, session_id: str) -> InFlight | None:
        self.reap()
        return self._items.get(session_id)

    def start(self, session_id: str, username: str, code_wait: float, run: Run) -> InFlight:
        flight = InFlight(session_id, username, code_wait)

        async def body() -> Verification | None:
            try:
                return await run(flight)
            finally:
                flight.finished_at = time.monotonic()

        flight.task = asyncio.create_task(body(), name=f"form-verify-{session_id}")
        self._items[session_id] = flight
        return flight

    def forget(self, session_id: str) -> None:
        self._items.pop(session_id, None)

    def reap(self) -> None:
        now = time.monotonic()
        for session_id, flight in list(self._items.items()):
            if flight.finished_at is not None and now - flight.finished_at > KEEP_FINISHED:
                del self._items[session_id]

    def __len__(self) -> int:
        return len(self._items)

    async def close(self, grace: float = 10.0) -> None:
        """On shutdown: no code will come; let the sign-ins record that, then cancel the rest."""
        tasks = [f.task for f in self._items.values() if f.task is not None and not f.task.done()]
        for flight in self._items.values():
            flight.withdraw()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=grace)
        self._items.clear()
