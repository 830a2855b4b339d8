"""fact ids read by the unique index alone

Every clinical fact table had an index on ``fact_id`` beside its unique constraint on ``(fact_id, version)``, whose
index already answers any lookup by ``fact_id`` (its first column) and, for "as known at", the version too. The
second index of random UUIDs only cost writes: the synthetic trust's writer and bulk imports built or kept up two
indexes of the same key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 16:10:00.000000
"""

from __future__ import annotations

from alembic import op

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The clinical fact tables as of this revision (frozen here: later tables are born without the index).
FACT_TABLES = (
    "adherence_reports",
    "admissions",
    "appointments",
    "capacity_assessments",
    "care_plan_reviews",
    "carers",
    "clinical_notes",
    "community_treatment_orders",
    "contacts",
    "cross_team_requests",
    "cross_team_responses",
    "cto_recalls",
    "depot_administrations",
    "diagnoses",
    "episodes",
    "family_concern_responses",
    "family_concerns",
    "gp_handover_letters",
    "key_worker_allocations",
    "legal_status_changes",
    "mdt_decisions",
    "partner_information",
    "patient_details",
    "prescriptions",
    "referrals",
    "risk_assessments",
    "risk_events",
    "zone_assignments",
)


def upgrade() -> None:
    for table in FACT_TABLES:
        op.drop_index(f"ix_{table}_fact_id", table_name=table)


def downgrade() -> None:
    for table in FACT_TABLES:
        op.create_index(f"ix_{table}_fact_id", table, ["fact_id"], unique=False)
