"""fhir import ledger

What a FHIR import has written, for idempotency and crash resume (issue 5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import safetynet.core.db
from safetynet.core.facts import install_append_only, remove_append_only

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = ["fhir_import_ledger"]

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_import_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("record_table", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("received_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_import_ledger")),
        sa.UniqueConstraint(
            "resource_type",
            "resource_id",
            "version_id",
            "content_hash",
            name=op.f("uq_fhir_import_ledger_resource_type"),
        ),
        info={"append_only": True},
    )
    with op.batch_alter_table("fhir_import_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_fhir_import_ledger_resource", ["resource_id", "resource_type"], unique=False)
    install_append_only(op.get_bind(), APPEND_ONLY)


def downgrade() -> None:
    remove_append_only(op.get_bind(), APPEND_ONLY)
    with op.batch_alter_table("fhir_import_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_import_ledger_resource")
    op.drop_table("fhir_import_ledger")
