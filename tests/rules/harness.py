"""A tiny harness for rule table tests: a person's story as scenario-style event dicts, asked about at a moment.

    story = tell(session, [{"at": "2024-03-01", "type": "family_concern", ...}])
    finding = assert_fires(session, "SN01", story, "2024-03-01T10:00", key=0, due="2024-03-04T23:59:59")
    assert_silent(session, "SN01", story, "2024-03-01T08:59")

Events go through ``safetynet.scenarios.format.parse`` (strictly, with a minimal fictional patient) and
``safetynet.scenarios.loader.load`` (the record's own services), so facts carry the same ids, versions and
recorded times as a scenario file's. Moments are written as in scenario events: a date alone is 09:00 London, a time
without a zone is London time, and a time with a zone is that instant. ``events`` may be a list of event dicts or a
``Story`` already told (to ask about several moments without loading twice). A ``key`` given as an int is the index
of the event whose fact the finding is about.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from safetynet.core.context import Role
from safetynet.rules import registry
from safetynet.rules.facts import History, PersonFacts, load_history
from safetynet.rules.model import DischargeAttempt, Finding, GateDecision, Parameters, RuleKind
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader

PATIENT = {"name": "Sam Example", "born": "1992-03-14", "sex": "male"}


def _nhs_numbers() -> Iterator[str]:
    """Fictional NHS numbers (999 range) with a valid modulus 11 check digit, each once per test run."""
    for serial in itertools.count(1):
        stem = f"999{serial:06d}"
        check = 11 - sum(int(d) * w for d, w in zip(stem, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            yield stem + str(check % 11)


_NHS_NUMBERS = _nhs_numbers()
_MOMENT: TypeAdapter[datetime] = TypeAdapter(fmt.Moment)


def moment(value: str | datetime) -> datetime:
    """A moment as scenario events write it: "2024-03-01" is 09:00 London; a naive time is London time."""
    return _MOMENT.validate_python(value)


@dataclass(frozen=True)
class Story:
    """One person's events, loaded: their history (every version) and the fact each event became."""

    history: History
    fact_ids: dict[int, str]

    def id(self, index: int) -> str:
        """The fact id of event ``index``."""
        return self.fact_ids[index]

    def facts(self, at: str | datetime) -> PersonFacts:
        return self.history.as_known_at(moment(at))


Events = Sequence[Any] | Story  # event dicts, as in a scenario file


def tell(session: Session, events: Events) -> Story:
    """Load the events (in a scenario with a minimal patient) and read the person's history back."""
    if isinstance(events, Story):
        return events
    patient = {**PATIENT, "nhs_number": next(_NHS_NUMBERS)}
    scenario = fmt.parse({"id": "rule-table", "title": "rule table", "patient": patient, "events": list(events)})
    loaded = loader.load(session, scenario)
    session.flush()
    return Story(load_history(session, loaded.patient_id), dict(loaded.fact_ids))


def findings(
    session: Session, rule_id: str, events: Events, at: str | datetime, *, params: Parameters | None = None
) -> list[Finding]:
    """What watch rule ``rule_id`` finds at ``at`` (its defaults unless ``params``)."""
    rule = registry.get(rule_id)
    assert rule.kind is RuleKind.WATCH, f"{rule_id} is not a watch rule"
    assert rule.watch is not None
    story = tell(session, events)
    found = list(rule.watch(story.facts(at), params or rule.defaults()))
    assert all(f.rule_id == rule.id for f in found)
    return found


def assert_fires(
    session: Session,
    rule_id: str,
    events: Events,
    at: str | datetime,
    *,
    key: str | int | None = None,
    since: str | datetime | None = None,
    due: str | datetime | None = None,
    params: Parameters | None = None,
) -> Finding:
    """The one finding of ``rule_id`` at ``at`` (the one with ``key`` if given), with ``since`` and ``due`` exact."""
    story = tell(session, events)
    found = findings(session, rule_id, story, at, params=params)
    if key is not None:
        wanted = story.id(key) if isinstance(key, int) else key
        found = [f for f in found if f.key == wanted]
        assert found, f"{rule_id} has no finding keyed {wanted} at {at}"
    assert len(found) == 1, f"{rule_id} at {at}: expected one finding, got {found}"
    finding = found[0]
    if since is not None:
        assert finding.since == moment(since), f"since {finding.since.isoformat()} != {moment(since).isoformat()}"
    if due is not None:
        assert finding.due == moment(due), f"due {finding.due.isoformat()} != {moment(due).isoformat()}"
    assert finding.evidence, "a finding carries its evidence"
    assert finding.since <= moment(at), "a finding cannot open after the moment asked about"
    assert finding.due >= finding.since
    return finding


def assert_silent(
    session: Session, rule_id: str, events: Events, at: str | datetime, *, params: Parameters | None = None
) -> None:
    found = findings(session, rule_id, events, at, params=params)
    assert found == [], f"{rule_id} at {at}: expected nothing, got {found}"


def attempt(story: Story, at: str | datetime, **kwargs: Any) -> DischargeAttempt:
    """A discharge attempt: ``team`` / ``ward`` by name (as in a scenario check), ``override_by`` a role name."""
    teams = {info.name.lower(): team_id for team_id, info in story.history.directory.teams.items()}
    fields = dict(kwargs)
    if "team" in fields:
        fields["team_id"] = teams.get(str(fields.pop("team")).lower())
    if "ward" in fields:
        fields["ward_id"] = teams.get(str(fields.pop("ward")).lower())
    if isinstance(fields.get("override_by"), str):
        fields["override_by"] = Role(fields["override_by"])
    return DischargeAttempt(at=moment(at), **fields)


def gate(
    session: Session,
    rule_id: str,
    events: Events,
    attempt_kwargs: Mapping[str, Any],
    at: str | datetime,
    *,
    params: Parameters | None = None,
) -> GateDecision | None:
    """What gate rule ``rule_id`` decides about a discharge attempted at ``at`` (None: it has nothing to say)."""
    rule = registry.get(rule_id)
    assert rule.kind is RuleKind.GATE, f"{rule_id} is not a gate rule"
    assert rule.gate is not None
    story = tell(session, events)
    decision = rule.gate(story.facts(at), attempt(story, at, **attempt_kwargs), params or rule.defaults())
    assert decision is None or decision.rule_id == rule.id
    return decision


def assert_blocks(
    session: Session, rule_id: str, events: Events, attempt_kwargs: Mapping[str, Any], at: str | datetime
) -> GateDecision:
    decision = gate(session, rule_id, events, attempt_kwargs, at)
    assert decision is not None, f"{rule_id} at {at}: expected a block, got nothing"
    assert decision.blocks, f"{rule_id} at {at}: expected a block, got {decision}"
    assert decision.reason
    return decision


def assert_allows(
    session: Session, rule_id: str, events: Events, attempt_kwargs: Mapping[str, Any], at: str | datetime
) -> None:
    decision = gate(session, rule_id, events, attempt_kwargs, at)
    assert decision is None, f"{rule_id} at {at}: expected nothing to say, got {decision}"


def evidence_ids(finding: Finding | GateDecision) -> set[str]:
    return {e.fact_id for e in finding.evidence}


def evidence_text(finding: Finding | GateDecision) -> str:
    return " | ".join(e.text for e in finding.evidence)
