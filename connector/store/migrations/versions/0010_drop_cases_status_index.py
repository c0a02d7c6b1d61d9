"""Drop `ix_cases_status`: `ix_cases_status_updated_at_id` starts with the same column.

Any lookup by status can use that index's prefix, while every case a sync inserted or updated
paid for one more index entry. The case list filtered by status measured the same without it
(`bench/api_bench.py --kinds "filter status"`: 1.89 / 0.86 ms of server CPU per request on
SQLite / PostgreSQL with it, 1.85 / 0.85 without).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_status", ["status"], unique=False)
