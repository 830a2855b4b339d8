"""Writing whole people straight into the record's tables, with the scenario loader's exact semantics.

The loader applies each event through the record services: the reference behaviour, but each event asks the
database what the person's record holds (open episodes, current key workers, active prescriptions ...), about
1,700 events a second. The bulk writer keeps that state in memory, one person at a time, and produces the very rows
the services would have added: the same values, the same new versions for amendments (an episode's end, a key
worker's end, a ward discharge, a stopped prescription, a CTO's end, an entry in error), the same audit events, and
the same identifiers drawn in the same order from the same ``IdSource``. It refuses what the services refuse, with
the loader's problems. tests/synth/test_bulk.py proves the equivalence table by table on the scenario library and
on generated stories.

Rows are encoded for the database with SQLAlchemy's own bind processors (the step that dominates Core's
``executemany``; for SQLite's moments and for flags, a quicker way to the very same values), so that ``safetynet
synth`` can do it in worker processes and leave the one writing connection nothing but the compiled
``insert(table)`` and the driver's ``executemany``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from functools import cache
from operator import attrgetter, itemgetter
from types import NoneType
from typing import Any, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import Boolean, Connection, Date, DateTime, Table, func, insert, select
from sqlalchemy.engine import Dialect

from safetynet.audit import chain as audit_chain
from safetynet.audit.models import AuditEvent
from safetynet.core.clock import SystemClock
from safetynet.core.context import Actor, Role
from safetynet.core.db import Base, UTCDateTime, sqlite_text
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.ids import IdSource
from safetynet.record.careplans.schemas import CarePlanReviewIn, GpHandoverLetterIn
from safetynet.record.carers.schemas import CarerIn, FamilyConcernIn, FamilyConcernResponseIn
from safetynet.record.contacts.models import ATTEND_OR_DNA_CODE
from safetynet.record.contacts.schemas import AppointmentIn, ContactIn
from safetynet.record.decisions.schemas import CapacityAssessmentIn, MdtDecisionIn
from safetynet.record.diagnoses.schemas import DiagnosisIn
from safetynet.record.episodes.schemas import EpisodeIn, KeyWorkerIn, ReferralIn
from safetynet.record.legal.schemas import AdmissionIn, CtoIn, CtoRecallIn, LegalStatusChangeIn
from safetynet.record.medication.schemas import AdherenceReportIn, DepotAdministrationIn, PrescriptionIn
from safetynet.record.notes.schemas import ClinicalNoteIn
from safetynet.record.org.models import Organisation, Pathway, Staff, Team
from safetynet.record.partners.schemas import PartnerInformationIn
from safetynet.record.patients.models import Patient
from safetynet.record.patients.schemas import PatientIn
from safetynet.record.registry import FACT_MODELS
from safetynet.record.requests.schemas import CrossTeamRequestIn, CrossTeamResponseIn
from safetynet.record.risk.schemas import RiskAssessmentIn, RiskEventIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader

Row = dict[str, Any]
# The order ``Rows.audit`` builds audit rows in (``Encoder`` checks that it is the table's).
AUDIT_COLUMNS = (
    "at",
    "actor_name",
    "actor_role",
    "actor_staff_id",
    "action",
    "entity",
    "entity_id",
    "patient_id",
    "purpose",
    "detail",
)
CHAIN_COLUMNS = ("seq", "prev_hash", "event_hash")

# Every table the writer fills, in an order that satisfies the foreign keys.
TABLES: dict[str, Table] = {
    name: Base.metadata.tables[name]
    for name in (
        Organisation.__tablename__,
        Team.__tablename__,
        Staff.__tablename__,
        Patient.__tablename__,
        *(model.__tablename__ for model in FACT_MODELS.values()),
        AuditEvent.__tablename__,
    )
}
FACT_TABLES = frozenset(model.__tablename__ for model in FACT_MODELS.values())
# Tables whose ``id`` is an integer the database counts (the rest are keyed by drawn identifiers).
SURROGATE_KEYED = FACT_TABLES | {AuditEvent.__tablename__}


def _defaults(table: Table) -> Row:
    """A row with every column at the value the ORM would give it when the service leaves it out."""
    row: Row = {}
    for column in table.columns:
        if column.name == "id":
            continue
        default = column.default
        if default is None:
            row[column.name] = None
        elif default.is_callable:
            row[column.name] = default.arg(None)  # type: ignore[attr-defined]
        else:
            row[column.name] = getattr(default, "arg", None)
    return row


_TEMPLATES = {name: _defaults(table) for name, table in TABLES.items() if name in FACT_TABLES}


# --- what the services' input schemas refuse -----------------------------------------------------------------

# The input schema the services validate each new fact with: their length and pattern limits apply here too.
SCHEMAS: dict[str, type[BaseModel]] = {
    "patient_details": PatientIn,
    "referrals": ReferralIn,
    "episodes": EpisodeIn,
    "key_worker_allocations": KeyWorkerIn,
    "contacts": ContactIn,
    "appointments": AppointmentIn,
    "admissions": AdmissionIn,
    "legal_status_changes": LegalStatusChangeIn,
    "community_treatment_orders": CtoIn,
    "cto_recalls": CtoRecallIn,
    "diagnoses": DiagnosisIn,
    "risk_events": RiskEventIn,
    "risk_assessments": RiskAssessmentIn,
    "prescriptions": PrescriptionIn,
    "depot_administrations": DepotAdministrationIn,
    "adherence_reports": AdherenceReportIn,
    "carers": CarerIn,
    "family_concerns": FamilyConcernIn,
    "family_concern_responses": FamilyConcernResponseIn,
    "partner_information": PartnerInformationIn,
    "cross_team_requests": CrossTeamRequestIn,
    "cross_team_responses": CrossTeamResponseIn,
    "mdt_decisions": MdtDecisionIn,
    "capacity_assessments": CapacityAssessmentIn,
    "care_plan_reviews": CarePlanReviewIn,
    "gp_handover_letters": GpHandoverLetterIn,
    "clinical_notes": ClinicalNoteIn,
}

Limit = tuple[str, int, int | None, re.Pattern[str] | None]  # field, least length, most length, pattern


def _limits(schema: type[BaseModel]) -> list[Limit]:
    """A schema's length and pattern limits, read from the schema itself."""
    found = []
    for name, info in schema.model_fields.items():
        rules = {
            k: getattr(r, k) for r in info.metadata for k in ("min_length", "max_length", "pattern") if hasattr(r, k)
        }
        if any(value is not None for value in rules.values()):
            pattern = rules.get("pattern")
            found.append((name, rules.get("min_length") or 0, rules.get("max_length"), pattern and re.compile(pattern)))
    return found


