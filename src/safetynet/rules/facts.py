"""A person's facts as known at a moment: what every rule reads.

The whole version history of a person (or of a whole trust, batched one query per table) is read once; the record
"as known at T" is then computed in memory for any T. Incremental, batch and replay evaluation all go through
``History.as_known_at``, so they agree by construction.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.record.contacts.models import DIRECT_MODES, ContactOutcome
from safetynet.record.episodes.models import EpisodeStatus
from safetynet.record.org.models import SMI_PATHWAYS, Pathway, Staff, Team
from safetynet.record.patients.models import Patient
from safetynet.record.registry import FACT_MODELS

KINDS = tuple(kind for kind in FACT_MODELS if kind != "details")


class Fact(SimpleNamespace):
    """One version of one fact, detached from the database: its columns as attributes, plus ``table`` (the kind
    of fact: ``contacts``, ``risk_events``... a column may itself be called ``kind``, as partner information's is)."""

    table: str
    fact_id: str
    version: int
    occurred_at: datetime
    recorded_at: datetime
    entered_in_error: bool
    team_id: str | None
    first_recorded_at: datetime  # when the service first learnt of this fact (its version 1)

    def label(self) -> str:
        """A short name for this fact: ``family_concerns #3f2a1b recorded 2021-02-24``."""
        return f"{self.table} #{self.fact_id[:6]} recorded {self.recorded_at.date().isoformat()}"


@dataclass(frozen=True, slots=True)
class TeamInfo:
    name: str
    pathway: str


@dataclass(frozen=True, slots=True)
class Directory:
    """Teams and staff by id: small, shared by every person in a trust."""

    teams: dict[str, TeamInfo]
    staff: dict[str, tuple[str, str, str | None]]  # id -> (name, role, team_id)

    @classmethod
    def load(cls, session: Session) -> Directory:
        teams = {t.id: TeamInfo(t.name, t.pathway) for t in session.scalars(select(Team))}
        staff = {s.id: (s.name, s.role, s.team_id) for s in session.scalars(select(Staff))}
        return cls(teams, staff)

    def team_name(self, team_id: str | None) -> str:
        return self.teams[team_id].name if team_id in self.teams else "no team"

    def pathway(self, team_id: str | None) -> str | None:
        return self.teams[team_id].pathway if team_id in self.teams else None


@dataclass
class History:
    """Every version of every fact about one person, ordered by when it was recorded."""

    patient_id: str
    nhs_number: str
    first_known: datetime
    directory: Directory
    versions: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    _recorded: dict[str, list[datetime]] = field(default_factory=dict)

    def seal(self) -> History:
        for kind, facts in self.versions.items():
            facts.sort(key=lambda f: (f.recorded_at, f.version))
            self._recorded[kind] = [f.recorded_at for f in facts]
            first: dict[str, datetime] = {}
            for fact in facts:
                fact.first_recorded_at = first.setdefault(fact.fact_id, fact.recorded_at)
        return self

    def moments(self) -> list[datetime]:
        """Every moment at which something became known: where a finding can open or close."""
        return sorted({f.recorded_at for facts in self.versions.values() for f in facts})

    def as_known_at(self, at: datetime) -> PersonFacts:
        known: dict[str, list[Fact]] = {}
        for kind in KINDS:
            facts = self.versions.get(kind, [])
            upto = bisect_right(self._recorded.get(kind, []), at)
            latest: dict[str, Fact] = {}
            for fact in facts[:upto]:
                latest[fact.fact_id] = fact
            known[kind] = sorted(
                (f for f in latest.values() if not f.entered_in_error), key=lambda f: (f.occurred_at, f.recorded_at)
            )
        return PersonFacts(self.patient_id, self.nhs_number, at, self.directory, known)


class PersonFacts:
    """What the service knew about one person at ``at``: current versions, entered-in-error facts left out."""

    def __init__(
        self, patient_id: str, nhs_number: str, at: datetime, directory: Directory, known: dict[str, list[Fact]]
    ) -> None:
        self.patient_id = patient_id
        self.nhs_number = nhs_number
        self.at = at
        self.directory = directory
        self._known = known

    def of(self, kind: str) -> list[Fact]:
        return self._known[kind]

    # --- questions several rules ask -------------------------------------------------------------------------

    def open_episodes(self) -> list[Fact]:
        return [e for e in self.of("episodes") if e.status == EpisodeStatus.ACTIVE and e.occurred_at <= self.at]

    def smi_episodes(self) -> list[Fact]:
        return [e for e in self.open_episodes() if e.pathway in SMI_PATHWAYS]

    def is_inpatient(self) -> bool:
        return any(a.discharged_at is None and a.occurred_at <= self.at for a in self.of("admissions"))

    def happened(self, kind: str) -> list[Fact]:
        """Facts of ``kind`` that had happened by ``at`` (booked appointments can lie in the future)."""
        return [f for f in self.of(kind) if f.occurred_at <= self.at]

    def attended_direct_contacts(self) -> list[Fact]:
        return [c for c in self.happened("contacts") if c.outcome == ContactOutcome.ATTENDED and c.mode in DIRECT_MODES]

    def last_attended_direct_contact(self) -> Fact | None:
        contacts = self.attended_direct_contacts()
        return contacts[-1] if contacts else None

    def risk_history(self) -> list[Fact]:
        return self.happened("risk_events")

    def pathway(self, team_id: str | None) -> str | None:
        return self.directory.pathway(team_id)

    def is_assertive_outreach(self, episode: Fact) -> bool:
        return bool(episode.pathway == Pathway.ASSERTIVE_OUTREACH)


def load_histories(session: Session, patient_ids: Sequence[str] | None = None) -> dict[str, History]:
    """Every version of every fact for these people (everyone if None): one query per table."""
    directory = Directory.load(session)
    stmt = select(Patient.id, Patient.nhs_number, Patient.recorded_at)
    if patient_ids is not None:
        stmt = stmt.where(Patient.id.in_(patient_ids))
    histories = {pid: History(pid, nhs, first, directory) for pid, nhs, first in session.execute(stmt)}
    for kind in KINDS:
        table = FACT_MODELS[kind].__table__
        query = select(table)
        if patient_ids is not None:
            query = query.where(table.c.patient_id.in_(patient_ids))
        result = session.execute(query)
        names = list(result.keys())
        where = names.index("patient_id")
        for values in result.all():  # fetchall: row-by-row fetching cost more than the rules themselves
            history = histories.get(values[where])
            if history is not None:
                fact = Fact(**dict(zip(names, values, strict=True)))
                fact.table = kind
                history.versions[kind].append(fact)
    return {pid: h.seal() for pid, h in histories.items()}


def load_history(session: Session, patient_id: str) -> History:
    return load_histories(session, [patient_id])[patient_id]


def latest(facts: Iterable[Fact]) -> Fact | None:
    """The fact that happened last (facts are kept in the order they happened)."""
    last = None
    for last in facts:  # noqa: B007
        pass
    return last
