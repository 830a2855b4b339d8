"""A person's facts as known at a moment: what every rule reads.

The whole version history of a person (or of a whole trust, batched one query per table) is read once; the record
"as known at T" is then computed in memory for any T. Incremental, batch and replay evaluation all go through
``History.as_known_at``, so they agree by construction.
"""

from __future__ import annotations

import ast
import gc
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import attrgetter, itemgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Boolean, Column, ColumnElement, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from safetynet.core.db import UTCDateTime, sqlite_text
from safetynet.record.contacts.models import DIRECT_MODES, ContactOutcome
from safetynet.record.episodes.models import EpisodeStatus
from safetynet.record.org.models import SMI_PATHWAYS, Pathway, Team
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


class SummarisedKind(LookupError):
    """A rule asked for every fact of a kind the batch read only as far as the questions about it need."""


@dataclass(frozen=True, slots=True)
class Summary:
    """How a batch read its histories: ``kinds`` only as far as PersonFacts's questions about them need, as known at
    ``at`` (so the histories answer for that moment only); of contacts, the last ``planned`` planned ones."""

    at: datetime
    kinds: frozenset[str]
    planned: int


@dataclass(frozen=True, slots=True)
class TeamInfo:
    name: str
    pathway: str


@dataclass(frozen=True, slots=True)
class Directory:
    """Teams by id (their names and pathways, which the rules read): small, shared by every person in a trust.
    Staff are not kept: no rule reads them, and a trust has thousands (reading them cost every history ~5 ms)."""

    teams: dict[str, TeamInfo]

    @classmethod
    def load(cls, session: Session) -> Directory:
        team = Team.__table__.c
        return cls({i: TeamInfo(n, p) for i, n, p in session.execute(select(team.id, team.name, team.pathway))})

    def team_name(self, team_id: str | None) -> str:
        return self.teams[team_id].name if team_id in self.teams else "no team"

    def pathway(self, team_id: str | None) -> str | None:
        return self.teams[team_id].pathway if team_id in self.teams else None


_RECORDED = attrgetter("recorded_at")
_VERSION = attrgetter("version")
_FACT_ID = attrgetter("fact_id")
_IN_ERROR = attrgetter("entered_in_error")
_OCCURRED_ORDER = attrgetter("occurred_at", "recorded_at")
_OCCURRED = attrgetter("occurred_at")
_ACTIVE = EpisodeStatus.ACTIVE  # an enum member is slower to look up than a global, and these are asked per fact
_ATTENDED = ContactOutcome.ATTENDED


