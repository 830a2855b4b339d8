"""The bulk writer writes exactly what the scenario loader writes, refuses what it refuses, and builds the synthetic
trust deterministically."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.orm import Session

from safetynet import migrations
from safetynet.core.clock import LONDON
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.errors import ValidationFailed
from safetynet.core.ids import SeededIds
from safetynet.record.chart import stats
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import bulk, model, trust
from tests import personas
from tests.conftest import SCENARIOS, Databases

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))

Dump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def fresh(databases: Databases) -> Iterator[Any]:
    """Makes empty, migrated databases (engines), disposed of afterwards."""
    made: list[Engine] = []

    def make() -> Engine:
        url = databases.new_url()
        migrations.upgrade(url)
        made.append(make_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def dump(engine: Engine) -> Dump:
    """Every table's rows without the ids the database counts, in the order the record reads them: facts by
    ``occurred_at, id`` (so ties must come out in the same order), audit events by id, the rest sorted."""
    out: Dump = {}
    with engine.connect() as connection:
        for table in migrations.metadata().sorted_tables:
            counted = table.name in bulk.SURROGATE_KEYED
            stmt = select(*[c for c in table.columns if not (counted and c.name == "id")])
            if "occurred_at" in table.c:
                stmt = stmt.order_by(table.c.occurred_at, table.c.id)
            elif counted:
                stmt = stmt.order_by(table.c.id)
            rows = [tuple(row) for row in connection.execute(stmt)]
            out[table.name] = rows if counted else sorted(rows, key=repr)
    return out


def indexes(engine: Engine) -> dict[str, list[str]]:
    """Every table's indexes, as text (a partial index's condition is an object that only compares as text)."""
    found = inspect(engine)
    return {
        name: sorted(
            f"{index['name']} {index['column_names']} {index['unique']} "
            + " ".join(f"{k}={v}" for k, v in index.get("dialect_options", {}).items())
            for index in found.get_indexes(name)
        )
        for name in found.get_table_names()
    }


def assert_same(loaded: Dump, bulked: Dump) -> None:
    assert loaded.keys() == bulked.keys()
    for name in loaded:
        assert bulked[name] == loaded[name], f"{name} differs"


def db_stats(engine: Engine) -> dict[str, dict[str, int]]:
    with Session(engine) as session:
        return stats(Context(session, personas.ALICE))


def via_loader(engine: Engine, scenario: fmt.Scenario, seed: str) -> loader.Loaded:
    with unit_of_work(engine) as session:
        return loader.load(session, scenario, ids=SeededIds(seed))


def via_bulk(engine: Engine, scenario: fmt.Scenario, seed: str) -> loader.Loaded:
    with engine.begin() as connection:
        writer = bulk.BulkWriter(connection)
        loaded = writer.write(scenario, ids=SeededIds(seed))
        writer.flush()
    return loaded


# --- the same rows -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_every_library_scenario_bulk_loads_to_exactly_the_rows_the_loader_writes(fresh: Any, path: Path) -> None:
    scenario = fmt.load_file(path)
    one, other = fresh(), fresh()
    assert via_bulk(other, scenario, scenario.id) == via_loader(one, scenario, scenario.id)
    loaded, bulked = dump(one), dump(other)
    assert loaded["audit_events"], "the comparison compares something"
    assert_same(loaded, bulked)


def test_fifty_synthetic_people_come_out_the_same_through_the_loader_and_in_bulk(fresh: Any) -> None:
    one, other = fresh(), fresh()
    via_loader_result = trust.build(one, patients=50, seed=11, method="loader")
    assert trust.build(other, patients=50, seed=11, workers=0) == via_loader_result
    assert via_loader_result.facts > 2000
    assert_same(dump(one), dump(other))
    assert indexes(other) == indexes(one), "the indexes dropped for the load are all back, as the migrations made them"


def test_worker_processes_build_the_same_trust_as_one_process(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    one, other = fresh(), fresh()
    monkeypatch.setattr(trust, "CHUNK", 7)
    trust.build(one, patients=30, seed=5, workers=0)
    trust.build(other, patients=30, seed=5, workers=2)
    assert_same(dump(one), dump(other))


# --- the same refusals -----------------------------------------------------------------------------------------------

BASE = [
    {"at": "2024-01-08", "type": "referral_accepted", "team": "EIP"},
    {"at": "2024-01-10", "type": "episode_start", "team": "EIP", "pathway": "eip"},
    {"at": "2024-01-10", "type": "keyworker_assigned", "team": "EIP", "staff": "Jo Smith"},
    {"at": "2024-01-11", "type": "risk_event", "category": "threats", "harm": "none", "source": "family",
     "description": "Shouted at a neighbour"},
]  # fmt: skip
RISK_EVENT = 3

REFUSED = {
    "key worker without an open episode": [{"type": "keyworker_assigned", "team": "CMHT", "staff": "Al Jones"}],
    "second episode with a team": [{"type": "episode_start", "team": "eip", "pathway": "eip"}],
    "episode ending before it started": [
        {"at": "2024-01-09", "recorded": "2024-02-01", "type": "episode_end", "team": "EIP", "reason": "recovered",
         "destination": "gp"}
    ],
    "ending someone else's key working": [{"type": "keyworker_ended", "team": "EIP", "staff": "Al Jones"}],
    "depot without a prescription": [{"type": "depot_given", "drug": "paliperidone"}],
    "depot prescription without an interval": [{"type": "medication_start", "drug": "paliperidone", "route": "depot"}],
    "second prescription of a drug": [
        {"type": "medication_start", "drug": "Olanzapine", "route": "oral"},
        {"type": "medication_start", "drug": "olanzapine ", "route": "oral"},
    ],
    "stopping what is not prescribed": [{"type": "medication_stop", "drug": "lithium"}],
    "diagnosis code the record does not accept": [{"type": "diagnosis", "code": "f20", "system": "icd10"}],
    "admission to a community team": [{"type": "admission", "ward": "EIP", "legal_status": "03"}],
    "admission of an inpatient": [
        {"type": "admission", "ward": "Ward A", "legal_status": "02"},
        {"type": "admission", "ward": "Ward A", "legal_status": "03"},
    ],
    "ward discharge of someone at home": [{"type": "inpatient_discharge", "ward": "Ward A"}],
    "second CTO": [{"type": "cto_start"}, {"type": "cto_start"}],
    "recall without a CTO": [{"type": "cto_recall"}],
    "CTO end without a CTO": [{"type": "cto_end"}],
    "mistake marked twice": [
        {"type": "risk_event_entered_in_error", "ref": RISK_EVENT, "reason": "wrong person"},
        {"type": "risk_event_entered_in_error", "ref": RISK_EVENT, "reason": "wrong person again"},
    ],
    "mistake without a reason": [{"type": "risk_event_entered_in_error", "ref": RISK_EVENT, "reason": "  "}],
    "answer with no concern waiting": [{"type": "family_concern_response", "text": "Called back"}],
    "answer with no request waiting": [{"type": "cross_team_response", "answer": "accepted", "rationale": "Agreed"}],
    "request to the asking team": [{"type": "cross_team_request", "from_team": "EIP", "to_team": "eip", "ask": "cto"}],
    "appointment before its booking": [{"type": "appointment_booked", "for": "2024-01-01", "mode": "phone"}],
    "review due before the assessment": [
        {"type": "risk_assessment", "factors": {}, "safety_plan": True, "next_review": "2023-12-01"}
    ],
    "GP letter listing a section twice": [{"type": "gp_letter_sent", "sections": ["what_to_do", "what_to_do"]}],
    "empty note": [{"type": "note", "text": ""}],
    "note longer than the record keeps": [{"type": "contact", "outcome": "dna", "mode": "phone", "note": "x" * 20_001}],
}  # fmt: skip


@pytest.fixture(scope="module")
def refusing(databases: Databases) -> Iterator[Engine]:
    """One empty database: every refused load leaves it empty again."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_the_bulk_writer_refuses_what_the_loader_refuses_with_the_same_problems(refusing: Engine, case: str) -> None:
    events = BASE + [{"at": "2024-02-01", **event} for event in REFUSED[case]]
    patient = {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"}
    scenario = fmt.parse({"id": "refused", "title": case, "patient": patient, "events": events})
    with pytest.raises(ValidationFailed) as by_loader:
        via_loader(refusing, scenario, "refused")
    with pytest.raises(ValidationFailed) as in_bulk:
        via_bulk(refusing, scenario, "refused")
    assert in_bulk.value.problems == by_loader.value.problems
    assert all(p.index == len(events) - 1 for p in in_bulk.value.problems), "the last event is the refused one"
    assert db_stats(refusing)["audit_events"]["rows"] == 0


# --- the synthetic trust --------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_trust_twice(fresh: Any) -> None:
    one, other = fresh(), fresh()
    assert trust.build(one, patients=40, seed=3) == trust.build(other, patients=40, seed=3)
    assert db_stats(one) == db_stats(other)
    assert_same(dump(one), dump(other))


def test_a_different_seed_gives_a_different_trust(fresh: Any) -> None:
    one, other = fresh(), fresh()
    trust.build(one, patients=40, seed=3)
    trust.build(other, patients=40, seed=4)
    first, second = dump(one), dump(other)
    assert first["patients"] != second["patients"]
    assert first["contacts"] != second["contacts"]


def test_bulk_refuses_a_database_that_already_holds_people_and_changes_nothing(fresh: Any) -> None:
    engine = fresh()
    trust.build(engine, patients=10, seed=1)
    before = dump(engine)
    with pytest.raises(ValidationFailed, match="already"):
        trust.build(engine, patients=10, seed=2)
    with pytest.raises(ValidationFailed, match="already"), engine.begin() as connection:
        bulk.BulkWriter(connection)
    assert_same(before, dump(engine))


def test_a_person_the_record_refuses_leaves_the_database_as_it_was(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = fresh()
    schema = indexes(engine)
    real = model.generate_story_range

    def one_bad_story(*args: Any, **kwargs: Any) -> Iterator[model.PersonStory]:
        for story in real(*args, **kwargs):
            yield story
            bad = {"at": story.events[0]["at"], "type": "depot_given", "drug": "nothing prescribed"}
            yield model.PersonStory(patient=story.patient | {"nhs_number": "9990000018"}, events=[bad])

    monkeypatch.setattr(model, "generate_story_range", one_bad_story)
    with pytest.raises(ValidationFailed, match="no active depot prescription"):
        trust.build(engine, patients=20, seed=1, workers=0)
    assert all(counts["rows"] == 0 for counts in db_stats(engine).values()), "not even the teams"
    assert indexes(engine) == schema
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() != 0  # the map synth turned off is back


# --- the encoding ---------------------------------------------------------------------------------------------------


def test_the_encoder_gives_every_moment_exactly_as_sqlalchemy_would() -> None:
    """The bulk encoder's quick way with moments on SQLite must give SQLAlchemy's text, every minute of the year and
    either side of the clocks changing (the same moment in another zone as well)."""
    dialect = create_engine("sqlite://").dialect
    encoder = bulk.Encoder(dialect)
    column = bulk.TABLES["contacts"].c.occurred_at
    reference = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert reference is not None
    occurred_at = encoder.fact_positions["contacts"][1]
    [(_, quick, _)] = [p for p in encoder.processors["contacts"] if p[0] == occurred_at]
    assert quick is not reference, "the quick way is used"
    moment = datetime(2024, 1, 1, tzinfo=LONDON)
    while moment.year == 2024:
        for value in (moment, moment + timedelta(microseconds=7), moment.astimezone(UTC)):
            assert quick(value) == reference(value)
        moment += timedelta(minutes=47)
    assert quick(None) is None
    with pytest.raises(ValueError, match="naive"):
        quick(datetime(2024, 1, 1))
