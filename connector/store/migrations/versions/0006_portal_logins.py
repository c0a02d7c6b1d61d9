"""Sign-in attempts per portal login, written ahead; the portal login's own budget and lockout.

Login attempts used to hang off their account (and went with it). They now belong to the portal
login (vendor + normalized username), outlive the account, and are written before the password
leaves. Existing attempts are carried over; each login's failures since its last success become
its budget count.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from connector.store.types import BigId, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FAILED = {"invalid_credentials", "account_locked", "mfa_code_rejected"}


def _fresh_login() -> dict[str, Any]:
    return {"failures": 0, "locked_until": None, "last_success_at": None, "last_failure_at": None}


def upgrade() -> None:
    bind = op.get_bind()
    accounts = sa.table("accounts", sa.column("id"), sa.column("vendor"), sa.column("username_key"))
    previous = sa.table(
        "login_attempts",
        sa.column("id"),
        sa.column("account_id"),
        sa.column("at", UtcDateTime()),
        sa.column("source"),
        sa.column("outcome"),
        sa.column("credential_version"),
    )
    old = list(
        bind.execute(
            sa.select(
                accounts.c.vendor,
                accounts.c.username_key,
                previous.c.account_id,
                previous.c.at,
                previous.c.source,
                previous.c.outcome,
                previous.c.credential_version,
            )
            .join(accounts, accounts.c.id == previous.c.account_id)
            .order_by(previous.c.at, previous.c.id)
        )
    )
    op.drop_table("login_attempts")
    op.create_table(
        "portal_logins",
        sa.Column("vendor", sa.String(32), nullable=False),
        sa.Column("login_key", sa.String(320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("last_success_at", UtcDateTime(), nullable=True),
        sa.Column("last_failure_at", UtcDateTime(), nullable=True),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("vendor", "login_key", name=op.f("pk_portal_logins")),
    )
    attempts = op.create_table(
        "login_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("vendor", sa.String(32), nullable=False),
        sa.Column("login_key", sa.String(320), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=True),
        sa.Column("credential_ref", sa.String(64), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("settled_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_vendor_login_key_at", "login_attempts", ["vendor", "login_key", "at"]
    )
    op.create_index("ix_login_attempts_outcome", "login_attempts", ["outcome"])
    op.create_index("ix_login_attempts_credential_ref", "login_attempts", ["credential_ref"])
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_in_at", UtcDateTime(), nullable=True))
    locked = sa.table(
        "accounts",
        sa.column("vendor"),
        sa.column("username_key"),
        sa.column("locked_until", UtcDateTime()),
    )
    query = sa.select(locked.c.vendor, locked.c.username_key, locked.c.locked_until).where(
        locked.c.locked_until.is_not(None)
    )
    lockouts: dict[tuple[str, str], Any] = {
        (str(r.vendor), str(r.username_key)): r.locked_until for r in bind.execute(query)
    }
    # The lockout moves to the portal login it belongs to.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("locked_until")

    rows: list[dict[str, Any]] = []
    logins: dict[tuple[str, str], dict[str, Any]] = {}
    for vendor, key, account_id, at, source, outcome, version in old:
        failed = outcome in _FAILED
        succeeded = outcome == "ok"
        rows.append(
            {
                "vendor": vendor,
                "login_key": key,
                "account_id": account_id,
                "credential_ref": f"{account_id}:v{version}",
                "credential_version": version,
                "source": source,
                "step": "password",
                "outcome": "failed" if failed else "succeeded" if succeeded else "not_counted",
                "reason": outcome,
                "holder": "migrated",
                "at": at,
                "settled_at": at,
            }
        )
        state = logins.setdefault((vendor, key), _fresh_login())
        if failed:
            state["failures"] += 1
            state["last_failure_at"] = at
        elif succeeded:
            state["failures"] = 0
            state["last_success_at"] = at
    if rows:
        op.bulk_insert(attempts, rows)
    for login, until in lockouts.items():
        logins.setdefault(login, _fresh_login())["locked_until"] = until
    if logins:
        now = datetime.now(UTC)
        table = sa.table(
            "portal_logins",
            sa.column("vendor"),
            sa.column("login_key"),
            sa.column("failures"),
            *(
                sa.column(name, UtcDateTime())
                for name in (
                    "locked_until",
                    "last_success_at",
                    "last_failure_at",
                    "created_at",
                    "updated_at",
                )
            ),
        )
        op.bulk_insert(
            table,
            [
                {"vendor": v, "login_key": k, **state, "created_at": now, "updated_at": now}
                for (v, k), state in logins.items()
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", UtcDateTime(), nullable=True))
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("signed_in_at")
    op.drop_table("login_attempts")
    op.drop_table("portal_logins")
    op.create_table(
        "login_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_login_attempts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_account_id_at", "login_attempts", ["account_id", "at"], unique=False
    )
