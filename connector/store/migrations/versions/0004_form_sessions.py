"""Form sessions: links to the update-credentials form.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connector.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = connector.store.types.UtcDateTime(timezone=True)
    op.create_table(
        "form_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("return_url", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
        sa.Column("consumed_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_form_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_form_sessions_token_hash")),
    )
    with op.batch_alter_table("form_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_form_sessions_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("form_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_form_sessions_expires_at")
    op.drop_table("form_sessions")
