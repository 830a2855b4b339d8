"""audit hash chain

The audit trail as a hash chain (issue 7): each event gets its place (seq), the hash of the event before it and its
own hash (see safetynet.audit.chain); one row, audit_chain_head, holds the last link. Events already recorded are
chained here, in the order they were written (id order).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safetynet.audit.chain import CONTENT, GENESIS, HEAD_ID, digest
from safetynet.core.facts import install_append_only, remove_append_only

# Tables whose rows are never updated or deleted, added by this revision.
APPEND_ONLY: list[str] = []

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    remove_append_only(bind, ["audit_events"])  # existing events are given their links below, then guarded again
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("event_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_events_seq"), ["seq"], unique=True)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    seq, prev, last_id = 0, GENESIS, -1
    select = sa.text(f"SELECT id, {', '.join(CONTENT)} FROM audit_events WHERE id > :after ORDER BY id LIMIT 10000")
    link = sa.text("UPDATE audit_events SET seq = :s, prev_hash = :p, event_hash = :h WHERE id = :i")
    while rows := bind.execute(select, {"after": last_id}).all():  # in batches, oldest first
        links = []
        for row in rows:
            seq += 1
            this = digest(seq, prev, tuple(row[1:]))
            links.append({"i": row[0], "s": seq, "p": prev, "h": this})
            prev, last_id = this, row[0]
        bind.execute(link, links)
    bind.execute(
        sa.text("INSERT INTO audit_chain_head (id, seq, event_hash) VALUES (:i, :s, :h)"),
        {"i": HEAD_ID, "s": seq, "h": prev},
    )
    install_append_only(bind, ["audit_events"])


def downgrade() -> None:
    bind = op.get_bind()
    remove_append_only(bind, ["audit_events"])
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_seq"))
        batch_op.drop_column("event_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    install_append_only(bind, ["audit_events"])