def _fits(row: Row, limits: list[Limit]) -> bool:
    for name, low, high, pattern in limits:
        value = row.get(name)
        if isinstance(value, str) and (
            len(value) < low or (high is not None and len(value) > high) or (pattern and not pattern.search(value))
        ):
            return False
    return True


LIMITS = {table: _limits(schema) for table, schema in SCHEMAS.items()}
# The schemas' own validators, as cheap tests.
VALIDATORS: dict[str, Callable[[Row], bool]] = {
    "prescriptions": lambda row: row["route"] != "depot" or row["interval_days"] is not None,
    "gp_handover_letters": lambda row: len(set(row["sections"])) == len(row["sections"]),
}


def _check_input(table: str, row: Row) -> None:
    """Refuse what the service's input schema refuses. The cheap tests decide; when one fails, the schema itself
    is asked, so that the problems are word for word the loader's."""
    validator = VALIDATORS.get(table)
    if _fits(row, LIMITS[table]) and (validator is None or validator(row)):
        return
    schema = SCHEMAS[table]
    try:
        schema.model_validate({name: row[name] for name in schema.model_fields if name in row})
    except ValidationError as exc:
        raise ValidationFailed(Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()) from None


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field, message)])


_AS_IS = frozenset({str, int, bool, type(None), datetime, date})


def _plain(value: Any) -> Any:
    """Enum members as their values, as the services' schemas dump them (``use_enum_values``)."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- teams and staff ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Directory:
    """The trust's organisation, teams and staff, read from the database once and kept by name.

    Like the loader's directory, it makes a team or staff member a scenario names the first time it is mentioned.
    A *frozen* directory (a synthetic trust, whose plan names everyone) refuses unknown names instead, so that
    people can be written in any process and in any order of chunks with the same result.
    """

    organisation_id: str | None = None
    teams: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # lower-cased name -> (id, pathway, name)
    staff: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (id, role)
    frozen: bool = False

    @classmethod
    def read(cls, connection: Connection, *, frozen: bool = False) -> Directory:
        organisation = connection.scalars(select(Organisation.id).order_by(Organisation.created_at).limit(1)).first()
        teams = {
            name.strip().lower(): (id_, pathway, name)
            for id_, name, pathway in connection.execute(select(Team.id, Team.name, Team.pathway))
        }
        staff: dict[str, tuple[str, str]] = {}
        for id_, name, role in connection.execute(select(Staff.id, Staff.name, Staff.role).order_by(Staff.created_at)):
            staff.setdefault(name, (id_, role))  # the loader finds the first made of a name
        return cls(organisation, teams, staff, frozen)

    def team(self, p: _Person, name: str, pathway: str | None = None) -> tuple[str, str, str]:
        key = name.strip().lower()
        found = self.teams.get(key)
        if found is None:
            if self.frozen:
                raise _refuse("team", f"no team called {name!r} in this trust")
            if self.organisation_id is None:
                self.organisation_id = p.ids.new_id()
                org = loader.DEFAULT_ORGANISATION
                p.out.add(
                    "organisations",
                    {"id": self.organisation_id, "ods_code": org.ods_code, "name": org.name, "created_at": p.now},
                )
            chosen = pathway or p.pathways.get(key) or str(loader._guess_pathway(name))
            found = self.teams[key] = (p.ids.new_id(), chosen, name.strip())
            row = {"id": found[0], "organisation_id": self.organisation_id, "name": name.strip(), "pathway": chosen}
            p.out.add("teams", row | {"active": True, "created_at": p.now})
        return found

    def member(self, p: _Person, name: str, team: str | None) -> tuple[str, str]:
        key = name.strip()
        found = self.staff.get(key)
        if found is None:
            if self.frozen:
                raise _refuse("staff", f"no staff member called {name!r} in this trust")
            team_id = self.team(p, team)[0] if team else None
            found = self.staff[key] = (p.ids.new_id(), str(Role.KEY_WORKER))
            row = {"id": found[0], "name": key, "role": found[1], "team_id": team_id, "active": True}
            p.out.add("staff", row | {"created_at": p.now})
        return found


# --- rows, encoded for the database -------------------------------------------------------------------------------


_PLAIN, _MOMENT, _FLAG = 0, 1, 2


def _fast_moments(type_: Any, dialect: Dialect, processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite's encoding of an aware moment, several times cheaper than SQLAlchemy's (to UTC, then its storage
    format, which is ISO 8601 with a space and microseconds), where it gives the very same text; otherwise
    SQLAlchemy's own processor. Synth encodes millions of moments."""
    if dialect.name != "sqlite" or not isinstance(type_, UTCDateTime):
        return processor

    def fast(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None:
            return sqlite_text(value)
        return processor(value)  # None, a naive moment (refused) or anything else: as SQLAlchemy does it

    london = ZoneInfo("Europe/London")
    samples = [
        datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=london),  # the clocks going forward and back
        datetime(2024, 3, 31, 3, 0, tzinfo=london),
        datetime(2024, 10, 27, 0, 30, tzinfo=london),
        datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=london),
        datetime(2024, 10, 27, 2, 0, 0, 1, tzinfo=london),
        datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 10, 31, 9, 0, tzinfo=timezone(timedelta(hours=-5))),
    ]
    return fast if all(fast(v) == processor(v) for v in samples) else processor


