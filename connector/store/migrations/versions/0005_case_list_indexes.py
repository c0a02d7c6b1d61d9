"""Indexes for the case list's filters with keyset paging on (updated_at, id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_practice_id_updated_at")
        batch_op.create_index(
            "ix_cases_practice_id_updated_at_id", ["practice_id", "updated_at", "id"]
        )
        batch_op.create_index("ix_cases_status_updated_at_id", ["status", "updated_at", "id"])
        batch_op.create_index(
            "ix_cases_account_id_updated_at_id", ["account_id", "updated_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_account_id_updated_at_id")
        batch_op.drop_index("ix_cases_status_updated_at_id")
        batch_op.drop_index("ix_cases_practice_id_updated_at_id")
        batch_op.create_index("ix_cases_practice_id_updated_at", ["practice_id", "updated_at"])
