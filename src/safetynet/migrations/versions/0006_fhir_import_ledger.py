"""fhir import ledger

What a FHIR import has written, for idempotency and crash resume (issue 5; filled in by the interop work). Until then an empty step, so that the revision chain is fixed for work in parallel.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