class Encoder:
    """Turns rows into the parameters the driver receives, with SQLAlchemy's bind processors for the dialect."""

    def __init__(self, dialect: Dialect) -> None:
        # Compile with a positional parameter style, so rows travel as tuples.
        positional = dialect if dialect.positional else type(dialect)(paramstyle="format")  # type: ignore[call-arg]
        self.sql: dict[str, str] = {}
        self.columns: dict[str, Callable[[Row], tuple[Any, ...]]] = {}
        # (position, processor, kind): each column's way of encoding, _PLAIN, _MOMENT or _FLAG (see ``encode``).
        self.processors: dict[str, list[tuple[int, Callable[[Any], Any], int]]] = {}
        self.flags: dict[Callable[[Any], Any], tuple[Any, Any]] = {}  # a flag processor's encoding of False, True
        self.fact_positions: dict[str, tuple[int, int]] = {}
        moments: dict[str, set[type]] = {}  # how each kind of moment is encoded: must be one way per kind
        for name, table in TABLES.items():
            keys = [c.name for c in table.columns if not (c.name == "id" and name in SURROGATE_KEYED)]
            compiled = insert(table).compile(dialect=positional, column_keys=keys, for_executemany=True)
            order = list(compiled.positiontup or ())
            self.sql[name] = compiled.string
            self.columns[name] = itemgetter(*order)
            if name in FACT_TABLES:
                self.fact_positions[name] = order.index("fact_id"), order.index("occurred_at")
            self.processors[name] = []
            for position, key in enumerate(order):
                type_ = table.c[key].type
                found = type_.dialect_impl(dialect).bind_processor(dialect)
                if found is None:
                    continue
                processor: Callable[[Any], Any] = found
                impl = getattr(type_, "impl", type_)
                kind = _PLAIN
                if isinstance(impl, Date | DateTime):
                    # A moment appears in several rows (the fact's, its audit event's): it is encoded once.
                    kind = _MOMENT
                    moments.setdefault(type(impl).__name__, set()).add(type(type_))
                    processor = _fast_moments(type_, dialect, processor)
                elif isinstance(impl, Boolean):
                    # Two values: encoded once, here (a row has several flags; millions of rows).
                    kind = _FLAG
                    self.flags[processor] = processor(False), processor(True)
                self.processors[name].append((position, processor, kind))
        assert all(len(ways) == 1 for ways in moments.values()), "one encoding per kind of moment"
        audit = AuditEvent.__tablename__
        built = (*AUDIT_COLUMNS, *CHAIN_COLUMNS)  # the hash chain's three are added as the rows are inserted
        assert AUDIT_COLUMNS == audit_chain.CONTENT, "audit rows are built in the chain's order"
        assert self.columns[audit]({c: c for c in built}) == built, "audit rows are built in this order"
        assert self.processors[audit][0][0] == 0, "an audit row's first column is its time"
        self.audit_at = self.processors[audit][0][1]

    def encode(self, table: str, row: Row, memo: dict[Any, Any]) -> tuple[Any, ...]:
        """One row as the driver's parameters; ``memo`` keeps the moments already encoded."""
        values = list(self.columns[table](row))
        for position, processor, kind in self.processors[table]:
            value = values[position]
            if kind == _MOMENT and value is not None:
                done = memo.get(value)
                if done is None:
                    done = memo[value] = processor(value)
                values[position] = done
            elif kind == _FLAG and (value is True or value is False):
                values[position] = self.flags[processor][value]
            else:
                values[position] = processor(value)
        return tuple(values)

    def moment(self, value: datetime, memo: dict[Any, Any]) -> Any:
        """An audit event's time, encoded (usually the same moment as the fact it records)."""
        done = memo.get(value)
        if done is None:
            done = memo[value] = self.audit_at(value)
        return done

    def insert(self, connection: Connection, encoded: Mapping[str, list[tuple[Any, ...]]]) -> None:
        """Insert encoded rows, tables in foreign key order, each table in the order its rows were made."""
        for name in TABLES:
            rows = encoded.get(name)
            if rows:
                if name == AuditEvent.__tablename__:
                    rows = audit_chain.chain_rows(connection, rows)
                connection.exec_driver_sql(self.sql[name], rows)