@dataclass
class History:
    """Every version of every fact about one person, ordered by when it was recorded."""

    patient_id: str
    nhs_number: str
    first_known: datetime
    directory: Directory
    versions: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    _recorded: dict[str, list[datetime]] = field(default_factory=dict)
    _current: dict[str, list[Fact]] = field(default_factory=dict)  # as known once everything is known, by kind
    _plain: set[str] = field(default_factory=set)  # kinds with one version of each fact, none entered in error
    # Kinds read only as far as the questions about them need (``Summary``), and the one moment that holds for.
    summary: Summary | None = None

    def seal(self) -> History:
        """Order each kind's versions by when they were recorded (then by version), and note when each fact was
        first recorded. The readers set ``first_recorded_at`` to ``recorded_at`` as they build a fact, which is
        right for every fact never corrected: only kinds with corrections are gone through here."""
        self._plain.clear()
        for kind, facts in self.versions.items():
            facts.sort(key=_VERSION)  # two stable sorts: by recorded_at, then version
            facts.sort(key=_RECORDED)
            self._recorded[kind] = list(map(_RECORDED, facts))
            if len(set(map(_FACT_ID, facts))) < len(facts):  # some fact was corrected: versions share an id
                first: dict[str, datetime] = {}
                for fact in facts:
                    fact.first_recorded_at = first.setdefault(fact.fact_id, fact.recorded_at)
            elif not any(map(_IN_ERROR, facts)):  # one version of each fact, as read, none entered in error
                self._plain.add(kind)
        self._current.clear()
        return self

    def moments(self) -> list[datetime]:
        """Every moment at which something became known: where a finding can open or close."""
        return sorted({f.recorded_at for facts in self.versions.values() for f in facts})

    def as_known_at(self, at: datetime) -> PersonFacts:
        if self.summary is not None and at != self.summary.at:
            raise ValueError(f"this history was read for {self.summary.at.isoformat()} only, not {at.isoformat()}")
        known: dict[str, list[Fact]] = {}
        for kind in KINDS:
            facts = self.versions.get(kind)
            if not facts:
                known[kind] = []
                continue
            recorded = self._recorded[kind]
            upto = len(facts) if recorded[-1] <= at else bisect_right(recorded, at)
            if upto < len(facts):
                known[kind] = self._known(kind, facts[:upto])
                continue
            current = self._current.get(kind)  # everything recorded by ``at``: the usual case, worked out once
            if current is None:
                current = self._current[kind] = self._known(kind, facts)
            known[kind] = list(current)
        return PersonFacts(self.patient_id, self.nhs_number, at, self.directory, known, summary=self.summary)

    def _known(self, kind: str, versions: list[Fact]) -> list[Fact]:
        """The latest of these versions of each fact, entered-in-error ones left out, in the order they happened."""
        if kind in self._plain:  # each is its own latest version (a prefix of the versions keeps their order)
            # already in recorded order, so a stable sort on when they happened alone orders ties by recorded_at
            return sorted(versions, key=_OCCURRED)
        latest: dict[str, Fact] = {}
        for fact in versions:
            latest[fact.fact_id] = fact
        return sorted((f for f in latest.values() if not f.entered_in_error), key=_OCCURRED_ORDER)


class PersonFacts:
    """What the service knew about one person at ``at``: current versions, entered-in-error facts left out."""

    def __init__(
        self,
        patient_id: str,
        nhs_number: str,
        at: datetime,
        directory: Directory,
        known: dict[str, list[Fact]],
        *,
        summary: Summary | None = None,
    ) -> None:
        self.patient_id = patient_id
        self.nhs_number = nhs_number
        self.at = at
        self.directory = directory
        self._known = known
        self._summary = summary  # kinds known only as far as the questions about them need (the batch's contacts)
        self._asked: dict[str, list[Fact]] = {}  # answers several rules share, worked out once (callers get copies)
        self._happened: dict[str, int] = {}  # by kind: how many of its facts had happened by ``at``

    def of(self, kind: str) -> list[Fact]:
        self._whole(kind)
        return self._known[kind]

    # --- questions several rules ask -------------------------------------------------------------------------

    def open_episodes(self) -> list[Fact]:
        found = self._asked.get("open_episodes")
        if found is None:
            found = self._asked["open_episodes"] = [e for e in self.happened("episodes") if e.status == _ACTIVE]
        return list(found)

    def smi_episodes(self) -> list[Fact]:
        return [e for e in self.open_episodes() if e.pathway in SMI_PATHWAYS]

    def is_inpatient(self) -> bool:
        return any(a.discharged_at is None and a.occurred_at <= self.at for a in self.of("admissions"))

    def happened(self, kind: str) -> list[Fact]:
        """Facts of ``kind`` that had happened by ``at`` (booked appointments can lie in the future)."""
        self._whole(kind)
        return self._happened_of(kind)

    def _happened_of(self, kind: str) -> list[Fact]:
        facts = self._known[kind]  # in the order they happened: those that had are the ones before ``at``
        upto = self._happened.get(kind)
        if upto is None:  # asked of most kinds by several rules: found once (usually all of them have happened)
            at = self.at
            upto = len(facts) if not facts or facts[-1].occurred_at <= at else bisect_right(facts, at, key=_OCCURRED)
            self._happened[kind] = upto
        return facts[:upto]

    def _whole(self, kind: str) -> None:
        if self._summary is not None and kind in self._summary.kinds:
            raise SummarisedKind(
                f"only what the questions about {kind} need was read (the batch): ask them, not for every fact"
            )

    # Contacts are most of a record, and the rules need only these answers about them: the batch reads just the
    # contacts that give them (``Summary``), so a rule asks them here rather than going through the contacts.

    def last_attended_direct_contact(self) -> Fact | None:
        """The latest attended direct contact (face to face, home visit, video, phone) that had happened."""
        for contact in reversed(self._happened_of("contacts")):
            if contact.outcome == _ATTENDED and contact.mode in DIRECT_MODES:
                return contact
        return None

    def last_attended_contact(self) -> Fact | None:
        """The latest attended contact, by any means (a text check-in too), that had happened."""
        for contact in reversed(self._happened_of("contacts")):
            if contact.outcome == _ATTENDED:
                return contact
        return None

    def last_planned_contacts(self, count: int) -> list[Fact]:
        """The latest ``count`` planned contacts that had happened (fewer if there were fewer), in order."""
        if self._summary is not None and "contacts" in self._summary.kinds and count > self._summary.planned:
            raise SummarisedKind(f"the batch read the last {self._summary.planned} planned contacts, not {count}")
        found = []
        for contact in reversed(self._happened_of("contacts")):
            if contact.planned:
                found.append(contact)
                if len(found) == count:
                    break
        found.reverse()
        return found

    def risk_history(self) -> list[Fact]:
        return self.happened("risk_events")

    def pathway(self, team_id: str | None) -> str | None:
        return self.directory.pathway(team_id)

    def is_assertive_outreach(self, episode: Fact) -> bool:
        return bool(episode.pathway == Pathway.ASSERTIVE_OUTREACH)


