"""access grants and shares

Break-glass grants and partner shares with their lawful basis (issue 7; filled in by the security work). Until then an empty step, so that the revision chain is fixed for work in parallel.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