class Rows:
    """Rows per table, encoded for the database, in the order the services would have added them."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.tables: dict[str, list[tuple[Any, ...]]] = {}
        self.memo: dict[Any, Any] = {}

    def add(self, table: str, row: Row) -> None:
        self.tables.setdefault(table, []).append(self.encoder.encode(table, row, self.memo))

    def audit(self, at: datetime, acting: tuple[str, str, str | None, str], *what: str | None) -> None:
        """An audit event: when, who (name, role, staff id, purpose), and action, entity, id, patient, detail."""
        name, role, staff_id, purpose = acting
        action, entity, entity_id, patient_id, detail = what
        row = (self.encoder.moment(at, self.memo), name, role, staff_id, action, entity, entity_id, patient_id)
        self.tables.setdefault(AuditEvent.__tablename__, []).append((*row, purpose, detail))

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def for_insert(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows in the order to insert them: each fact table's by ``fact_id``, moment by moment.

        Inserting into a (fact_id, version) unique index in key order costs far less than in random order. Rows
        that share an ``occurred_at`` stay together and in the order they were made, so every question the record
        asks in ``occurred_at, id`` order (the chart, oldest unanswered concern, caseloads) gets the loader's
        answer; only the surrogate ids themselves differ.
        """
        out = {}
        for name, rows in self.tables.items():
            if name not in self.encoder.fact_positions:
                out[name] = rows
                continue
            fact, when = self.encoder.fact_positions[name]
            first: dict[Any, Any] = {}
            for row in rows:
                first.setdefault(row[when], row[fact])
            out[name] = sorted(rows, key=lambda row: (first[row[when]], row[when]))
        return out


# --- one person ----------------------------------------------------------------------------------------------------


class _Person:
    """One person's record while their events are applied: every fact's latest version, by table."""

    def __init__(self, directory: Directory, out: Rows, ids: IdSource, actor: Actor, scenario: fmt.Scenario) -> None:
        self.directory = directory
        self.out = out
        self.ids = ids
        self.actor, self.acting = actor, _audit_fields(actor)
        self.now: datetime = datetime.min
        self.pathways = {
            e.team.strip().lower(): str(e.pathway) for e in scenario.events if isinstance(e, fmt.EpisodeStart)
        }
        self.facts: dict[str, dict[str, Row]] = {}
        self.fact_ids: dict[int, str] = {}
        self.patient_id = ""

    # the three writes (record.writes) and the audit

    def add(self, table: str, occurred_at: datetime, fields: Row) -> Row:
        row = {
            **_TEMPLATES[table],
            **fields,
            "fact_id": self.ids.new_id(),
            "version": 1,
            "patient_id": self.patient_id,
            "occurred_at": occurred_at,
            "recorded_at": self.now,
            "recorded_by_id": self.actor.staff_id,
            "entered_in_error": False,
            "amendment_reason": None,
        }
        _check_input(table, row)
        self.facts.setdefault(table, {})[row["fact_id"]] = row
        self.out.add(table, row)
        self.audit("create", table, row["fact_id"], None)
        return row

    def amend(self, table: str, current: Row, reason: str, *, entered_in_error: bool = False, **changes: Any) -> Row:
        if not reason.strip():
            raise _refuse("reason", "a reason is required to amend a clinical fact")
        if self.now < current["recorded_at"]:
            raise _refuse("recorded_at", "an amendment cannot be recorded before the fact it amends")
        row = {
            **current,
            **changes,
            "version": current["version"] + 1,
            "recorded_at": self.now,
            "recorded_by_id": self.actor.staff_id,
            "entered_in_error": entered_in_error,
            "amendment_reason": reason.strip(),
        }
        self.facts[table][row["fact_id"]] = row
        self.out.add(table, row)
        self.audit("enter_in_error" if entered_in_error else "amend", table, row["fact_id"], reason.strip())
        return row

    def audit(self, action: str, entity: str, entity_id: str, detail: str | None) -> None:
        self.out.audit(self.now, self.acting, action, entity, entity_id, self.patient_id, detail)

    def act_as(self, actor: Actor) -> None:
        self.actor, self.acting = actor, _audit_fields(actor)

    # what the services ask the record, answered from memory (latest versions, in the order they were made)

    def current(self, table: str, **where: Any) -> list[Row]:
        """Latest versions not entered in error, matching ``where``, by occurred_at (ties in the order made)."""
        rows = [
            r
            for r in self.facts.get(table, {}).values()
            if not r["entered_in_error"] and all(r[k] == v for k, v in where.items())
        ]
        return sorted(rows, key=_occurred)

    def open_episode(self, team: str) -> Row:
        team_id = self.directory.team(self, team)[0]
        found = self.current("episodes", team_id=team_id, status="active")
        if not found:
            raise _refuse("team", f"no open episode with {team}")
        return found[0]

    def prescription(self, drug: str) -> Row | None:
        wanted = drug.strip().lower()
        return next((p for p in self.current("prescriptions", stopped_at=None) if p["drug"].lower() == wanted), None)

    def unanswered(self, table: str, answers: str, key: str) -> Row | None:
        answered = {r[key] for r in self.current(answers)}
        return next((r for r in self.current(table) if r["fact_id"] not in answered), None)

    def team_id(self, event: fmt._Event) -> str | None:
        return self.directory.team(self, event.team)[0] if event.team else None


