"""accounts and sessions

Accounts and sessions for signing in to the web app (issue 4): one local account per member of staff (argon2id
password hash), and server-side sessions (a keyed hash of the cookie's token, idle and absolute expiry).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import safetynet.core.db

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_signed_in_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_accounts_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_accounts_staff_id")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_account_sessions_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_sessions_token_hash")),
    )
    with op.batch_alter_table("account_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_sessions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_sessions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_sessions_account_id"))
    op.drop_table("account_sessions")
    op.drop_table("accounts")
