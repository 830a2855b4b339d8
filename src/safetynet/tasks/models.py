"""Tasks and their history, rule settings, and operational alerts.

A task is workflow state (who owns it now, how far it has escalated), so its row changes; every change is also an
append-only ``TaskEvent`` saying who did what, when and why, so nothing about a dismissal is ever lost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.facts import AppendOnly


class TaskStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # seen, being acted on, with a rationale; still escalates when overdue
    SNOOZED = "snoozed"  # quiet until ``snoozed_until``
    DISMISSED = "dismissed"  # a clinician judged no action needed, with a rationale and their role
    MONITOR = "monitor"  # the rule is in monitor mode: the finding is recorded, nobody is asked to act
    CLOSED = "closed"  # the condition cleared (or the rule was switched off)


LIVE = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.SNOOZED, TaskStatus.DISMISSED, TaskStatus.MONITOR)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # At most one live task per finding: reconciling twice never duplicates.
        Index(
            "uq_tasks_live_finding",
            "rule_id",
            "patient_id",
            "finding_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # A team's live tasks by due time (the team board's overdue list): only live rows, so it stays small.
        Index(
            "ix_tasks_live_team_due",
            "team_id",
            "due_at",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(10), index=True)
    rule_version: Mapped[int] = mapped_column(Integer)
    finding_key: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    finding_since: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), default=None)
    owner_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), default=None, index=True)
    owner_role: Mapped[str] = mapped_column(String(40))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    close_reason: Mapped[str | None] = mapped_column(Text, default=None)


class TaskEvent(AppendOnly, Base):
    __tablename__ = "task_events"
    __table_args__ = {"info": {"append_only": True}}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(20))  # opened | acknowledged | snoozed | dismissed | escalated | closed
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_staff_id: Mapped[str | None] = mapped_column(String(36), default=None)
    rationale: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class RuleSetting(Base):
    """A rule's mode and parameters in this trust. Absent means: active, with the rule's defaults."""

    __tablename__ = "rule_settings"

    rule_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    rationale: Mapped[str] = mapped_column(Text)


class OperationalAlert(Base):
    """A rule that failed while evaluating someone: shown loudly until someone acknowledges it."""

    __tablename__ = "operational_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rule_id: Mapped[str] = mapped_column(String(10))
    patient_id: Mapped[str | None] = mapped_column(String(36), default=None)
    error: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