@cache
def _audit_fields(actor: Actor) -> tuple[str, str, str | None, str]:
    return actor.name, str(actor.role), actor.staff_id, actor.purpose


@cache
def _staff_actor(name: str, role: str, staff_id: str, purpose: str) -> Actor:
    return Actor(name=name, role=Role(role), staff_id=staff_id, purpose=purpose)


def _occurred(row: Row) -> datetime:
    when: datetime = row["occurred_at"]
    return when


# --- the event types -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind:
    """How one event type becomes a fact: its table, which event fields fill which columns, and what else is asked.

    ``fields`` maps column -> event attribute ("col" alone when they share a name). With ``common`` the fact also
    takes the event's time, team and note, as the loader's ``_common`` gives them. ``hook`` checks the record and
    returns more columns (or refuses); ``apply`` replaces the whole thing for events that amend an existing fact.
    """

    table: str = ""
    fields: tuple[tuple[str, str, Callable[[Any], Any] | None], ...] = ()  # column, attribute, how to convert
    common: bool = True
    hook: Callable[[_Person, Any], Row] | None = None
    apply: Callable[[_Person, Any], str] | None = None


def kind(
    table: str = "",
    fields: str = "",
    *,
    common: bool = True,
    hook: Callable[[_Person, Any], Row] | None = None,
    apply: Callable[[_Person, Any], str] | None = None,
) -> Kind:
    pairs = tuple((f.split("=")[0], f.split("=")[-1], None) for f in fields.split())
    return Kind(table, pairs, common, hook, apply)


def _fact(p: _Person, e: Any, spec: Kind) -> str:
    if spec.apply is not None:
        return spec.apply(p, e)
    row: Row = {"team_id": p.team_id(e), "note": e.note} if spec.common else {}
    row.update({c: convert(getattr(e, a)) if convert else getattr(e, a) for c, a, convert in spec.fields})
    if spec.hook is not None:
        row.update(spec.hook(p, e))
    return str(p.add(spec.table, e.at, row)["fact_id"])


def _episode_start(p: _Person, e: fmt.EpisodeStart) -> Row:
    team_id, pathway, name = p.directory.team(p, e.team, str(e.pathway))
    if p.current("episodes", team_id=team_id, status="active"):
        raise _refuse("team", f"an episode with {name} is already open")
    return {"pathway": pathway, "status": "active"}


def _episode_end(p: _Person, e: fmt.EpisodeEnd) -> str:
    episode = p.open_episode(e.team)
    if e.at < episode["occurred_at"]:
        raise _refuse("ended_at", "an episode cannot end before it started")
    if e.override_rationale is not None and len(e.override_rationale) > 5000:
        raise _refuse("override_rationale", "should have at most 5000 characters")
    for allocation in p.current("key_worker_allocations", episode_fact_id=episode["fact_id"], ended_at=None):
        p.amend("key_worker_allocations", allocation, "episode ended", ended_at=e.at)
    ended = p.amend(
        "episodes",
        episode,
        f"discharged: {_plain(e.reason)}",
        status="finished",
        ended_at=e.at,
        discharge_reason=_plain(e.reason),
        discharge_destination=_plain(e.destination),
        override_by_role=None,
        override_rationale=e.override_rationale,
    )
    return str(ended["fact_id"])


def _keyworker(p: _Person, e: fmt.KeyworkerAssigned) -> Row:
    episode = p.open_episode(e.team)
    staff_id = p.directory.member(p, e.staff, e.team)[0]
    for allocation in p.current("key_worker_allocations", episode_fact_id=episode["fact_id"], ended_at=None):
        p.amend("key_worker_allocations", allocation, "key worker changed", ended_at=e.at)
    return {"team_id": episode["team_id"], "episode_fact_id": episode["fact_id"], "staff_id": staff_id}


