"""The embedded action loop: runs due actions as they arrive (the API wakes it)."""

from __future__ import annotations

import asyncio

import structlog

from connector.actions.runner import run_due_actions
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.actions")


class ActionLoop:
    def __init__(self, services: SyncServices, *, poll_seconds: float = 2.0) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A new action was recorded: look at once instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await run_due_actions(self.services)
            except Exception:
                _log.exception("actions.pass_failed")
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(
                waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()
