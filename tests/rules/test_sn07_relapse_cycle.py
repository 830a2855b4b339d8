"""SN07 relapse-cycle: 2 or more admissions within 24 months, each preceded within 90 days by a non-adherence
signal, and no MDT decision on both depot and CTO recorded since the latest admission."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.rules.harness import assert_fires, assert_silent, evidence_ids, evidence_text, moment, tell

RULE = "SN07"
WARD = "Willow Ward"


def stopped(at: str, **extra: object) -> dict[str, object]:
    return {"at": at, "type": "adherence_report", "status": "non_adherent", "source": "family", **extra}


def admitted(at: str, status: str = "03") -> dict[str, object]:
    return {"at": at, "type": "admission", "ward": WARD, "legal_status": status}


def discharged(at: str) -> dict[str, object]:
    return {"at": at, "type": "inpatient_discharge", "ward": WARD}


def decided(at: str, topic: str) -> dict[str, object]:
    return {"at": at, "type": "mdt_decision", "topic": topic, "decision": "Considered", "rationale": "Discussed"}


# [0] stopped, [1] admitted (s3), [2] discharged, [3] stopped, [4] admitted again (s2)
CYCLE = [
    stopped("2023-01-10"),
    admitted("2023-02-01"),
    discharged("2023-03-01"),
    stopped("2023-09-01"),
    admitted("2023-10-02T10:00", "02"),
]


def test_two_admissions_each_after_stopping_medication_open_it_when_the_second_is_recorded(session: Session) -> None:
    story = tell(session, CYCLE)
    assert_silent(session, RULE, story, "2023-10-02T09:59")
    assert_fires(session, RULE, story, "2023-10-02T10:01", key=4, since="2023-10-02T10:00", due="2023-10-16T10:00")


def test_one_admission_or_an_admission_without_a_signal_before_it_does_not_fire(session: Session) -> None:
    assert_silent(session, RULE, CYCLE[:3], "2023-12-01")
    assert_silent(session, RULE, [CYCLE[0], CYCLE[1], CYCLE[2], CYCLE[4]], "2023-12-01")
    adherent = stopped("2023-09-01") | {"status": "adherent"}
    assert_silent(session, RULE, [*CYCLE[:3], adherent, CYCLE[4]], "2023-12-01")


@pytest.mark.parametrize(
    "signal",
    [
        {"type": "adherence_report", "status": "partial", "source": "pharmacy"},
        {
            "type": "risk_event",
            "category": "non_adherence",
            "harm": "none",
            "source": "family",
            "description": "Throwing tablets away",
        },
    ],
    ids=["partial adherence", "non-adherence risk event"],
)
def test_partial_adherence_and_non_adherence_risk_events_are_signals(
    session: Session, signal: dict[str, object]
) -> None:
    events = [*CYCLE[:3], {"at": "2023-09-01", **signal}, CYCLE[4]]
    assert_fires(session, RULE, events, "2023-10-03", key=4)


def test_a_refused_depot_is_a_signal(session: Session) -> None:
    depot = [
        {
            "at": "2023-03-01T12:00",
            "type": "medication_start",
            "drug": "aripiprazole",
            "route": "depot",
            "interval_days": 28,
        },
        {"at": "2023-09-01", "type": "depot_refused", "drug": "aripiprazole"},
    ]
    assert_fires(session, RULE, [*CYCLE[:3], *depot, CYCLE[4]], "2023-10-03", key=5)


def test_a_signal_counts_up_to_90_days_before_the_admission_and_not_a_minute_more(session: Session) -> None:
    on_the_day = [*CYCLE[:3], stopped("2023-07-04T10:00"), CYCLE[4]]
    a_minute_early = [*CYCLE[:3], stopped("2023-07-04T09:59"), CYCLE[4]]
    assert_fires(session, RULE, on_the_day, "2023-10-03")
    assert_silent(session, RULE, a_minute_early, "2023-10-03")


def test_an_unanswered_cycle_does_not_lapse_until_24_months_after_the_latest_admission(session: Session) -> None:
    # Version 1 let the cycle lapse once the first admission was 24 months old, though nothing had been decided.
    story = tell(session, CYCLE)
    assert_fires(session, RULE, story, "2025-01-31T09:01")
    latest = max(e["at"] for e in CYCLE if e["type"] == "admission")
    assert isinstance(latest, str)
    assert_silent(session, RULE, story, f"{int(latest[:4]) + 2}{latest[4:10]}T23:59")


def test_decisions_on_both_depot_and_cto_close_it_and_one_alone_does_not(session: Session) -> None:
    story = tell(session, [*CYCLE, decided("2023-10-05", "depot"), decided("2023-10-06", "cto")])
    finding = assert_fires(session, RULE, story, "2023-10-05T09:01")
    assert "must decide on cto" in finding.summary
    assert_silent(session, RULE, story, "2023-10-06T09:01")


def test_decisions_before_the_latest_admission_do_not_count(session: Session) -> None:
    events = [*CYCLE[:4], decided("2023-09-05", "depot"), decided("2023-09-05", "cto"), CYCLE[4]]
    finding = assert_fires(session, RULE, events, "2023-10-03", key=6)
    assert "must decide on cto and depot" in finding.summary


def test_a_signal_recorded_late_opens_it_only_when_recorded_and_the_due_time_runs_from_then(session: Session) -> None:
    # The family's report that he had stopped in September reaches the team a week into the second admission.
    late = [*CYCLE[:3], stopped("2023-09-01", recorded="2023-10-09T15:00"), CYCLE[4]]
    story = tell(session, late)
    assert_silent(session, RULE, story, "2023-10-09T14:59")
    assert_fires(session, RULE, story, "2023-10-09T15:01", key=4, since="2023-10-09T15:00", due="2023-10-23T15:00")


def test_an_admission_recorded_late_is_invisible_before_it_was_recorded(session: Session) -> None:
    late = [*CYCLE[:4], CYCLE[4] | {"recorded": "2023-10-04T12:00"}]
    story = tell(session, late)
    assert_silent(session, RULE, story, "2023-10-04T11:59")
    assert_fires(session, RULE, story, "2023-10-04T12:01", since="2023-10-04T12:00")


def test_the_evidence_is_each_admission_and_the_signals_before_it(session: Session) -> None:
    story = tell(session, CYCLE)
    finding = assert_fires(session, RULE, story, "2023-10-03", key=4)
    assert evidence_ids(finding) == {story.id(0), story.id(1), story.id(3), story.id(4)}
    assert evidence_text(finding) == (
        "admission under legal status 03 | non-adherence before it | "
        "admission under legal status 02 | non-adherence before it"
    )
    assert finding.evidence[2].recorded_at == moment("2023-10-02T10:00")
    assert finding.summary.startswith("2 admissions in 2 years")