def _keyworker_ended(p: _Person, e: fmt.KeyworkerEnded) -> str:
    staff_id = p.directory.member(p, e.staff, e.team)[0]
    team_id = p.directory.team(p, e.team)[0]
    mine = [
        r
        for r in p.facts.get("key_worker_allocations", {}).values()
        if r["staff_id"] == staff_id and r["team_id"] == team_id
    ]
    current = [r for r in mine if r["ended_at"] is None]
    if current:
        return str(p.amend("key_worker_allocations", current[0], "key worker ended", ended_at=e.at)["fact_id"])
    # Ending the episode already ended its allocation; saying so again changes nothing.
    already = [r for r in mine if r["ended_at"] <= e.at]
    if already:
        return str(already[-1]["fact_id"])
    raise _refuse("staff", f"{e.staff} is not the key worker with {e.team}")


def _contact(p: _Person, e: fmt.ContactEvent) -> Row:
    row: Row = {"attend_or_dna_code": ATTEND_OR_DNA_CODE[e.outcome]}
    if not e.team:
        open_now = p.current("episodes", status="active")
        row["team_id"] = open_now[-1]["team_id"] if open_now else None
    row["staff_id"] = p.directory.member(p, e.by, e.team)[0] if e.by else None
    return row


def _appointment(p: _Person, e: fmt.AppointmentBooked) -> Row:
    if e.for_ < e.at:
        raise _refuse("due_at", "an appointment cannot be booked for before it was booked")
    return {}


def _admission(p: _Person, e: fmt.AdmissionEvent) -> Row:
    ward_id, pathway, _ = p.directory.team(p, e.ward, Pathway.INPATIENT)
    problems = []
    if pathway != Pathway.INPATIENT:
        problems.append(Problem("ward", "not an inpatient ward"))
    if p.current("admissions", discharged_at=None):
        problems.append(Problem("admission", "this person is already an inpatient"))
    if problems:
        raise ValidationFailed(problems)
    return {"ward_id": ward_id, "team_id": ward_id, "note": e.note}


def _legal_status_change(p: _Person, e: fmt.LegalStatusChangeEvent) -> Row:
    admission = p.current("admissions", discharged_at=None)
    return {"admission_fact_id": admission[0]["fact_id"] if admission else None}


def _inpatient_discharge(p: _Person, e: fmt.InpatientDischarge) -> str:
    admission = p.current("admissions", discharged_at=None)
    if not admission:
        raise _refuse("admission", "this person is not an inpatient")
    if e.at < admission[0]["occurred_at"]:
        raise _refuse("discharged_at", "a discharge cannot come before its admission")
    discharged = p.amend(
        "admissions",
        admission[0],
        "discharged from ward",
        discharged_at=e.at,
        crisis_team_accepted=e.crisis_team_accepted,
        carer_informed=e.carer_informed,
    )
    return str(discharged["fact_id"])


def _cto(p: _Person) -> Row | None:
    return next(iter(p.current("community_treatment_orders", ended_at=None)), None)


def _cto_start(p: _Person, e: fmt.CtoStart) -> Row:
    if _cto(p) is not None:
        raise _refuse("cto", "a CTO is already in force")
    return {}


def _cto_recall(p: _Person, e: fmt.CtoRecallEvent) -> Row:
    cto = _cto(p)
    if cto is None:
        raise _refuse("cto", "no CTO is in force to recall under")
    return {"cto_fact_id": cto["fact_id"]}


def _cto_end(p: _Person, e: fmt.CtoEnd) -> str:
    cto = _cto(p)
    if cto is None:
        raise _refuse("cto", "no CTO is in force")
    return str(p.amend("community_treatment_orders", cto, "CTO ended", ended_at=e.at, end_reason=e.reason)["fact_id"])


def _risk_event_in_error(p: _Person, e: fmt.RiskEventEnteredInError) -> str:
    event = p.facts["risk_events"][p.fact_ids[e.ref]]
    if event["entered_in_error"]:
        raise _refuse("fact_id", "this fact is already marked entered in error")
    return str(p.amend("risk_events", event, e.reason, entered_in_error=True)["fact_id"])


def _risk_assessment(p: _Person, e: fmt.RiskAssessmentEvent) -> Row:
    if e.next_review is not None and e.next_review < e.at.date():
        raise _refuse("next_review", "the next review cannot be before the assessment")
    return {}


def _prescribe(p: _Person, e: fmt.MedicationStart) -> Row:
    if p.prescription(e.drug) is not None:
        raise _refuse("drug", f"{e.drug} is already prescribed")
    return {}


def _depot(p: _Person, e: fmt.DepotGiven | fmt.DepotRefused) -> Row:
    prescription = p.prescription(e.drug)
    if prescription is None or prescription["route"] != "depot":
        raise _refuse("drug", f"no active depot prescription of {e.drug}")
    outcome = "given" if e.type == "depot_given" else "refused"
    staff_id = p.directory.member(p, e.by, e.team)[0] if e.by else None
    return {"prescription_fact_id": prescription["fact_id"], "outcome": outcome, "staff_id": staff_id}


