"""The fast readers behind the rules: facts read with plain column selects are the ORM's values exactly, and the
trust batch (a slice of patient ids at a time, only what the rules read, in one process or several) finds exactly
what evaluating each person's full history finds, at several moments."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safetynet import migrations
from safetynet.core.clock import LONDON
from safetynet.core.db import make_engine
from safetynet.record.registry import FACT_MODELS
from safetynet.rules import engine as rules
from safetynet.rules.facts import KINDS, _opaque, load_histories, load_history, read_by_rules
from safetynet.rules.replay import batch
from safetynet.synth import model, trust
from tests.conftest import Databases

END = datetime.combine(model.DEFAULT_UNTIL, time(23), LONDON)


@pytest.fixture(scope="module")
def synthetic(databases: Databases) -> Iterator[Engine]:
    """A small synthetic trust (amended and entered-in-error facts included), committed so processes can share it."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    trust.build(engine, patients=40, seed=11, workers=0)
    yield engine
    engine.dispose()


def test_facts_read_fast_are_the_orm_values(synthetic: Engine) -> None:
    with Session(synthetic) as session:
        histories = load_histories(session)
        amended = 0
        for kind in KINDS:
            model_ = FACT_MODELS[kind]
            columns = [c.key for c in model_.__table__.columns]
            by_row = {f.id: f for h in histories.values() for f in h.versions.get(kind, [])}
            rows = session.scalars(select(model_)).all()
            assert len(rows) == len(by_row), kind
            first = {}
            for row in sorted(rows, key=lambda r: (r.recorded_at, r.version)):
                first.setdefault(row.fact_id, row.recorded_at)
            for row in rows:
                fact = by_row[row.id]
                expected = {c: getattr(row, c) for c in columns} | {"table": kind}
                assert vars(fact) == expected | {"first_recorded_at": first[row.fact_id]}, (kind, row.id)
                assert [type(v) for v in vars(fact).values()][: len(columns)] == [type(v) for v in expected.values()][
                    : len(columns)
                ], (kind, row.id)
                amended += row.version > 1
        assert amended, "the trust has corrected facts, so versions are exercised"
        one = next(iter(histories))
        alone = load_history(session, one)
        assert {k: [vars(f) for f in v] for k, v in alone.versions.items()} == {
            k: [vars(f) for f in v] for k, v in histories[one].versions.items()
        }


@pytest.mark.slow
@pytest.mark.parametrize("days_before_end", [0, 200, 700])
def test_the_trust_batch_finds_what_each_full_history_finds(synthetic: Engine, days_before_end: int) -> None:
    at = END - timedelta(days=days_before_end)
    with Session(synthetic) as session:
        expected = {
            pid: rules.evaluate(h.as_known_at(at)) for pid, h in load_histories(session).items() if h.first_known <= at
        }
        assert any(e.findings for e in expected.values()), "something to find"
        one_process = {p.patient_id: e for p, e in batch(session, at, chunk=7)}
        assert one_process == expected
        in_order = [p.patient_id for p, _ in batch(session, at, chunk=7, workers=2)]
        assert in_order == sorted(expected)
        assert {p.patient_id: e for p, e in batch(session, at, chunk=7, workers=2)} == expected


def test_the_batch_reads_only_what_the_rules_name() -> None:
    reads = read_by_rules()
    assert reads is not None
    assert "appointments" not in reads, "no rule reads them"
    assert "notes" not in reads
    assert {"outcome", "mode", "planned", "occurred_at", "recorded_at"} <= set(reads["contacts"])
    assert "attend_or_dna_code" not in reads["contacts"]


@pytest.mark.parametrize(
    ("code", "opaque"),
    [
        ("getattr(fact, name)", True),
        ("vars(fact)", True),
        ("fact.__dict__", True),
        ("for kind in KINDS: pass", True),
        ("from safetynet.record.chart import chart", True),
        ("import os", True),
        ("from safetynet.record.contacts.models import ContactOutcome", False),
        ("from datetime import timedelta", False),
        ("fact.outcome", False),
    ],
)
def test_code_that_could_read_any_column_makes_the_batch_read_everything(code: str, opaque: bool) -> None:
    assert any(_opaque(node) for node in ast.walk(ast.parse(code))) is opaque
