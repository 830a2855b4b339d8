"""access grants and shares

Break-glass grants and their reviews, and partner shares with their lawful basis and exactly what was shared
(issue 7). All three tables are append-only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import safetynet.core.db
from safetynet.core.facts import install_append_only, remove_append_only

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = ["break_glass_grants", "break_glass_reviews", "partner_shares"]

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_break_glass_grants_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_break_glass_grants_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
        info={"append_only": True},
    )
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_glass_grants_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_break_glass_grants_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_break_glass_grants_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "break_glass_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("reviewed_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewer_staff_id", sa.String(length=36), nullable=True),
        sa.Column("reviewer_name", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["break_glass_grants.id"], name=op.f("fk_break_glass_reviews_grant_id_break_glass_grants")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_staff_id"], ["staff.id"], name=op.f("fk_break_glass_reviews_reviewer_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_reviews")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_break_glass_reviews_grant_id")),
        info={"append_only": True},
    )
    op.create_table(
        "partner_shares",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_role", sa.String(length=40), nullable=False),
        sa.Column("recipient_organisation", sa.String(length=200), nullable=False),
        sa.Column("shared_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shared_by_staff_id", sa.String(length=36), nullable=True),
        sa.Column("shared_by_name", sa.String(length=200), nullable=False),
        sa.Column("shared_by_role", sa.String(length=40), nullable=False),
        sa.Column("lawful_basis", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_partner_shares_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["shared_by_staff_id"], ["staff.id"], name=op.f("fk_partner_shares_shared_by_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_shares")),
        info={"append_only": True},
    )
    with op.batch_alter_table("partner_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_shares_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_partner_shares_recipient_organisation"), ["recipient_organisation"], unique=False
        )
    install_append_only(op.get_bind(), APPEND_ONLY)


def downgrade() -> None:
    remove_append_only(op.get_bind(), APPEND_ONLY)
    with op.batch_alter_table("partner_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_shares_recipient_organisation"))
        batch_op.drop_index(batch_op.f("ix_partner_shares_patient_id"))
    op.drop_table("partner_shares")
    op.drop_table("break_glass_reviews")
    with op.batch_alter_table("break_glass_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_staff_id"))
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_patient_id"))
        batch_op.drop_index(batch_op.f("ix_break_glass_grants_expires_at"))
    op.drop_table("break_glass_grants")