def load_histories(
    session: Session,
    patient_ids: Sequence[str] | None = None,
    reads: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, History]:
    """Every version of every fact for these people (everyone if None): one query per table. With ``reads``
    (``read_by_rules()``) only the kinds and columns the rules read: enough to evaluate them, not to show a record."""
    directory = Directory.load(session)
    selection = _Selection.everyone() if patient_ids is None else _Selection.these(patient_ids)
    people = _people(session, selection)
    return _load(session, directory, people, selection, reads)


def load_history(session: Session, patient_id: str) -> History:
    return load_histories(session, [patient_id])[patient_id]


def load_span(
    session: Session,
    directory: Directory,
    people: Sequence[tuple[str, str, datetime]],
    reads: Mapping[str, tuple[str, ...]] | None = None,
    summary: Summary | None = None,
) -> dict[str, History]:
    """The histories of ``people`` (id, NHS number, first known; sorted by id), read as one range of patient ids:
    what the batch reads a trust in, a slice at a time. With ``reads`` (kind -> columns, e.g. ``read_by_rules()``)
    only those kinds and columns are read: enough for the rules, not for showing a record. With ``summary``
    (``batch_summary(at)``), its kinds are read only as far as the questions about them need, as known at its
    moment: the histories then answer for that moment alone."""
    if not people:
        return {}
    return _load(session, directory, people, _Selection.span(people[0][0], people[-1][0]), reads, summary)


