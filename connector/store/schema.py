"""The database schema (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Secrets never sit in domain tables: every ciphertext lives in `sealed_secrets`, bound by its
associated data to one account and purpose, so key rotation scans one table and deleting an
account's rows there is crypto-shredding. Synced data (cases, setups, comments, events) hangs off
its account with ON DELETE CASCADE, so deleting an account purges its health data. The audit log
deliberately has no foreign key: it must outlive the account it describes, and it holds neither
secrets nor health data.
"""

from __future__ import annotations

import sqlalchemy as sa

from connector.store.types import BigId, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(40)


def _account_fk() -> sa.ForeignKey:
    return sa.ForeignKey("accounts.id", ondelete="CASCADE")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    ]


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("vendor", sa.String(32), nullable=False),
    sa.Column("username", sa.String(320), nullable=False),
    # Logins are e-mail addresses: unique regardless of case and surrounding spaces.
    sa.Column("username_key", sa.String(320), nullable=False),
    sa.Column("practice_id", sa.String(200)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_reason", sa.String(64)),
    sa.Column("status_message", sa.Text),
    sa.Column("capabilities", sa.JSON, nullable=False),
    sa.Column("access", sa.JSON),
    sa.Column("credential_version", sa.Integer, nullable=False),
    sa.Column("sync_cursor", sa.Text),
    sa.Column("last_sync_at", UtcDateTime),
    sa.Column("next_sync_at", UtcDateTime),
    sa.Column("last_full_sync_at", UtcDateTime),
    sa.Column("last_error", sa.Text),
    # Consecutive failed syncs: drives the scheduler's backoff.
    sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
    *_timestamps(),
    sa.UniqueConstraint("vendor", "username_key"),
    sa.Index("ix_accounts_next_sync_at", "next_sync_at"),
    sa.Index("ix_accounts_practice_id", "practice_id"),
)

sealed_secrets = sa.Table(
    "sealed_secrets",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("format_version", sa.SmallInteger, nullable=False),
    sa.Column("kek_id", sa.String(64), nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("nonce", sa.LargeBinary, nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("rewrapped_at", UtcDateTime),
    sa.Index("ix_sealed_secrets_kek_id", "kek_id"),
    sa.Index("ix_sealed_secrets_account_id", "account_id"),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("username", sa.String(320), nullable=False),
    sa.Column("sealed_id", ID, sa.ForeignKey("sealed_secrets.id"), nullable=False),
    sa.Column("has_totp", sa.Boolean, nullable=False),
    # current | previous (kept for a manual rollback) | retired
    sa.Column("state", sa.String(16), nullable=False),
    # Set when the portal rejected this version: it is never tried again.
    sa.Column("rejected_at", UtcDateTime),
    # The last time this version signed in: an unanswered sign-in of a version that has signed
    # in before is transient; of one that never has, it counts as the failure it may have been.
    sa.Column("signed_in_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("account_id", "version"),
)

browser_sessions = sa.Table(
    "browser_sessions",
    metadata,
    sa.Column("account_id", ID, _account_fk(), primary_key=True),
    sa.Column("sealed_id", ID, sa.ForeignKey("sealed_secrets.id"), nullable=False),
    sa.Column("credential_version", sa.Integer, nullable=False),
    sa.Column("saved_at", UtcDateTime, nullable=False),
)

# One row per portal login (vendor + normalized username), whichever account holds it. It outlives
# the account (no foreign key): deleting and re-adding a login keeps its failure budget and its
# lockout, which belong to the login on the portal, not to a row of ours.
portal_logins = sa.Table(
    "portal_logins",
    metadata,
    sa.Column("vendor", sa.String(32), primary_key=True),
    sa.Column("login_key", sa.String(320), primary_key=True),
    # Failed sign-ins since the last success (or the dentist's confirmation): the portal's own
    # count of consecutive failures, as far as the connector can know it.
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    # The portal's lockout: nothing signs in before it ends, whatever the credentials.
    sa.Column("locked_until", UtcDateTime),
    sa.Column("last_success_at", UtcDateTime),
    sa.Column("last_failure_at", UtcDateTime),
    # The dentist confirmed (in the form) signing in on the portal themselves: budget reset.
    sa.Column("confirmed_at", UtcDateTime),
    *_timestamps(),
)

# Every sign-in step (a password or a code sent), written *before* it is sent (outcome
# `pending`) and settled when the answer comes: succeeded | accepted (a step passed, another
# follows) | failed | transient (no answer, on a credential that has signed in before) |
# not_counted (refused before the portal judged it). A pending row whose process died is settled
# by the gate. No foreign key to accounts: the budget is the portal login's.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("vendor", sa.String(32), nullable=False),
    sa.Column("login_key", sa.String(320), nullable=False),
    sa.Column("account_id", ID),
    # Which credential was tried: a stored version's id, or `trial:<id>` for one typed into the
    # form and not stored (it is stored only once the portal accepts it).
    sa.Column("credential_ref", sa.String(64), nullable=False),
    sa.Column("credential_version", sa.Integer),
    sa.Column("source", sa.String(16), nullable=False),  # form | sync | action | check | files
    sa.Column("step", sa.String(16), nullable=False),  # password | code
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64)),
    # host:pid:... of the process that sent it, so a pending row of a dead process is found.
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("settled_at", UtcDateTime),
    sa.Index("ix_login_attempts_vendor_login_key_at", "vendor", "login_key", "at"),
    sa.Index("ix_login_attempts_outcome", "outcome"),
    sa.Index("ix_login_attempts_credential_ref", "credential_ref"),
)

