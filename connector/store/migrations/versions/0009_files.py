"""Setup files and case records: file rows, listings, encrypted blobs and per-account file keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(40)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "file_account_keys",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("format_version", sa.SmallInteger(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("rewrapped_at", UtcDateTime(), nullable=True),
        _account_fk("file_account_keys"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_file_account_keys")),
    )
    op.create_index("ix_file_account_keys_kek_id", "file_account_keys", ["kek_id"])
    op.create_table(
        "blobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("format_version", sa.SmallInteger(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("content_mac", sa.String(64), nullable=True),
        sa.Column("sealed_digest", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=True),
        sa.Column("rewrapped_at", UtcDateTime(), nullable=True),
        _account_fk("blobs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
        sa.UniqueConstraint(
            "account_id", "content_mac", name=op.f("uq_blobs_account_id_content_mac")
        ),
    )
    op.create_index("ix_blobs_kek_id", "blobs", ["kek_id"])
    op.create_index("ix_blobs_account_id_state", "blobs", ["account_id", "state"])
    op.create_table(
        "blob_chunks",
        sa.Column("blob_id", ID, nullable=False),
        sa.Column("chunk_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["blobs.id"], name=op.f("fk_blob_chunks_blob_id_blobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("blob_id", "chunk_index", name=op.f("pk_blob_chunks")),
    )
    op.create_table(
        "files",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("ref_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("setup_version", sa.Integer(), nullable=True),
        sa.Column("vendor_setup_id", sa.String(100), nullable=True),
        sa.Column("checksum", sa.String(200), nullable=True),
        sa.Column("assumed_facts", sa.JSON(), nullable=False),
        sa.Column("listed_at", UtcDateTime(), nullable=False),
        sa.Column("gone_at", UtcDateTime(), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=True),
        sa.Column("blob_id", ID, nullable=True),
        sa.Column("available_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _account_fk("files"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_files_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], name=op.f("fk_files_blob_id_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("case_id", "ref_key", name=op.f("uq_files_case_id_ref_key")),
    )
    op.create_index("ix_files_account_id_requested_at", "files", ["account_id", "requested_at"])
    op.create_index("ix_files_blob_id", "files", ["blob_id"])
    op.create_table(
        "file_listings",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=True),
        sa.Column("eager", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("listed_at", UtcDateTime(), nullable=True),
        sa.Column("case_updated_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _account_fk("file_listings"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_file_listings_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_file_listings")),
    )
    op.create_index(
        "ix_file_listings_account_id_requested_at",
        "file_listings",
        ["account_id", "requested_at"],
    )


def downgrade() -> None:
    op.drop_table("file_listings")
    op.drop_table("files")
    op.drop_table("blob_chunks")
    op.drop_table("blobs")
    op.drop_table("file_account_keys")
