"""accounts and sessions

Accounts and sessions for signing in to the web app (issue 4; filled in by the web work). Until then an empty step, so that the revision chain is fixed for work in parallel.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