def trust_people(session: Session, at: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """Everyone (known by ``at`` if given), sorted by id: (id, NHS number, when first known)."""
    people = _people(session, _Selection.everyone())
    return [p for p in people if at is None or p[2] <= at]


# --- reading ---------------------------------------------------------------------------------------------------
#
# The fact tables are read with plain column selects: no ORM objects, one query per table. On SQLite (the embedded
# database, and where the big trusts live) rows come straight off the driver's cursor and are turned into Facts by a
# function compiled once per table, which converts each column the way its SQLAlchemy type does (a test checks the
# values are identical); other databases go through SQLAlchemy Core, whose types convert.


@dataclass(frozen=True, slots=True)
class _Selection:
    """Whose facts to read: everyone, a list of ids, or an inclusive range of ids."""

    ids: tuple[str, ...] | None = None
    first: str | None = None
    last: str | None = None

    @classmethod
    def everyone(cls) -> _Selection:
        return cls()

    @classmethod
    def these(cls, ids: Sequence[str]) -> _Selection:
        return cls(ids=tuple(ids))

    @classmethod
    def span(cls, first: str, last: str) -> _Selection:
        return cls(first=first, last=last)

    def parts(self) -> list[tuple[str, tuple[str, ...]]]:
        """SQL conditions on ``patient_id`` (written with ``?``) and their parameters, one query each."""
        if self.ids is not None:
            return _in_parts(self.ids)
        if self.first is not None and self.last is not None:
            return [("BETWEEN ? AND ?", (self.first, self.last))]
        return [("IS NOT NULL", ())]

    def clause(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if self.ids is not None:
            return column.in_(self.ids)
        if self.first is not None and self.last is not None:
            return column.between(self.first, self.last)
        return column.is_not(None)


def _in_parts(values: Sequence[Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """``IN (?, ...)`` conditions for these values, a few hundred at a time."""
    step = 500  # well inside every SQLite build's limit on parameters
    return [
        (f"IN ({', '.join('?' * len(part))})", tuple(part))
        for part in (values[n : n + step] for n in range(0, len(values), step))
    ]


def _people(session: Session, selection: _Selection) -> list[tuple[str, str, datetime]]:
    table = Patient.__table__
    stmt = select(table.c.id, table.c.nhs_number, table.c.recorded_at).order_by(table.c.id)
    if selection.ids is not None or selection.first is not None:
        stmt = stmt.where(selection.clause(table.c.id))
    return [(pid, nhs, first) for pid, nhs, first in session.execute(stmt)]


def _load(
    session: Session,
    directory: Directory,
    people: Sequence[tuple[str, str, datetime]],
    selection: _Selection,
    reads: Mapping[str, tuple[str, ...]] | None = None,
    summary: Summary | None = None,
) -> dict[str, History]:
    if not people:
        return {}
    if session.autoflush:
        session.flush()
    connection = session.connection()  # the session's own transaction: what it has flushed is visible
    dialect = connection.dialect.name
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new, acyclic objects: collecting while they arrive only costs time
    try:
        histories = {pid: History(pid, nhs, first, directory, summary=summary) for pid, nhs, first in people}
        kinds = KINDS if reads is None else [k for k in KINDS if k in reads]
        summarised = set() if summary is None else summary.kinds
        if dialect == "sqlite":
            with closing(connection.connection.cursor()) as cursor:
                for kind in kinds:
                    reader = _reader(kind, dialect, None if reads is None else reads[kind])
                    for condition, parameters in selection.parts():
                        if kind in summarised:
                            assert summary is not None
                            _contacts_in_sqlite(cursor, reader, condition, parameters, summary, histories)
                            continue
                        cursor.execute(f"{reader.sql} WHERE patient_id {condition}", parameters)
                        reader.build(cursor.fetchall(), histories)
        else:
            for kind in kinds:
                reader = _reader(kind, dialect, None if reads is None else reads[kind])
                if kind in summarised:
                    assert summary is not None
                    _contacts_in_sql(connection, reader, selection, summary, histories)
                    continue
                stmt = select(*reader.columns).where(selection.clause(reader.table.c.patient_id))
                reader.build(connection.execute(stmt).all(), histories)
        return {pid: h.seal() for pid, h in histories.items()}
    finally:
        if collecting:
            gc.enable()


@dataclass(frozen=True, slots=True)
class _Reader:
    table: Table
    columns: list[Column[Any]]
    sql: str
    build: Callable[[Sequence[Sequence[Any]], dict[str, History]], None]


@cache
def _reader(kind: str, dialect_name: str, only: tuple[str, ...] | None) -> _Reader:
    """The query for one kind of fact (all its columns, or ``only`` those) and a function that files its rows as
    Facts into the histories."""
    table = cast(Table, FACT_MODELS[kind].__table__)
    columns = [c for c in table.columns if only is None or c.name in only]
    names = [c.name for c in columns]
    namespace: dict[str, Any] = {
        "new": Fact.__new__,
        "Fact": Fact,
        "iso": datetime.fromisoformat,
        "json": orjson.loads,
        "kind": kind,
    }
    values = []
    for position, column in enumerate(columns):
        raw = f"r[{position}]"
        value = raw
        if dialect_name == "sqlite":
            value = _sqlite_value(column, raw, position, namespace)
        if column.name == "recorded_at":  # kept for first_recorded_at, right unless the fact was corrected (seal)
            value = f"(recorded := {value})"
        values.append(f"{column.name!r}: {value}")
    values.append(f"'table': {kind!r}")
    values.append("'first_recorded_at': recorded")
    where = names.index("patient_id")
    source = (  # each person's list of this kind is looked up once, not per row
        "def build(rows, histories):\n"
        "    lists = {}\n"
        "    for r in rows:\n"
        f"        bucket = lists.get(r[{where}])\n"
        "        if bucket is None:\n"
        f"            history = histories.get(r[{where}])\n"
        "            if history is None:\n"
        "                continue\n"
        f"            bucket = lists[r[{where}]] = history.versions[kind]\n"
        "        fact = new(Fact)\n"
        f"        fact.__dict__.update({{{', '.join(values)}}})\n"
        "        bucket.append(fact)\n"
    )
    exec(compile(source, f"<facts reader for {kind}>", "exec"), namespace)  # noqa: S102  (our own source, above)
    quote = _SQLITE.identifier_preparer.quote
    sql = f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)}"
    return _Reader(table, columns, sql, namespace["build"])


_SQLITE = sqlite.dialect()


def _sqlite_value(column: Column[Any], raw: str, position: int, namespace: dict[str, Any]) -> str:
    """The Python expression turning one raw SQLite value into what SQLAlchemy's type would have made of it."""
    kind = column.type
    if isinstance(kind, UTCDateTime):  # stored as UTC without a zone, "YYYY-MM-DD HH:MM:SS.ffffff"
        value = f"iso({raw} + '+00:00')"
    elif isinstance(kind, Boolean):
        value = f"bool({raw})"
    elif isinstance(kind, JSON):  # what the dialect's json.loads makes of it, faster
        value = f"json({raw})"
    else:
        processor = kind.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
        if processor is None:
            return raw
        namespace[f"convert_{position}"] = processor
        return f"convert_{position}({raw})"
    return f"(None if {raw} is None else {value})" if column.nullable else value


# --- contacts, summarised ---------------------------------------------------------------------------------------
#
# Two thirds of a record are contacts, and the rules ask only three things of them (PersonFacts's questions). For
# the batch, which asks about one moment, the database finds the contacts that can answer them and only those are
# read in full: per person, the latest attended direct contact, the latest attended contact and the last few planned
# ones as known at the moment, and any that happened at the same time as one of those (which of equals counts as
# the latest is settled when the history is built, as for a full read). Someone with a corrected or
# entered-in-error contact (a version after the first) has all their contacts read, so "as known at" is worked
# out in memory exactly as always; for everyone else each contact is its one version, filtered in SQL.

_DIRECT, _ATTENDED_ANYHOW, _PLANNED = 1, 2, 4  # what a contact can answer, as bits
_DIRECT_SQL = ", ".join(f"'{mode.value}'" for mode in sorted(DIRECT_MODES))
_FLAGS_SQL = (
    f"CASE WHEN outcome = '{_ATTENDED.value}' THEN CASE WHEN mode IN ({_DIRECT_SQL}) THEN 3 ELSE 2 END ELSE 0 END"
    " + CASE WHEN planned THEN 4 ELSE 0 END"
)
# On SQLite every moment is stored as text, 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, so text order is time order (which
# ``core.facts.known_at`` relies on too): each person's candidates come back as one string, sorted in Python.
_SQLITE_CANDIDATES = f"""
SELECT patient_id, max(version), group_concat(
    CASE WHEN recorded_at <= ? AND occurred_at <= ? AND NOT entered_in_error AND (outcome = 'attended' OR planned)
    THEN occurred_at || '|' || ({_FLAGS_SQL}) || '|' || id END)
FROM contacts WHERE patient_id {{condition}} GROUP BY patient_id
"""


def _wanted(candidates: Iterable[tuple[Any, int, int]], planned: int) -> Iterator[int]:
    """The ids of the contacts that answer the questions, from (occurred_at, bits, id), latest first."""
    direct = attended = last_planned = None  # when the answer to each question happened
    counted = 0
    for occurred, bits, row in candidates:
        found = direct is not None and attended is not None and counted >= planned
        if found and occurred not in (direct, attended, last_planned):
            return  # every answer found, and this happened before all of them
        take = False
        if bits & _DIRECT and (direct is None or occurred == direct):
            direct, take = occurred, True
        if bits & _ATTENDED_ANYHOW and (attended is None or occurred == attended):
            attended, take = occurred, True
        if bits & _PLANNED and (counted < planned or occurred == last_planned):
            counted += 1
            last_planned, take = occurred, True
        if take:
            yield row


def _parsed(text: str) -> Iterator[tuple[str, int, int]]:
    for item in sorted(text.split(","), reverse=True):  # latest first; only as many as needed are split further
        occurred, bits, row = item.split("|")
        yield occurred, int(bits), int(row)


def _contacts_in_sqlite(
    cursor: Any,
    reader: _Reader,
    condition: str,
    parameters: tuple[str, ...],
    summary: Summary,
    histories: dict[str, History],
) -> None:
    at = sqlite_text(summary.at)
    wanted: list[int] = []
    corrected: list[str] = []
    cursor.execute(_SQLITE_CANDIDATES.format(condition=condition), (at, at, *parameters))
    for patient_id, newest_version, text in cursor.fetchall():
        if newest_version > 1:
            corrected.append(patient_id)
        elif text:
            wanted.extend(_wanted(_parsed(text), summary.planned))
    wanted.sort()  # by row, as SQLite reads them most cheaply (the order is not needed: History.seal sorts them)
    for column, values in (("id", wanted), ("patient_id", corrected)):
        for part, chosen in _in_parts(values):
            cursor.execute(f"{reader.sql} WHERE {column} {part} ORDER BY patient_id, id", chosen)
            reader.build(cursor.fetchall(), histories)


def _contacts_in_sql(
    connection: Any, reader: _Reader, selection: _Selection, summary: Summary, histories: dict[str, History]
) -> None:
    """The same on other databases (PostgreSQL), choosing in Python from the columns the choice needs."""
    c = reader.table.c
    rows = connection.execute(
        select(
            c.patient_id,
            c.version,
            c.occurred_at,
            c.recorded_at,
            c.entered_in_error,
            c.outcome,
            c.mode,
            c.planned,
            c.id,
        ).where(selection.clause(c.patient_id))
    )
    at = summary.at
    candidates: dict[str, list[tuple[datetime, int, int]]] = defaultdict(list)
    corrected: set[str] = set()
    for patient_id, version, occurred, recorded, in_error, outcome, mode, planned, row in rows:
        if version > 1:
            corrected.add(patient_id)
        elif recorded <= at and occurred <= at and not in_error:
            bits = (_ATTENDED_ANYHOW | (_DIRECT if mode in DIRECT_MODES else 0) if outcome == _ATTENDED else 0) | (
                _PLANNED if planned else 0
            )
            if bits:
                candidates[patient_id].append((occurred, bits, row))
    wanted = [
        row
        for patient_id, found in candidates.items()
        if patient_id not in corrected
        for row in _wanted(sorted(found, key=_FIRST, reverse=True), summary.planned)
    ]
    for clause in (c.id.in_(sorted(wanted)), c.patient_id.in_(sorted(corrected))):
        reader.build(
            connection.execute(select(*reader.columns).where(clause).order_by(c.patient_id, c.id)).all(), histories
        )


_FIRST = itemgetter(0)

# --- what the rules read -------------------------------------------------------------------------------------

ALWAYS_READ = ("fact_id", "version", "occurred_at", "recorded_at", "entered_in_error", "patient_id", "team_id")
_RULES = Path(__file__).parent
# Pure helpers of the record that rules share with the pages (one concept, one place): read as if they were rules.
_SHARED_HELPERS = {"safetynet.record.risk.history": _RULES.parent / "record" / "risk" / "history.py"}
_RULE_IMPORTS = re.compile(
    r"safetynet\.(rules(\..*)?|core\.(clock|context)|record\.\w+\.models)|" + "|".join(map(re.escape, _SHARED_HELPERS))
)


SUMMARISED = ("contacts",)  # kinds PersonFacts answers questions about, which the batch can read summarised
PLANNED_READ = 2  # planned contacts the batch reads: as many as SN02 looks at with its default parameters


def batch_summary(at: datetime) -> Summary | None:
    """How the batch may read the record to evaluate the rules as known at ``at``: the kinds no rule reads but
    through PersonFacts's questions, summarised (None if there are none)."""
    kinds = summarised_by_rules()
    return Summary(at, kinds, PLANNED_READ) if kinds else None


@cache
def summarised_by_rules() -> frozenset[str]:
    """The kinds in ``SUMMARISED`` that no rule names (so reads only through PersonFacts's questions): none if the
    batch cannot be sure what the rules read (see ``read_by_rules``)."""
    if read_by_rules() is None:
        return frozenset()
    named = _strings(sorted((_RULES / "definitions").rglob("*.py")) + list(_SHARED_HELPERS.values()))
    return frozenset(kind for kind in SUMMARISED if named is not None and kind not in named)


def _strings(paths: list[Path]) -> set[str] | None:
    """Every string constant in these files' code; None if one cannot be read."""
    found: set[str] = set()
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        found |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


@cache
def read_by_rules() -> dict[str, tuple[str, ...]] | None:
    """The kinds of fact, and their columns, that the rules could read: a kind whose name appears in the rules'
    code as a string, and a column whose name appears there as an attribute or a string (plus the bookkeeping
    every fact has). Worked out from the source of this package, so a new rule is covered as soon as it is written.
    None (read everything) where that cannot be sure: the source is missing, or a rule looks facts up by a name it
    computes (``getattr``, ``vars``, every kind in a loop) or calls code outside the rules, the record's models and
    the shared helpers named in ``_SHARED_HELPERS`` (whose source is read too)."""
    names: set[str] = set()
    files = sorted(_RULES.rglob("*.py"))
    if not any(path.parent.name == "definitions" for path in files):
        return None
    for path in [*files, *_SHARED_HELPERS.values()]:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        rule = path.parent.name == "definitions"
        for node in ast.walk(tree):
            if rule and _opaque(node):
                return None
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    reads = {}
    for kind in KINDS:
        if kind in names:
            table = FACT_MODELS[kind].__table__
            reads[kind] = tuple(c.name for c in table.columns if c.name in names or c.name in ALWAYS_READ)
    return reads


def _opaque(node: ast.AST) -> bool:
    """Code in a rule that could read facts by names the source does not spell out."""
    if isinstance(node, ast.Name):
        return node.id in ("getattr", "vars", "KINDS", "FACT_MODELS")
    if isinstance(node, ast.Attribute):
        return node.attr == "__dict__"
    if isinstance(node, ast.Import | ast.ImportFrom):
        # the rules themselves, constants of the record, and the standard types a rule computes with
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        return not all(_RULE_IMPORTS.fullmatch(m) or m in _STANDARD for m in modules)
    return False


_STANDARD = frozenset({"__future__", "datetime", "pydantic", "collections.abc", "typing", "enum", "dataclasses"})


def latest(facts: Iterable[Fact]) -> Fact | None:
    """The fact that happened last (facts are kept in the order they happened)."""
    last = None
    for last in facts:  # noqa: B007
        pass
    return last
