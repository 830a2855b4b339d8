"""live tasks by team

A partial index on the tasks that are still live, by team and due time: the team board's overdue list read every
live task in the trust to find one team's (10-13 ms on the 100,000-person benchmark trust, about 15% of the page).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tasks_live_team_due",
        "tasks",
        ["team_id", "due_at"],
        unique=False,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_live_team_due", table_name="tasks")
