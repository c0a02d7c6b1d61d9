"""The one set of register facts this adapter declares (`docs/portal-facts/clearcorrect.md`):
every site module declares what it relies on here, and a test holds each against the register.

`UNVERIFIED` lists the assumed facts the sync needs that no source confirms: their readers are
the adapter's unverified ones (`portal check` reports them); the register marks each row
`unverified` too."""

from __future__ import annotations

from adapters.base.facts import Facts

FACTS = Facts("clearcorrect")

#: Facts the sync cannot do without, read although no source confirms them.
UNVERIFIED: set[str] = set()


def unverified(fact_id: str, value: str) -> str:
    """Declare an assumed literal the sync needs (its reader is flagged unverified)."""
    UNVERIFIED.add(fact_id)
    return FACTS.value(fact_id, value)


def split(literal: str) -> tuple[str, ...]:
    """The items of a one-literal list fact (`"a, b, c"`)."""
    return tuple(item.strip() for item in literal.split(","))
