"""Scenario logins of every sandbox portal, one table for tests, the README and the demo.

Each is present in every seeded sandbox, whatever the generator's size. See the README's
"Sandbox logins" table for the same rows in prose.
"""

from __future__ import annotations

from sandbox.clearcorrect.scenarios import SCENARIOS as _CLEARCORRECT
from sandbox.common.scenarios import Outcome, ScenarioLogin
from sandbox.invisalign.scenarios import SCENARIOS as _INVISALIGN

SCENARIOS: tuple[ScenarioLogin, ...] = _INVISALIGN + _CLEARCORRECT

__all__ = ["SCENARIOS", "Outcome", "ScenarioLogin", "for_vendor", "scenario"]


def for_vendor(vendor: str) -> tuple[ScenarioLogin, ...]:
    return tuple(s for s in SCENARIOS if s.vendor == vendor)


def scenario(vendor: str, name: str) -> ScenarioLogin:
    for s in SCENARIOS:
        if s.vendor == vendor and s.name == name:
            return s
    raise KeyError(f"no {vendor} scenario login named {name!r}")
