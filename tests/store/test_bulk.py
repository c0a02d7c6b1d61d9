"""Many rows inserted at once (COPY on PostgreSQL) are stored exactly as `executemany` stores
them: the same values read back, JSON null as JSON null, times as UTC, and a clash raised as
SQLAlchemy's IntegrityError."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from connector.store import Store
from connector.store.bulk import insert_rows
from connector.store.types import UtcDateTime
from tests.conftest import BOTH_DATABASES

metadata = sa.MetaData()
sample = sa.Table(
    "bulk_sample",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("batch", sa.String(8), nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("number", sa.Integer),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", UtcDateTime),
    sa.Column("data", sa.JSON),
)

TRICKY = [
    "Zażółć gęślą jaźń",
    "Grüße, Straße",
    "tab\there",
    "new\nline",
    "back\\slash \\N",
    "quote 'single' \"double\"",
    "",
    "emoji \U0001f9b7",
    "comma, semicolon; pipe|",
]


SHARED = datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)


def rows(batch: str, seed: int) -> list[dict[str, Any]]:
    chance = random.Random(seed)
    made = []
    for n in range(40):
        zone = timezone(timedelta(hours=chance.choice([-7, 0, 1, 2, 9])))
        made.append(
            {
                "id": f"{batch}-{n}",
                "batch": batch,
                "name": chance.choice([None, *TRICKY]),
                "number": chance.choice([None, 0, -1, 2**31 - 1, n]),
                "flag": chance.choice([None, True, False]),
                # The same instant recurs in other zones (the insert reuses what it processed).
                "at": chance.choice(
                    [
                        None,
                        datetime(2026, 3, 29, 1, 30, n, 12345, tzinfo=zone),
                        SHARED.astimezone(zone),
                    ]
                ),
                "data": chance.choice(
                    [None, [], {}, {"name": chance.choice(TRICKY), "size": n}, [{"a": None}]]
                ),
            }
        )
    return made


def stored(result: sa.CursorResult[Any]) -> list[tuple[Any, ...]]:
    return sorted((r.id.split("-")[1], *r[2:]) for r in result)


@BOTH_DATABASES
async def test_rows_read_back_as_executemany_stores_them(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.run_sync(metadata.create_all)
    for seed in range(5):
        async with store.transaction() as conn:
            await insert_rows(conn, sample, rows(f"b{seed}", seed))
            await conn.execute(sample.insert(), rows(f"p{seed}", seed))
        async with store.read() as conn:
            bulk = stored(await conn.execute(sa.select(sample).where(sample.c.batch == f"b{seed}")))
            plain = stored(
                await conn.execute(sa.select(sample).where(sample.c.batch == f"p{seed}"))
            )
            # A Python None in a JSON column is JSON null, not SQL NULL, either way.
            nulls = [
                (
                    await conn.execute(
                        sa.select(sa.func.count()).where(
                            sample.c.batch == batch, sample.c.data.is_(None)
                        )
                    )
                ).scalar()
                for batch in (f"b{seed}", f"p{seed}")
            ]
        assert bulk == plain
        assert len(bulk) == 40
        assert nulls == [0, 0]
        assert all(row[4] is None or row[4].tzinfo == UTC for row in bulk)


@BOTH_DATABASES
async def test_a_clash_is_an_integrity_error_and_nothing_is_written(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.run_sync(metadata.create_all)
    batch = rows("c", 1)
    with pytest.raises(sa.exc.IntegrityError) as raised:
        async with store.transaction() as conn:
            await insert_rows(conn, sample, [*batch, batch[0]])
    assert "Zażółć" not in str(raised.value)  # the parameters are not in the message
    async with store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(sample))).scalar() == 0
