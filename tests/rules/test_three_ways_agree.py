"""Incremental, batch and replay evaluation agree, for any stream of events (a property test).

- incremental: after each event is written, the tasks the safety net reconciled at that moment;
- batch: everyone's facts as known at that moment, evaluated afresh (one person's full history, and the trust
  batch, which reads only what the rules read);
- replay: day by day, as known at the end of each day;
and, as an independent check of "as known at", facts read with the SQL ``known_at`` query instead of the
in-memory history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, end_of_local_day
from safetynet.core.context import Context
from safetynet.core.facts import known_at
from safetynet.core.ids import SeededIds
from safetynet.record import writes
from safetynet.record.contacts import service as contacts
from safetynet.record.contacts.models import Contact, ContactOutcome
from safetynet.record.registry import FACT_MODELS
from safetynet.rules import engine
from safetynet.rules.facts import KINDS, Directory, Fact, PersonFacts, load_histories
from safetynet.rules.model import Finding
from safetynet.rules.replay import batch as batch_run
from safetynet.rules.replay import replay
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.tasks import service as tasks
from safetynet.tasks.runner import SAFETY_NET, reconcile

START = date(2024, 1, 8)
DAYS = 120
OUTCOMES = ["attended", "dna", "no_access", "cancelled_by_patient", "cancelled_by_provider", "late_not_seen"]
MODES = ["face_to_face", "home_visit", "phone", "video", "text"]
KINDS_OF_INFO = ["arrest", "charge", "warrant", "incident", "court_date", "no_contact", "prescription_not_collected"]
CATEGORIES = ["violence_to_others", "weapon", "threats", "self_harm", "non_adherence", "substance_misuse"]


CORRECTIONS = ["attended", "dna", "in_error", "earlier"]  # what a later correction does to the latest contact


@st.composite
def stories(draw: Any) -> list[dict[str, Any]]:
    """A valid, random story: the state machine only offers events the record will accept at that point."""
    events: list[dict[str, Any]] = [
        {
            "at": f"{START}T09:00",
            "type": "episode_start",
            "team": "EIP",
            "pathway": draw(st.sampled_from(["eip", "assertive_outreach"])),
        },
        {"at": f"{START}T09:05", "type": "keyworker_assigned", "team": "EIP", "staff": "Jo Smith"},
    ]
    days = sorted(draw(st.lists(st.integers(1, DAYS), min_size=3, max_size=18)))
    unanswered = 0
    requests = 0
    depot = inpatient = False
    for n, day in enumerate(days):
        at = datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=LONDON) + timedelta(
            hours=9, minutes=n
        )
        when = at.strftime("%Y-%m-%dT%H:%M")
        options = [
            "contact",
            "contact",
            "concern",
            "police",
            "risk",
            "assessment",
            "adherence",
            "decision",
            "request",
            "capacity",
            "review",
        ]
        options += ["answer"] if unanswered else []
        options += ["reply"] if requests else []
        options += ["depot_given", "depot_refused", "stop"] if depot else ["depot_start"]
        options += ["discharge"] if inpatient else ["admit"]
        kind = draw(st.sampled_from(options))
        event: dict[str, Any] = {"at": when}
        if kind == "contact":
            event |= {
                "type": "contact",
                "team": "EIP",
                "outcome": draw(st.sampled_from(OUTCOMES)),
                "mode": draw(st.sampled_from(MODES)),
                "planned": draw(st.booleans()),
            }
        elif kind == "concern":
            event |= {"type": "family_concern", "from": "Pat Example", "channel": "phone", "text": "Worried"}
            unanswered += 1
        elif kind == "answer":
            event |= {"type": "family_concern_response", "text": "Called back"}
            unanswered -= 1
        elif kind == "police":
            recorded = at + timedelta(days=draw(st.integers(0, 20)), hours=draw(st.integers(0, 12)))
            event |= {
                "type": "partner_info",
                "agency": "police",
                "kind": draw(st.sampled_from(KINDS_OF_INFO)),
                "violence": draw(st.booleans()),
                "detail": "Reported",
                "recorded": recorded.isoformat(),
            }
        elif kind == "risk":
            event |= {
                "type": "risk_event",
                "category": draw(st.sampled_from(CATEGORIES)),
                "harm": "minor",
                "source": "family",
                "description": "Reported",
            }
        elif kind == "assessment":
            factors = draw(
                st.dictionaries(st.sampled_from(CATEGORIES), st.sampled_from(["present", "absent", "not_assessed"]))
            )
            event |= {"type": "risk_assessment", "factors": factors, "safety_plan": draw(st.booleans())}
            if draw(st.booleans()):
                event["rationale"] = "History reviewed with the family"
        elif kind == "adherence":
            event |= {
                "type": "adherence_report",
                "status": draw(st.sampled_from(["adherent", "partial", "non_adherent"])),
                "source": "family",
            }
        elif kind == "decision":
            event |= {
                "type": "mdt_decision",
                "topic": draw(st.sampled_from(["depot", "cto", "legal_framework", "discharge"])),
                "decision": "Agreed",
                "rationale": "Discussed at MDT",
            }
        elif kind == "request":
            event |= {"type": "cross_team_request", "from_team": "EIP", "to_team": "CMHT North", "ask": "depot"}
            requests += 1
        elif kind == "reply":
            event |= {"type": "cross_team_response", "answer": "declined", "rationale": "Not indicated"}
            requests -= 1
        elif kind == "capacity":
            event |= {"type": "capacity_assessment", "decision_about": "medication", "outcome": "has_capacity"}
        elif kind == "review":
            event |= {"type": "care_plan_review", "crisis_plan": True, "shared_with_carer": False}
        elif kind == "depot_start":
            event |= {"type": "medication_start", "drug": "Aripiprazole LAI", "route": "depot", "interval_days": 28}
            depot = True
        elif kind in ("depot_given", "depot_refused"):
            event |= {"type": kind, "drug": "Aripiprazole LAI"}
        elif kind == "stop":
            event |= {"type": "medication_stop", "drug": "Aripiprazole LAI"}
            depot = False
        elif kind == "admit":
            event |= {
                "type": "admission",
                "ward": "Willow Ward",
                "legal_status": draw(st.sampled_from(["01", "02", "03"])),
            }
            inpatient = True
        elif kind == "discharge":
            event |= {"type": "inpatient_discharge", "ward": "Willow Ward"}
            inpatient = False
        events.append(event)
    return events


@st.composite
def corrected_stories(draw: Any) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """A story, and corrections of its contacts made through the record services as it is written: after the n-th
    event applied, the latest contact so far is corrected (its outcome), entered in error or moved three days
    earlier. Corrected contacts are read whole by the trust batch (it summarises only uncorrected ones)."""
    events = draw(stories())
    steps = draw(st.dictionaries(st.integers(0, len(events) - 1), st.sampled_from(CORRECTIONS), max_size=3))
    return events, steps


def _correct_latest_contact(ctx: Context, patient_id: str, how: str) -> None:
    current = contacts.contacts(ctx, patient_id)
    if not current:
        return
    latest = max(current, key=lambda c: (c.recorded_at, c.id))
    reason = "Recorded against the wrong appointment"
    if how == "in_error":
        writes.enter_in_error(ctx, Contact, latest.fact_id, reason=reason)
    elif how == "earlier":
        writes.amend(ctx, Contact, latest.fact_id, reason=reason, occurred_at=latest.occurred_at - timedelta(days=3))
    else:
        contacts.correct_outcome(ctx, latest.fact_id, ContactOutcome(how), reason=reason)


def _keys(findings: list[Any]) -> set[tuple[str, str]]:
    return {(f.rule_id, f.key) for f in findings}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.rule_id, f.key))


def _facts_via_sql(session: Session, patient_id: str, nhs: str, directory: Directory, at: datetime) -> PersonFacts:
    known: dict[str, list[Fact]] = {}
    for kind in KINDS:
        model = FACT_MODELS[kind]
        rows = session.scalars(known_at(model, at).where(model.patient_id == patient_id)).all()
        facts = []
        for row in rows:
            if row.entered_in_error:
                continue
            first = session.scalar(select(model.recorded_at).where(model.fact_id == row.fact_id, model.version == 1))
            fact = Fact(
                **{c.key: getattr(row, c.key) for c in model.__table__.columns}, table=kind, first_recorded_at=first
            )
            facts.append(fact)
        known[kind] = sorted(facts, key=lambda f: (f.occurred_at, f.recorded_at))
    return PersonFacts(patient_id, nhs, at, directory, known)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(story=corrected_stories())
def test_incremental_batch_replay_and_sql_agree(
    session: Session, story: tuple[list[dict[str, Any]], dict[int, str]]
) -> None:
    events, corrections = story
    scenario = fmt.parse(
        {
            "id": "property",
            "title": "random story",
            "events": events,
            "patient": {"nhs_number": "9990000018", "name": "Sam Example", "born": "1990-01-01"},
        }
    )
    session.begin_nested()
    try:
        loading = loader.Loading(session, scenario, ids=SeededIds("property"))
        ctx = Context(session, SAFETY_NET, loading.clock, SeededIds("property-tasks"))
        pid = loading.loaded.patient_id
        moments = []
        for step, index in enumerate(loading.order):
            loading.apply(index)
            if step in corrections:
                _correct_latest_contact(ctx, pid, corrections[step])
            session.flush()
            now = loading.clock.now()
            history = load_histories(session, [pid])[pid]
            reconcile(ctx, history, now)
            incremental = {(t.rule_id, t.finding_key) for t in tasks.live_tasks(ctx, pid)}
            full = _ordered(engine.evaluate(history.as_known_at(now)).findings)
            batch = _keys(full)
            assert incremental == batch, f"after event {index} at {now}"
            # the trust batch itself: a range of patient ids, only the kinds and columns the rules read, contacts
            # summarised: the very same findings, with the same dates, words and evidence
            trust = [_ordered(e.findings) for person, e in batch_run(session, now) if person.patient_id == pid]
            assert trust == [full], f"trust batch after event {index} at {now}"
            moments.append(now)
        history = load_histories(session, [pid])[pid]
        first, last = moments[0].astimezone(LONDON).date(), moments[-1].astimezone(LONDON).date() + timedelta(days=30)
        result = replay(history, first, last)
        for day, findings in result.days:
            at = end_of_local_day(day)
            assert _keys(findings) == _keys(engine.evaluate(history.as_known_at(at)).findings), f"replay {day}"
        for at in [*moments[:: max(1, len(moments) // 4)], end_of_local_day(last)]:
            via_sql = _facts_via_sql(session, pid, history.nhs_number, history.directory, at)
            assert _keys(engine.evaluate(via_sql).findings) == _keys(engine.evaluate(history.as_known_at(at)).findings)
    finally:
        session.rollback()
