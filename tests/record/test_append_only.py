"""Nothing in the record is ever updated in place or deleted: by the services, the ORM, or raw SQL."""

from __future__ import annotations

import inspect
import pkgutil
from datetime import timedelta
from importlib import import_module

import pytest
from sqlalchemy import exc, text

import safetynet.record
from safetynet import migrations
from safetynet.core.context import Context
from safetynet.core.errors import AppendOnlyViolation
from safetynet.core.facts import append_only_tables
from safetynet.record.risk import service as risk
from safetynet.record.risk.models import RiskEvent
from safetynet.record.risk.schemas import RiskEventIn
from tests.factories import world

FORBIDDEN_WORDS = ("delete", "remove", "update", "purge", "erase", "destroy", "overwrite")


def _risk_event(ctx: Context, patient_id: str) -> RiskEvent:
    data = RiskEventIn(
        occurred_at=ctx.clock.now() - timedelta(days=3),
        category="violence_to_others",
        harm="serious",
        source="police",
        description="Assaulted a neighbour",
    )
    event = risk.record_risk_event(ctx, patient_id, data)
    ctx.session.flush()
    return event


def test_no_record_service_offers_a_way_to_delete_or_update() -> None:
    offenders = []
    for info in pkgutil.walk_packages(safetynet.record.__path__, "safetynet.record."):
        module = import_module(info.name)
        for name, _ in inspect.getmembers(module, inspect.isfunction):
            if any(word in name.lower() for word in FORBIDDEN_WORDS):
                offenders.append(f"{info.name}.{name}")
    assert offenders == []


def test_the_orm_refuses_to_delete_a_clinical_fact(ctx: Context) -> None:
    w = world(ctx)
    event = _risk_event(ctx, w.patient.id)
    ctx.session.delete(event)
    with pytest.raises(AppendOnlyViolation, match="cannot be deleted"):
        ctx.session.flush()


def test_the_orm_refuses_to_change_a_clinical_fact_in_place(ctx: Context) -> None:
    w = world(ctx)
    event = _risk_event(ctx, w.patient.id)
    event.harm = "none"
    with pytest.raises(AppendOnlyViolation, match="new version"):
        ctx.session.flush()


APPEND_ONLY = append_only_tables(dict(migrations.metadata().tables))


def test_every_clinical_table_and_the_audit_trail_are_append_only() -> None:
    assert "risk_events" in APPEND_ONLY
    assert "audit_events" in APPEND_ONLY
    assert "patients" in APPEND_ONLY
    assert len(APPEND_ONLY) >= 29


def _triggers(ctx: Context) -> set[str]:
    if ctx.session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        rows = ctx.session.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        rows = ctx.session.execute(text("SELECT event_object_table FROM information_schema.triggers"))
    return {row[0] for row in rows}


def test_the_database_has_append_only_triggers_on_every_clinical_table(ctx: Context) -> None:
    assert set(APPEND_ONLY) <= _triggers(ctx)


POPULATED = ["patients", "patient_details", "episodes", "risk_events", "audit_events"]


@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
@pytest.mark.parametrize("table", POPULATED)
def test_the_database_itself_refuses_raw_updates_and_deletes(ctx: Context, table: str, statement: str) -> None:
    w = world(ctx)
    _risk_event(ctx, w.patient.id)
    assert ctx.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0
    with pytest.raises(exc.DBAPIError, match="append-only"), ctx.session.begin_nested():
        ctx.session.execute(text(statement.format(t=table)))
