"""Which vendor adapters exist. Adding a vendor means adding its package and one entry here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.base import Adapter, PortalSession
from adapters.base.check import Recorder, Walk
from adapters.base.facts import Facts
from adapters.browser import BrowserPool
from adapters.http import DEFAULT_POLICY, ConnectionPool, RetryPolicy


@dataclass(frozen=True)
class AdapterParts:
    """What a vendor adapter may need; each takes what it uses."""

    base_url: str
    pool: BrowserPool
    policy: RetryPolicy = DEFAULT_POLICY
    #: The caller's clock, so a lockout's end ("in 20 minutes") is read on the same clock that
    #: later decides whether it has passed.
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: Keep-alive connections shared by the process's portal sessions (None: each session
    #: opens its own).
    connections: ConnectionPool | None = None


def _invisalign(parts: AdapterParts) -> Adapter:
    from adapters.invisalign import InvisalignAdapter

    return InvisalignAdapter(
        parts.base_url, parts.pool, policy=parts.policy, connections=parts.connections
    )


def _clearcorrect(parts: AdapterParts) -> Adapter:
    from adapters.clearcorrect import ClearCorrectAdapter

    return ClearCorrectAdapter(
        parts.base_url, policy=parts.policy, clock=parts.clock, connections=parts.connections
    )


_FACTORIES: dict[str, Callable[[AdapterParts], Adapter]] = {
    "invisalign": _invisalign,
    "clearcorrect": _clearcorrect,
}


#: A vendor's `portal check`: walk the facts with a session the gate let open.
PortalCheck = Callable[[Adapter, PortalSession, Walk, "Recorder | None"], Awaitable[None]]


def _invisalign_check() -> tuple[Facts, PortalCheck]:
    from adapters.invisalign import check, site

    return site.FACTS, check.check  # type: ignore[return-value]


def _clearcorrect_check() -> tuple[Facts, PortalCheck]:
    from adapters.clearcorrect import check
    from adapters.clearcorrect.site import FACTS

    return FACTS, check.check  # type: ignore[return-value]


_CHECKS: dict[str, Callable[[], tuple[Facts, PortalCheck]]] = {
    "invisalign": _invisalign_check,
    "clearcorrect": _clearcorrect_check,
}


def portal_check(vendor: str) -> tuple[Facts, PortalCheck]:
    """The facts a vendor's adapter declares and its check."""
    try:
        return _CHECKS[vendor]()
    except KeyError:
        raise ValueError(f"no portal check for vendor {vendor!r}") from None


def vendor_names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


def build_adapter(vendor: str, parts: AdapterParts) -> Adapter:
    try:
        factory = _FACTORIES[vendor]
    except KeyError:
        raise ValueError(f"no adapter for vendor {vendor!r}") from None
    return factory(parts)