def _medication_stop(p: _Person, e: fmt.MedicationStop) -> str:
    prescription = p.prescription(e.drug)
    if prescription is None:
        raise _refuse("drug", f"{e.drug} is not currently prescribed")
    return str(p.amend("prescriptions", prescription, "stopped", stopped_at=e.at, stop_reason=e.reason)["fact_id"])


def _concern(p: _Person, e: fmt.FamilyConcernEvent) -> Row:
    wanted = e.from_.strip().lower()
    carer = next((c for c in p.current("carers") if c["name"].lower() == wanted), None)
    return {"carer_fact_id": carer["fact_id"] if carer else None}


def _answer(table: str, answers: str, key: str, what: str) -> Callable[[_Person, Any], Row]:
    """A response to the referenced event, or to the oldest one still unanswered."""

    def extra(p: _Person, e: Any) -> Row:
        if e.ref is not None:
            asked = p.facts[table][p.fact_ids[e.ref]]
        else:
            found = p.unanswered(table, answers, key)
            if found is None:
                raise _refuse("ref", f"there is no unanswered {what} to respond to")
            asked = found
        return {key: asked["fact_id"]} | ({"team_id": asked["to_team_id"]} if table == "cross_team_requests" else {})

    return extra


def _request(p: _Person, e: fmt.CrossTeamRequestEvent) -> Row:
    from_id = p.directory.team(p, e.from_team)[0]
    to_id = p.directory.team(p, e.to_team)[0]
    if from_id == to_id:
        raise _refuse("to_team_id", "a team cannot send a request to itself")
    return {"team_id": from_id, "to_team_id": to_id, "note": e.note}


def _note(p: _Person, e: fmt.NoteEvent) -> Row:
    return {"note": e.text if not e.note else f"{e.text}\n\n{e.note}"}


