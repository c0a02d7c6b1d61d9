"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connector.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("username_key", sa.String(length=320), nullable=False),
        sa.Column("practice_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("access", sa.JSON(), nullable=True),
        sa.Column("locked_until", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.Column("sync_cursor", sa.Text(), nullable=True),
        sa.Column("last_sync_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_full_sync_at", connector.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("vendor", "username_key", name=op.f("uq_accounts_vendor_username_key")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_next_sync_at", ["next_sync_at"], unique=False)
        batch_op.create_index("ix_accounts_practice_id", ["practice_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("kek_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_account_id_at", ["account_id", "at"], unique=False)

    op.create_table(
        "practice_mappings",
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("vendor_doctor_id", sa.String(length=100), nullable=False),
        sa.Column("practice_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor", "vendor_doctor_id", name=op.f("pk_practice_mappings")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("vendor_case_id", sa.String(length=100), nullable=False),
        sa.Column("patient_name", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.String(length=100), nullable=True),
        sa.Column("vendor_doctor_id", sa.String(length=100), nullable=True),
        sa.Column("vendor_doctor_name", sa.Text(), nullable=True),
        sa.Column("practice_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("vendor_status", sa.Text(), nullable=True),
        sa.Column("action_required", sa.Boolean(), nullable=False),
        sa.Column("unread_comments", sa.Integer(), nullable=False),
        sa.Column(
            "vendor_created_at", connector.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "vendor_updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_cases_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint(
            "account_id", "vendor_case_id", name=op.f("uq_cases_account_id_vendor_case_id")
        ),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_practice_id_updated_at", ["practice_id", "updated_at"], unique=False
        )
        batch_op.create_index("ix_cases_status", ["status"], unique=False)
        batch_op.create_index("ix_cases_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name=op.f("uq_events_id")),
    )
    op.create_table(
        "login_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_login_attempts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_account_id_at", ["account_id", "at"], unique=False)

    op.create_table(
        "sealed_secrets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("format_version", sa.SmallInteger(), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sealed_secrets_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_secrets")),
    )
    with op.batch_alter_table("sealed_secrets", schema=None) as batch_op:
        batch_op.create_index("ix_sealed_secrets_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_sealed_secrets_kek_id", ["kek_id"], unique=False)

    op.create_table(
        "sync_leases",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_leases_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sync_leases")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("started_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_runs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_runs_account_id_started_at", ["account_id", "started_at"], unique=False
        )

    op.create_table(
        "browser_sessions",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("sealed_id", sa.String(length=40), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.Column("saved_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_browser_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sealed_id"],
            ["sealed_secrets.id"],
            name=op.f("fk_browser_sessions_sealed_id_sealed_secrets"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_browser_sessions")),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("vendor_comment_id", sa.String(length=100), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "vendor_created_at", connector.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("unread", sa.Boolean(), nullable=False),
        sa.Column("posted_by_connector", sa.Boolean(), nullable=False),
        sa.Column("action_id", sa.String(length=40), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_comments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint(
            "case_id", "vendor_comment_id", name=op.f("uq_comments_case_id_vendor_comment_id")
        ),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("sealed_id", sa.String(length=40), nullable=False),
        sa.Column("has_totp", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rejected_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sealed_id"],
            ["sealed_secrets.id"],
            name=op.f("fk_credentials_sealed_id_sealed_secrets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint(
            "account_id", "version", name=op.f("uq_credentials_account_id_version")
        ),
    )
    op.create_table(
        "setups",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("vendor_setup_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "vendor_created_at", connector.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("vendor_state", sa.Text(), nullable=True),
        sa.Column("viewer_url", sa.Text(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_setups_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setups")),
        sa.UniqueConstraint(
            "case_id", "vendor_setup_id", name=op.f("uq_setups_case_id_vendor_setup_id")
        ),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("setup_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", connector.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", connector.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_actions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_actions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["setup_id"], ["setups.id"], name=op.f("fk_actions_setup_id_setups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint(
            "scope", "idempotency_key", name=op.f("uq_actions_scope_idempotency_key")
        ),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("ix_actions_status", ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_status")

    op.drop_table("actions")
    op.drop_table("setups")
    op.drop_table("credentials")
    op.drop_table("comments")
    op.drop_table("browser_sessions")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_account_id_started_at")

    op.drop_table("sync_runs")
    op.drop_table("sync_leases")
    with op.batch_alter_table("sealed_secrets", schema=None) as batch_op:
        batch_op.drop_index("ix_sealed_secrets_kek_id")
        batch_op.drop_index("ix_sealed_secrets_account_id")

    op.drop_table("sealed_secrets")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_account_id_at")

    op.drop_table("login_attempts")
    op.drop_table("events")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_updated_at_id")
        batch_op.drop_index("ix_cases_status")
        batch_op.drop_index("ix_cases_practice_id_updated_at")

    op.drop_table("cases")
    op.drop_table("practice_mappings")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_account_id_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_practice_id")
        batch_op.drop_index("ix_accounts_next_sync_at")

    op.drop_table("accounts")