practice_mappings = sa.Table(
    "practice_mappings",
    metadata,
    sa.Column("vendor", sa.String(32), primary_key=True),
    sa.Column("vendor_doctor_id", sa.String(100), primary_key=True),
    sa.Column("practice_id", sa.String(200), nullable=False),
    *_timestamps(),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("vendor", sa.String(32), nullable=False),
    sa.Column("vendor_case_id", sa.String(100), nullable=False),
    sa.Column("patient_name", sa.Text),
    sa.Column("patient_id", sa.String(100)),
    sa.Column("vendor_doctor_id", sa.String(100)),
    sa.Column("vendor_doctor_name", sa.Text),
    sa.Column("practice_id", sa.String(200)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("vendor_status", sa.Text),
    sa.Column("action_required", sa.Boolean, nullable=False),
    sa.Column("unread_comments", sa.Integer, nullable=False),
    sa.Column("vendor_created_at", UtcDateTime),
    sa.Column("vendor_updated_at", UtcDateTime),
    # Hash of the listing row: unchanged means the detail need not be fetched again.
    sa.Column("summary_hash", sa.String(64)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    *_timestamps(),
    sa.Column("removed_at", UtcDateTime),
    sa.UniqueConstraint("account_id", "vendor_case_id"),
    # Keyset paging of the case list on (updated_at, id), alone or under one filter.
    sa.Index("ix_cases_updated_at_id", "updated_at", "id"),
    sa.Index("ix_cases_practice_id_updated_at_id", "practice_id", "updated_at", "id"),
    sa.Index("ix_cases_status_updated_at_id", "status", "updated_at", "id"),
    sa.Index("ix_cases_account_id_updated_at_id", "account_id", "updated_at", "id"),
)

setups = sa.Table(
    "setups",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("vendor_setup_id", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("vendor_created_at", UtcDateTime),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("vendor_state", sa.Text),
    sa.Column("viewer_url", sa.Text),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("case_id", "vendor_setup_id"),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("vendor_comment_id", sa.String(100), nullable=False),
    sa.Column("author_role", sa.String(16), nullable=False),
    sa.Column("author_name", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("vendor_created_at", UtcDateTime),
    sa.Column("unread", sa.Boolean, nullable=False),
    sa.Column("posted_by_connector", sa.Boolean, nullable=False),
    sa.Column("action_id", ID),
    sa.Column("content_hash", sa.String(64), nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("case_id", "vendor_comment_id"),
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("setup_id", ID, sa.ForeignKey("setups.id", ondelete="CASCADE")),
    sa.Column("kind", sa.String(16), nullable=False),  # comment | reject_setup
    # The route the key was used on (kind + case + setup): a key is unique per route.
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending|running|succeeded|failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("result", sa.JSON),
    sa.Column("error", sa.Text),
    *_timestamps(),
    sa.Column("finished_at", UtcDateTime),
    sa.UniqueConstraint("scope", "idempotency_key"),
    sa.Index("ix_actions_status", "status"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", ID, nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("account_id", ID, _account_fk()),
    sa.Column("subject_id", ID),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The change feed's order: stamped after commit by one stamper at a time (store/feed.py),
    # because `seq` is assigned at insert and PostgreSQL transactions commit out of seq order.
    sa.Column("position", sa.BigInteger),
    sa.Index("ix_events_position", "position", unique=True),
)

# One row (id 1): the last feed position handed out. A counter rather than max(position), so a
# position is never reused after the newest events are purged with their account.
feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("last_position", sa.BigInteger, nullable=False),
)

# Per configured webhook endpoint: the feed position up to which deliveries were created.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("last_position", sa.BigInteger, nullable=False),
    *_timestamps(),
)

# One row per event and endpoint: at-least-once delivery state. `last_error` is a short code
# ("HTTP 503", "ConnectTimeout"), never a response or request body (event data names patients).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", ID, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("endpoint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    # Due time; while an attempt is in flight, the end of its claim.
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    # Retries stop here (the event's time + max_age; a replay starts a new window).
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("last_attempt_at", UtcDateTime),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.String(200)),
    sa.Column("delivered_at", UtcDateTime),
    *_timestamps(),
    sa.UniqueConstraint("event_id", "endpoint"),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("full", sa.Boolean, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("outcome", sa.String(32), nullable=False),  # running|succeeded|failed|abandoned
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("error", sa.Text),
    # What a maintainer needs, never health data: {"failed_facts": [register ids of a
    # portal_changed], "unknown_labels": [status words the adapter did not know]}.
    sa.Column("details", sa.JSON),
    sa.Index("ix_sync_runs_account_id_started_at", "account_id", "started_at"),
)

# Per vendor: whether its portal looks changed (some account's last run met portal_changed), and
# which register facts failed; a change of state is one `vendor.health_changed` event, not one
# per account.
vendor_health = sa.Table(
    "vendor_health",
    metadata,
    sa.Column("vendor", sa.String(32), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # ok | changed
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
)

sync_leases = sa.Table(
    "sync_leases",
    metadata,
    sa.Column("account_id", ID, _account_fk(), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("account_id", ID, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # decrypt | shred | rotate
    sa.Column("purpose", sa.String(32)),
    sa.Column("kek_id", sa.String(64)),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index("ix_audit_log_account_id_at", "account_id", "at"),
)

# Links to the update-credentials form (`POST /v1/form-sessions`). Only a SHA-256 hash of the
# link's token is kept: the token itself is a capability and appears nowhere but in the link.
# `account_id` is set when the session names an account or once its first submit created one.
form_sessions = sa.Table(
    "form_sessions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("vendor", sa.String(32), nullable=False),
    sa.Column("practice_id", sa.String(200)),
    sa.Column("account_id", ID, _account_fk()),
    sa.Column("locale", sa.String(16)),
    sa.Column("timezone", sa.String(64)),
    sa.Column("return_url", sa.Text),
    # The last outcome the form showed (connected, wrong_password, cancelled, ...).
    sa.Column("outcome", sa.String(32)),
    *_timestamps(),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # Set by a final outcome (connected, or given up): the link then works no more.
    sa.Column("consumed_at", UtcDateTime),
    sa.Index("ix_form_sessions_expires_at", "expires_at"),
)

# --- files: setup files and case records, encrypted at rest (see `connector.files`) ---------

# One key per account (wrapped by the KEK): the keyed hash that deduplicates its blobs and the
# sealing of their digests derive from it. Deleting the account deletes it (crypto-shredding).
file_account_keys = sa.Table(
    "file_account_keys",
    metadata,
    sa.Column("account_id", ID, _account_fk(), primary_key=True),
    sa.Column("format_version", sa.SmallInteger, nullable=False),
    sa.Column("kek_id", sa.String(64), nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("rewrapped_at", UtcDateTime),
    sa.Index("ix_file_account_keys_kek_id", "kek_id"),
)

# Encrypted content, one per distinct file of an account. `writing` blobs are invisible (no file
# points at one) and are discarded by the next download of their account; `content_mac` (the
# keyed hash) is set once the blob is stored, and is unique per account: the dedup key.
blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # writing | stored
    sa.Column("backend", sa.String(16), nullable=False),  # filesystem | postgresql
    sa.Column("format_version", sa.SmallInteger, nullable=False),
    sa.Column("kek_id", sa.String(64), nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("chunk_size", sa.Integer, nullable=False),
    sa.Column("chunk_count", sa.Integer),
    sa.Column("size", sa.BigInteger),
    sa.Column("content_mac", sa.String(64)),
    # The content's SHA-256, sealed under the account's file key (the API shows it).
    sa.Column("sealed_digest", sa.LargeBinary),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("stored_at", UtcDateTime),
    sa.Column("rewrapped_at", UtcDateTime),
    sa.UniqueConstraint("account_id", "content_mac"),
    sa.Index("ix_blobs_kek_id", "kek_id"),
    sa.Index("ix_blobs_account_id_state", "account_id", "state"),
)

# The `postgresql` blob store: each sealed chunk is a row.
blob_chunks = sa.Table(
    "blob_chunks",
    metadata,
    sa.Column("blob_id", ID, sa.ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("chunk_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Every file the portal lists for a case, fetched or not. A blob referenced here cannot be
# deleted (no ON DELETE on `blob_id`): retention removes the file rows first, then the blobs.
files = sa.Table(
    "files",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    # The adapter's own handle, and its hash for the unique index (handles can be long URLs).
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("ref_key", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger),
    sa.Column("setup_version", sa.Integer),
    sa.Column("vendor_setup_id", sa.String(100)),
    sa.Column("checksum", sa.String(200)),
    sa.Column("assumed_facts", sa.JSON, nullable=False),
    sa.Column("listed_at", UtcDateTime, nullable=False),
    # A complete listing no longer showed it (kept: never delete on doubt).
    sa.Column("gone_at", UtcDateTime),
    # Wanted: by the sync policy or by a first request. Cleared when stored or given up.
    sa.Column("requested_at", UtcDateTime),
    sa.Column("blob_id", ID, sa.ForeignKey("blobs.id")),
    sa.Column("available_at", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("last_error", sa.String(200)),
    *_timestamps(),
    sa.UniqueConstraint("case_id", "ref_key"),
    sa.Index("ix_files_account_id_requested_at", "account_id", "requested_at"),
    sa.Index("ix_files_blob_id", "blob_id"),
)

# Per case: when its files were last listed, and whether a listing is wanted.
file_listings = sa.Table(
    "file_listings",
    metadata,
    sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("account_id", ID, _account_fk(), nullable=False),
    sa.Column("requested_at", UtcDateTime),
    # Fetch what the policy wants eagerly once listed (setups in review).
    sa.Column("eager", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("listed_at", UtcDateTime),
    # The case's `updated_at` the last listing saw: a newer one means list again.
    sa.Column("case_updated_at", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("last_error", sa.String(200)),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_file_listings_account_id_requested_at", "account_id", "requested_at"),
)
