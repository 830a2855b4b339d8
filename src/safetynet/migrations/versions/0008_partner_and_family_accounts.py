"""partner and family accounts

What an account is beyond its role, for the partner and family channels (issue 7): a GP practice user's or a police
liaison officer's organisation (ODS code, force), and a registered carer's person and carer record. Three nullable
columns on ``accounts``; staff accounts leave them empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("carer_patient_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("carer_fact_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_carer_patient_id_patients"), "patients", ["carer_patient_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_accounts_carer_patient_id_patients"), type_="foreignkey")
        batch_op.drop_column("carer_fact_id")
        batch_op.drop_column("carer_patient_id")
        batch_op.drop_column("organisation")