KINDS: dict[str, Kind] = {
    "referral_accepted": kind("referrals", hook=lambda p, e: {"status": "accepted"}),
    "episode_start": kind("episodes", hook=_episode_start),
    "episode_end": kind(apply=_episode_end),
    "keyworker_assigned": kind("key_worker_allocations", hook=_keyworker),
    "keyworker_ended": kind(apply=_keyworker_ended),
    "contact": kind("contacts", "outcome mode planned", hook=_contact),
    "appointment_booked": kind("appointments", "due_at=for_ mode", hook=_appointment),
    "admission": kind("admissions", "legal_status", common=False, hook=_admission),
    "legal_status_change": kind("legal_status_changes", "legal_status=code", hook=_legal_status_change),
    "inpatient_discharge": kind(apply=_inpatient_discharge),
    "cto_start": kind("community_treatment_orders", "expires_at=expires conditions", hook=_cto_start),
    "cto_recall": kind("cto_recalls", "reason", hook=_cto_recall),
    "cto_end": kind(apply=_cto_end),
    "diagnosis": kind("diagnoses", "code system display"),
    "risk_event": kind("risk_events", "category harm source description"),
    "risk_event_entered_in_error": kind(apply=_risk_event_in_error),
    "risk_assessment": kind(
        "risk_assessments", "factors rationale formulation safety_plan next_review", hook=_risk_assessment
    ),
    "medication_start": kind("prescriptions", "drug route dose interval_days", hook=_prescribe),
    "depot_given": kind("depot_administrations", "drug", hook=_depot),
    "depot_refused": kind("depot_administrations", "drug", hook=_depot),
    "medication_stop": kind(apply=_medication_stop),
    "adherence_report": kind("adherence_reports", "status source detail"),
    "carer_registered": kind("carers", "name relationship consent_to_share"),
    "family_concern": kind("family_concerns", "raised_by=from_ channel text", hook=_concern),
    "family_concern_response": kind(
        "family_concern_responses",
        "text",
        hook=_answer("family_concerns", "family_concern_responses", "concern_fact_id", "family concern"),
    ),
    "partner_info": kind("partner_information", "agency kind violence weapon detail"),
    "cross_team_request": kind("cross_team_requests", "ask detail", common=False, hook=_request),
    "cross_team_response": kind(
        "cross_team_responses",
        "answer rationale",
        hook=_answer("cross_team_requests", "cross_team_responses", "request_fact_id", "cross-team request"),
    ),
    "mdt_decision": kind("mdt_decisions", "topic decision rationale"),
    "capacity_assessment": kind("capacity_assessments", "decision_about outcome"),
    "care_plan_review": kind("care_plan_reviews", "crisis_plan shared_with_carer"),
    "gp_letter_sent": kind("gp_handover_letters", "sections"),
    "note": kind("clinical_notes", hook=_note),
}
assert {k.table for k in KINDS.values() if k.table} < set(SCHEMAS), "each table written needs its service's schema"
EVENTS = {model.model_fields["type"].annotation.__args__[0]: model for model in fmt._Event.__subclasses__()}  # type: ignore[union-attr]


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """How a scenario field's value becomes the service's: enum members as their values, as its schemas dump them."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return attrgetter("_value_")
    if set(get_args(annotation) or (annotation,)) <= {str, int, bool, date, datetime, NoneType}:
        return None
    return _plain


for name, spec in KINDS.items():
    fields = EVENTS[name].model_fields
    KINDS[name] = replace(spec, fields=tuple((c, a, _converter(fields[a].annotation)) for c, a, _ in spec.fields))


# --- a whole person ------------------------------------------------------------------------------------------------


def person_rows(
    scenario: fmt.Scenario,
    *,
    directory: Directory,
    ids: IdSource,
    out: Rows,
    actor: Actor = loader.LOADER,
) -> loader.Loaded:
    """Add to ``out`` the rows ``loader.load`` would write for this scenario; the same ``Loaded`` back.

    Raises ValidationFailed with the loader's problem for the first event the record refuses.
    """
    order = sorted(range(len(scenario.events)), key=lambda i: (scenario.events[i].recorded_at, i))
    p = _Person(directory, out, ids, actor, scenario)
    p.now = scenario.events[order[0]].recorded_at if order else SystemClock().now()
    spec = scenario.patient
    p.patient_id = ids.new_id()
    out.add("patients", {"id": p.patient_id, "nhs_number": spec.nhs_number, "recorded_at": p.now})
    details = {"name": spec.name, "born": spec.born, "sex": _plain(spec.sex), "gp_practice": spec.gp_practice}
    p.add("patient_details", p.now, details | {"team_id": None, "note": None})
    for index in order:
        event = scenario.events[index]
        p.now = event.recorded_at
        try:
            if event.by:
                staff_id, role = directory.member(p, event.by, event.team)
                p.act_as(_staff_actor(event.by.strip(), role, staff_id, actor.purpose))
            else:
                p.act_as(actor)
            p.fact_ids[index] = _fact(p, event, KINDS[event.type])
        except ValidationFailed as exc:
            raise ValidationFailed(Problem(f"events.{q.field}", q.message, index) for q in exc.problems) from None
    return loader.Loaded(patient_id=p.patient_id, fact_ids=p.fact_ids)


# --- the writer ------------------------------------------------------------------------------------------------------


class BulkWriter:
    """Writes scenarios (whole people) in the caller's transaction, without a query per event.

    Rows gather in memory and go to the database every ``batch_rows`` rows and on ``flush``.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        actor: Actor = loader.LOADER,
        directory: Directory | None = None,
        batch_rows: int = 100_000,
    ) -> None:
        refuse_people(connection)
        self.connection = connection
        self.actor = actor
        self.directory = directory or Directory.read(connection)
        self.encoder = Encoder(connection.dialect)
        self.batch_rows = batch_rows
        self.rows = Rows(self.encoder)
        self.nhs_numbers: set[str] = set()
        self.facts = 0

    def write(self, scenario: fmt.Scenario, *, ids: IdSource) -> loader.Loaded:
        """Write one person, as ``loader.load(session, scenario, ids=ids, actor=...)`` would."""
        self.register(scenario.patient.nhs_number)
        pending = Rows(self.encoder)  # a person the record refuses leaves nothing behind
        loaded = person_rows(scenario, directory=self.directory, ids=ids, out=pending, actor=self.actor)
        for name, rows in pending.tables.items():
            self.rows.tables.setdefault(name, []).extend(rows)
        self.facts += len(loaded.fact_ids)
        if self.rows.count() >= self.batch_rows:
            self.flush()
        return loaded

    def register(self, nhs_number: str) -> None:
        if nhs_number in self.nhs_numbers:
            raise ValidationFailed([Problem("nhs_number", f"{nhs_number} is already registered")])
        self.nhs_numbers.add(nhs_number)

    def insert(self, encoded: Mapping[str, list[tuple[Any, ...]]]) -> None:
        self.encoder.insert(self.connection, encoded)

    def flush(self) -> None:
        if self.rows.tables:
            self.insert(self.rows.for_insert())
            self.rows = Rows(self.encoder)


def refuse_people(connection: Connection) -> None:
    """The bulk writer checks nothing against people already recorded, so it only writes into a record without any."""
    if connection.scalar(select(func.count()).select_from(Patient)):
        raise ValidationFailed(
            [Problem("database", "bulk loading needs a database without people: it already holds some")]
        )


# --- building indexes once, at the end ------------------------------------------------------------------------------


@contextmanager
def deferred_indexes(connection: Connection) -> Iterator[None]:
    """Drop the secondary indexes of the tables the writer fills, and build each again, once, when they are full.

    Keeping an index up to date row by row costs more than building it once from the full table: on SQLite at
    100,000 people, several times more for random keys (fact ids, moments) and still about twice as much for keys
    that arrive in runs (people, teams, staff), measured. It is all inside the caller's transaction: if anything
    fails, the rollback brings the indexes back with everything else. Constraint indexes (primary keys, uniques)
    stay, so the database still refuses a duplicate.
    """
    names = sorted(TABLES)
    dialect = connection.dialect.name
    marks = ", ".join(f"'{n}'" for n in names)
    if dialect == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is None or not raw.in_transaction:
            raise RuntimeError("deferred_indexes needs an open transaction (write something first)")
        found = connection.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"
        ).all()
    elif dialect == "postgresql":
        found = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            f"AND tablename IN ({marks}) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).all()
    else:
        found = []
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in found:
        connection.exec_driver_sql(sql)
