"""Scenario files: strict parsing that reports every error, and loading through the record's services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.core.clock import parse_moment
from safetynet.core.context import Context
from safetynet.core.errors import ValidationFailed
from safetynet.record.chart import chart
from safetynet.record.patients.models import Patient
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from tests import personas
from tests.conftest import SCENARIOS

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))


def _minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "minimal",
        "title": "Minimal",
        "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1992-03-14"},
        "events": [
            {"at": "2021-01-18", "type": "episode_start", "team": "EIP", "pathway": "eip"},
            {"at": "2021-02-01T10:00", "type": "contact", "team": "EIP", "outcome": "dna", "mode": "home_visit"},
        ],
        "checks": [{"on": "2021-02-20"}],
    }
    data.update(changes)
    return data


def test_the_library_holds_at_least_eight_scenarios_each_described_in_one_line() -> None:
    assert len(LIBRARY) >= 8
    index = (SCENARIOS / "README.md").read_text()
    missing = [path.stem for path in LIBRARY if path.stem not in index]
    assert missing == []


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_every_library_scenario_parses_and_its_id_is_its_file_name(path: Path) -> None:
    scenario = fmt.load_file(path)
    assert scenario.id == path.stem
    assert scenario.events


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_every_library_scenario_loads_and_hides_what_was_recorded_after_each_check(
    session: Session, path: Path
) -> None:
    scenario = fmt.load_file(path)
    loaded = loader.load(session, scenario)
    assert len(loaded.fact_ids) == len(scenario.events)
    ctx = Context(session, personas.ALICE)
    for check in scenario.checks:
        known = chart(ctx, scenario.patient.nhs_number, check.on)
        for facts in known.sections.values():
            assert all(f.recorded_at <= check.on for f in facts)


def test_the_library_uses_every_event_type() -> None:
    used = {event.type for path in LIBRARY for event in fmt.load_file(path).events}
    assert set(fmt.EVENT_TYPES) - used == set()


def test_a_file_with_several_errors_lists_every_one_with_its_index_and_field_and_loads_nothing(
    session: Session,
) -> None:
    path = SCENARIOS / "invalid" / "several-errors.yaml"
    with pytest.raises(ValidationFailed) as caught:
        loader.load(session, fmt.load_file(path))
    problems = caught.value.problems
    assert len(problems) >= 5
    assert sum(1 for p in problems if p.index is not None) >= 4
    assert all(p.field and p.message for p in problems)
    assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_an_unknown_event_type_and_an_unknown_key_are_both_reported() -> None:
    data = _minimal()
    data["events"].append({"at": "2021-03-01", "type": "teleport", "team": "EIP"})
    data["events"][1]["colour"] = "blue"
    with pytest.raises(ValidationFailed) as caught:
        fmt.parse(data)
    assert {(p.index, p.message) for p in caught.value.problems} == {
        (2, "unknown event type 'teleport'"),
        (1, "unknown key"),
    }


def test_a_ref_to_the_wrong_kind_of_event_is_reported_even_alongside_other_errors() -> None:
    data = _minimal()
    data["events"].append({"at": "2021-03-01", "type": "family_concern_response", "ref": 1, "text": "Called back"})
    data["events"].append({"at": "2021-03-02", "type": "contact", "outcome": "maybe", "mode": "phone"})
    with pytest.raises(ValidationFailed) as caught:
        fmt.parse(data)
    messages = {(p.index, p.field) for p in caught.value.problems}
    assert (2, "events.ref") in messages
    assert (3, "events.outcome") in messages


def test_the_key_on_is_read_as_a_key_not_as_yaml_1_1_true() -> None:
    text = (
        "id: x\ntitle: t\npatient: {nhs_number: '9990000018', name: A, born: 1990-01-01}\n"
        "events: []\nchecks:\n  - on: 2021-02-20\n"
    )
    scenario = fmt.parse(fmt.read_yaml(text))
    assert scenario.checks[0].on == parse_moment("2021-02-20")


def test_a_date_means_nine_in_the_morning_london_time_and_recorded_defaults_to_at() -> None:
    scenario = fmt.parse(_minimal())
    episode = scenario.events[0]
    assert episode.at.isoformat() == "2021-01-18T09:00:00+00:00"
    assert episode.recorded_at == episode.at
    summer = fmt.parse(_minimal(events=[{"at": "2021-07-01", "type": "note", "text": "BST"}])).events[0]
    assert summer.at.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


def test_an_event_the_record_refuses_names_its_index(session: Session) -> None:
    data = _minimal()
    data["events"].append({"at": "2021-03-01", "type": "depot_given", "drug": "Haloperidol decanoate"})
    with pytest.raises(ValidationFailed) as caught:
        loader.load(session, fmt.parse(data))
    (problem,) = caught.value.problems
    assert problem.index == 2
    assert "no active depot prescription" in problem.message


def test_teams_and_staff_a_scenario_names_are_created_as_needed(session: Session) -> None:
    data = _minimal()
    data["events"].append({"at": "2021-01-19", "type": "keyworker_assigned", "team": "EIP", "staff": "Jo Smith"})
    loaded = loader.load(session, fmt.parse(data))
    assert len(loaded.fact_ids) == 3


def test_an_impossible_date_is_an_error_with_its_index_not_a_crash() -> None:
    text = (
        "id: x\ntitle: t\npatient: {nhs_number: '9990000018', name: A, born: 1990-02-30}\n"
        "events:\n  - {at: 2021-02-30, type: note, text: hi}\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        fmt.parse(fmt.read_yaml(text))
    assert {(p.index, p.field) for p in caught.value.problems} == {(None, "patient.born"), (0, "events.at")}


def test_an_event_the_records_own_input_rules_refuse_is_a_problem_with_its_index_not_a_crash(session: Session) -> None:
    data = _minimal()
    data["events"].append(
        {"at": "2021-03-01", "type": "medication_start", "drug": "Haloperidol decanoate", "route": "depot"}
    )
    data["events"].append({"at": "2021-03-02", "type": "diagnosis", "code": "f20.0", "system": "icd10"})
    with pytest.raises(ValidationFailed) as caught:
        loader.load(session, fmt.parse(data))
    (problem,) = caught.value.problems
    assert problem.index == 2
    assert "interval_days" in problem.message


def test_an_event_recorded_before_it_happened_is_refused() -> None:
    data = _minimal()
    data["events"][1]["recorded"] = "2021-01-30"
    with pytest.raises(ValidationFailed) as caught:
        fmt.parse(data)
    assert [(p.index, "recorded is before at" in p.message) for p in caught.value.problems] == [(1, True)]
