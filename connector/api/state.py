"""What the API's routes reach through `request.app.state`: one `ApiContext`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from connector.runtime import Runtime
from connector.settings import Settings
from connector.sync.services import SyncServices


@dataclass
class Wakers:
    """Background loops the API nudges when it records work (a no-op without them)."""

    scheduler: list[object] = field(default_factory=list)

    def sync(self) -> None:
        for loop in self.scheduler:
            getattr(loop, "wake", lambda: None)()

    actions_loops: list[object] = field(default_factory=list)

    def actions(self) -> None:
        for loop in self.actions_loops:
            getattr(loop, "wake", lambda: None)()


@dataclass
class ApiContext:
    settings: Settings
    runtime: Runtime
    services: SyncServices
    wakers: Wakers = field(default_factory=Wakers)


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx
