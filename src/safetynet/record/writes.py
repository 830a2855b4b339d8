"""The only ways a clinical fact is written: add, amend (new version), enter in error (new version).

Each audits itself in the caller's unit of work. There is deliberately no update and no delete here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.errors import NotFound, Problem, ValidationFailed
from safetynet.core.facts import FACT_COLUMNS, ClinicalFact, known_at

F = TypeVar("F", bound=ClinicalFact)


def add(ctx: Context, model: type[F], *, patient_id: str, occurred_at: datetime, **fields: Any) -> F:
    """Record a new clinical fact, known from now."""
    now = ctx.clock.now()
    fact = model(
        fact_id=ctx.ids.new_id(),
        version=1,
        patient_id=patient_id,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by_id=ctx.actor.staff_id,
        entered_in_error=False,
        **fields,
    )
    ctx.session.add(fact)
    touched(ctx).add(patient_id)
    audit.record(ctx, action="create", entity=model.__tablename__, entity_id=fact.fact_id, patient_id=patient_id)
    return fact


def touched(ctx: Context) -> set[str]:
    """The people this unit of work has written about: the safety net re-evaluates them before it commits."""
    people: set[str] = ctx.session.info.setdefault("touched_patients", set())
    return people


def latest(ctx: Context, model: type[F], fact_id: str, at: datetime | None = None) -> F:
    """The current version of a fact (as known at ``at``), or NotFound."""
    fact = ctx.session.scalars(known_at(model, at).where(model.fact_id == fact_id)).first()
    if fact is None:
        raise NotFound(f"no {model.__tablename__} with id {fact_id}")
    return fact


def amend(
    ctx: Context,
    model: type[F],
    fact_id: str,
    *,
    reason: str,
    entered_in_error: bool = False,
    **changes: Any,
) -> F:
    """Record a new version of a fact: the old version stays, readable as it was known."""
    problems: list[Problem] = []
    if not reason or not reason.strip():
        problems.append(Problem("reason", "a reason is required to amend a clinical fact"))
    unknown = sorted(set(changes) - set(model.__mapper__.column_attrs.keys()))
    problems += [Problem(name, "not a field of this fact") for name in unknown]
    bookkeeping = sorted(set(changes) & (set(FACT_COLUMNS) - {"occurred_at", "team_id", "note"}))
    problems += [Problem(name, "kept by the record itself; it cannot be amended") for name in bookkeeping]
    if problems:
        raise ValidationFailed(problems)
    current = latest(ctx, model, fact_id)
    now = ctx.clock.now()
    if now < current.recorded_at:
        raise ValidationFailed([Problem("recorded_at", "an amendment cannot be recorded before the fact it amends")])
    version = ctx.session.scalar(select(func.max(model.version)).where(model.fact_id == fact_id)) or 0
    occurred_at = changes.pop("occurred_at", current.occurred_at)
    fact = model(
        fact_id=fact_id,
        version=version + 1,
        patient_id=current.patient_id,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by_id=ctx.actor.staff_id,
        entered_in_error=entered_in_error,
        amendment_reason=reason.strip(),
        **(current.clinical_fields() | changes),
    )
    ctx.session.add(fact)
    touched(ctx).add(current.patient_id)
    audit.record(
        ctx,
        action="enter_in_error" if entered_in_error else "amend",
        entity=model.__tablename__,
        entity_id=fact_id,
        patient_id=current.patient_id,
        detail=reason.strip(),
    )
    return fact


def enter_in_error(ctx: Context, model: type[F], fact_id: str, *, reason: str) -> F:
    """Mark a fact as a mistake. It stays in the record, struck through, with who said so and why."""
    current = latest(ctx, model, fact_id)
    if current.entered_in_error:
        raise ValidationFailed([Problem("fact_id", "this fact is already marked entered in error")])
    return amend(ctx, model, fact_id, reason=reason, entered_in_error=True)
