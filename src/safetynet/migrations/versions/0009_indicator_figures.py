"""indicator figures

The trust's indicator figures as last computed (``safetynet indicators refresh`` and the app's nightly scheduler),
which the trust indicators dashboard reads: one row per run, one per indicator, team and month (issue 6).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import safetynet.core.db

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("computed_at", safetynet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(length=200), nullable=False),
        sa.Column("first_month", sa.String(length=7), nullable=False),
        sa.Column("last_month", sa.String(length=7), nullable=False),
        sa.Column("figures", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_runs")),
    )
    op.create_index(op.f("ix_indicator_runs_computed_at"), "indicator_runs", ["computed_at"], unique=False)
    op.create_table(
        "indicator_figures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("indicator", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["indicator_runs.id"], name=op.f("fk_indicator_figures_run_id_indicator_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_figures")),
    )
    op.create_index("ix_indicator_figures_run_indicator", "indicator_figures", ["run_id", "indicator"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_indicator_figures_run_indicator", table_name="indicator_figures")
    op.drop_table("indicator_figures")
    op.drop_index(op.f("ix_indicator_runs_computed_at"), table_name="indicator_runs")
    op.drop_table("indicator_runs")
