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
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine
from safetynet.record import writes
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.models import Contact, ContactOutcome
from safetynet.record.contacts.schemas import ContactIn
from safetynet.record.registry import FACT_MODELS
from safetynet.rules import engine as rules
from safetynet.rules.definitions import sn02_disengagement
from safetynet.rules.facts import (
    KINDS,
    PLANNED_READ,
    Directory,
    SummarisedKind,
    _opaque,
    _wanted,
    batch_summary,
    load_histories,
    load_history,
    load_span,
    read_by_rules,
    summarised_by_rules,
    trust_people,
)
from safetynet.rules.replay import batch
from safetynet.synth import model, trust
from tests import factories
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


def test_the_batch_reads_contacts_only_through_the_questions_the_rules_ask(synthetic: Engine) -> None:
    assert summarised_by_rules() == {"contacts"}, "no rule names contacts: they ask PersonFacts's questions"
    at = END - timedelta(days=200)
    summary = batch_summary(at)
    assert summary is not None
    with Session(synthetic) as session:
        people = trust_people(session, at)
        whole = load_span(session, Directory.load(session), people, read_by_rules())
        read = load_span(session, Directory.load(session), people, read_by_rules(), summary)
    assert (
        sum(len(h.versions["contacts"]) for h in read.values())
        < sum(len(h.versions["contacts"]) for h in whole.values()) / 5
    )
    for pid, history in read.items():
        facts, everything = history.as_known_at(at), whole[pid].as_known_at(at)
        assert facts.last_attended_direct_contact() == everything.last_attended_direct_contact()
        assert facts.last_attended_contact() == everything.last_attended_contact()
        assert facts.last_planned_contacts(PLANNED_READ) == everything.last_planned_contacts(PLANNED_READ)
        with pytest.raises(SummarisedKind):
            facts.happened("contacts")
        with pytest.raises(SummarisedKind):
            facts.last_planned_contacts(PLANNED_READ + 1)
    with pytest.raises(ValueError, match="read for"):
        next(iter(read.values())).as_known_at(END)


def test_sn02_looks_at_no_more_planned_contacts_by_default_than_the_batch_reads() -> None:
    assert sn02_disengagement.Params().consecutive_missed <= PLANNED_READ


@pytest.mark.parametrize(
    ("candidates", "planned", "wanted"),
    [
        # latest first: (when, bits: 1 attended direct, 2 attended, 4 planned, id)
        ([(9, 7, 1), (8, 4, 2), (7, 7, 3)], 2, [1, 2]),
        ([(9, 4, 1), (8, 6, 2), (7, 4, 3), (6, 7, 4), (5, 7, 5)], 2, [1, 2, 4]),
        ([(9, 7, 1), (9, 7, 2), (8, 4, 3), (8, 4, 4), (7, 4, 5)], 2, [1, 2]),  # equals at the latest: both
        ([(9, 7, 1), (8, 4, 2), (8, 4, 3), (7, 4, 4)], 2, [1, 2, 3]),  # equals at the second planned: both
        ([(9, 4, 1), (8, 4, 2), (7, 4, 3)], 2, [1, 2]),  # never seen: every contact looked at, two kept
        ([(9, 0, 1), (8, 2, 2), (7, 3, 3), (6, 3, 4)], 1, [2, 3]),  # a text check-in, then the direct one
    ],
)
def test_the_contacts_chosen_answer_each_question_ties_included(
    candidates: list[tuple[int, int, int]], planned: int, wanted: list[int]
) -> None:
    assert list(_wanted(iter(candidates), planned)) == wanted


def test_corrected_contacts_are_read_whole_and_known_as_at_each_moment(ctx: Context, clock: FixedClock) -> None:
    """Someone whose contacts were corrected or entered in error: the batch finds, at every moment, what their full
    history finds (the summary reads all their contacts, and "as known at" is worked out in memory)."""
    made = factories.world(ctx)
    pid = made.patient.id
    recorded = []
    for outcome in ["attended", "dna", "attended", "dna", "no_access"]:
        clock.advance(timedelta(days=9))
        data = ContactIn(occurred_at=clock.now(), outcome=outcome, mode="home_visit", team_id=made.team.id)
        recorded.append(contacts.record_contact(ctx, pid, data).fact_id)
    moments = [clock.now()]
    clock.advance(timedelta(days=2))
    contacts.correct_outcome(ctx, recorded[-1], ContactOutcome.ATTENDED, reason="they were in after all")
    moments.append(clock.now())
    clock.advance(timedelta(days=40))
    writes.enter_in_error(ctx, Contact, recorded[-1], reason="wrong person")
    moments += [clock.now(), clock.now() + timedelta(days=30)]
    ctx.session.flush()
    found = []
    for at in moments:
        expected = rules.evaluate(load_history(ctx.session, pid).as_known_at(at))
        assert [e for p, e in batch(ctx.session, at) if p.patient_id == pid] == [expected], at
        found.append({f.rule_id for f in expected.findings})
    assert "SN02" in found[0], "two planned contacts missed"
    assert "SN02" not in found[1], "the correction clears disengagement, as known then"
