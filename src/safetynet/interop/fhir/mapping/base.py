"""What every mapping between a record fact and a FHIR resource shares.

One version of one fact is one version of one resource: ``id`` is the fact's ``fact_id``, ``meta.versionId`` its
``version``, ``meta.lastUpdated`` its ``recorded_at`` (when the service learnt of it), and ``meta.tag`` names the
record table (``codes.RECORD_TABLE``). The person is a reference to ``Patient/{patients.id}``. Each mapper writes
the fields FHIR has a home for ("natural" fields); every other column of the fact travels in one extension
(``codes.FACT_EXTENSION``, one sub-extension per column), so that an export imported again is the same record. A
version marked entered in error has ``status`` ``entered-in-error`` (or, for resources without a status, the
column ``entered_in_error`` in the extension).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, cached_property
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Column, Date, Integer, String, Table

from safetynet.core.clock import LONDON
from safetynet.core.db import UTCDateTime
from safetynet.core.facts import ClinicalFact
from safetynet.interop.fhir import codes

Row = dict[str, Any]
Res = dict[str, Any]

# Columns every fact has that the resource's frame (id, meta, subject, status) carries.
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
FRAME = frozenset({"id", "fact_id", "version", "patient_id", "recorded_at", "entered_in_error"})
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_ID = 36  # the record's identifiers are at most 36 characters (a UUID)


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a resource: where (a FHIRPath-like expression) and why; ``code`` is FHIR's issue type."""

    expression: str
    message: str
    code: str = "invalid"


class Refused(Exception):
    """A resource cannot become part of the record. Carries every issue found."""

    def __init__(self, issues: Iterable[Issue], status: int = 422) -> None:
        self.issues = list(issues)
        self.status = status
        super().__init__("; ".join(f"{i.expression}: {i.message}" for i in self.issues))


_STEPS: dict[str, tuple[str, ...]] = {}  # dotted paths the mappers read, split once


class Reader:
    """Reads a resource for a mapper, collecting issues instead of stopping at the first."""

    def __init__(self, resource: Res) -> None:
        self.res = resource
        self.issues: list[Issue] = []
        self.type = str(resource.get("resourceType", "Resource"))

    def problem(self, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(f"{self.type}.{path}" if path else self.type, message, code))

    def get(self, path: str) -> Any:
        """A value by dotted path; list steps take the first item (``code.coding.code``)."""
        value: Any = self.res
        steps = _STEPS.get(path)
        if steps is None:
            steps = _STEPS[path] = tuple(path.split("."))
        for step in steps:
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, dict):
                return None
            value = value.get(step)
        if isinstance(value, list) and value and not isinstance(value[0], dict):
            return value[0]
        return value

    def text(self, path: str, *, required: bool = False) -> str | None:
        value = self.get(path)
        if value is None or value == "":
            if required:
                self.problem(path, f"{path} is required", "required")
            return None
        if not isinstance(value, str):
            self.problem(path, "must be a string")
            return None
        return value

    def moment(self, path: str, *, required: bool = False) -> datetime | None:
        value = self.get(path)
        if value is None:
            if required:
                self.problem(path, f"{path} (when it happened) is required", "required")
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.problem(path, f"{value!r} is not a FHIR dateTime")
        return parsed

    def day(self, path: str) -> date | None:
        value = self.get(path)
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.problem(path, f"{value!r} is not a FHIR date")
            return None
        return parsed.astimezone(LONDON).date() if isinstance(value, str) and "T" in value else parsed.date()

    def ref(self, path: str, kind: str, *, required: bool = False) -> str | None:
        """The id in a reference to a ``kind`` resource (``Practitioner/abc`` -> ``abc``)."""
        value = self.get(path)
        if isinstance(value, list):
            value = value[0] if value else None
        reference = value.get("reference") if isinstance(value, dict) else None
        if not reference:
            if required:
                self.problem(path, f"a reference to a {kind} is required", "required")
            return None
        found = reference_id(reference, kind)
        if found is None:
            self.problem(f"{path}.reference", f"{reference!r} is not a reference to a {kind}")
        return found

    def coded(self, path: str, system: str | None = None) -> str | None:
        """The code of the first coding (of ``system`` if given) of a CodeableConcept at ``path``."""
        concept = self.get(path)
        if isinstance(concept, list):
            concept = concept[0] if concept else None
        if not isinstance(concept, dict):
            return None
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and (system is None or coding.get("system") == system):
                code = coding.get("code")
                return str(code) if code is not None else None
        return None

    def choice(self, column: str, path: str, value: str | None, allowed: Iterable[str]) -> str | None:
        options = _options(allowed)
        if value is not None and value not in options:
            self.problem(path, f"{value!r} is not one of {', '.join(options)} ({column})")
            return None
        return value


def _options(allowed: Iterable[str]) -> tuple[str, ...]:
    """The allowed values as strings (an enumeration's values are worked out once)."""
    if isinstance(allowed, type):
        return _enum_values(allowed)
    return tuple(str(a) for a in allowed)


@cache
def _enum_values(kind: type) -> tuple[str, ...]:
    return tuple(str(member) for member in kind)  # type: ignore[attr-defined]


def reference_id(reference: str, kind: str) -> str | None:
    parts = reference.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == kind and FHIR_ID.match(parts[-1]):
        return parts[-1]
    return None


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date or dateTime as an aware datetime (a date alone is midnight in London)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=LONDON)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=LONDON)
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=LONDON)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


def instant(value: datetime) -> str:
    """A moment as FHIR instant, in UTC."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ref(kind: str, ident: str | None) -> dict[str, str] | None:
    return {"reference": f"{kind}/{ident}"} if ident else None


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> Res:
    coding: Res = {"system": system, "code": code}
    if display:
        coding["display"] = display
    made: Res = {"coding": [coding]}
    if text:
        made["text"] = text
    return made


def local(code: str, display: str | None = None) -> Res:
    return concept(codes.SAFETYNET_CODES, code, display)


def prune(value: Any) -> Any:
    """Drop None and empty containers: FHIR forbids empty elements."""
    if isinstance(value, dict):
        kept = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        kept_list = [prune(v) for v in value]
        return [v for v in kept_list if v is not None and v != {} and v != []]
    return value


# --- the fact extension ------------------------------------------------------------------------------------------


def _encode(column: Column[Any], value: Any) -> tuple[str, Any]:
    kind = column.type
    if isinstance(kind, Boolean):
        return "valueBoolean", bool(value)
    if isinstance(kind, Integer):
        return "valueInteger", int(value)
    if isinstance(kind, UTCDateTime):
        return "valueDateTime", instant(value)
    if isinstance(kind, Date):
        return "valueDate", value.isoformat()
    if isinstance(kind, JSON):
        return "valueString", orjson.dumps(value).decode()
    return "valueString", str(value)


Decoder = Callable[[Res], tuple[Any, str | None]]


def _decode(column: Column[Any], item: Res) -> tuple[Any, str | None]:
    """(value, problem) for one sub-extension."""
    return _decoder(column)(item)


def _decoder(column: Column[Any]) -> Decoder:
    """How a column's sub-extension is read, chosen once per column."""
    kind = column.type
    if isinstance(kind, Boolean):
        return _decode_boolean
    if isinstance(kind, Integer):
        return _decode_integer
    if isinstance(kind, UTCDateTime):
        return _decode_moment
    if isinstance(kind, Date):
        return _decode_date
    if isinstance(kind, JSON):
        return _decode_json
    return _decode_string


def _decode_boolean(item: Res) -> tuple[Any, str | None]:
    value = item.get("valueBoolean")
    return (value, None) if isinstance(value, bool) else (None, "must be valueBoolean")


def _decode_integer(item: Res) -> tuple[Any, str | None]:
    value = item.get("valueInteger")
    ok = isinstance(value, int) and not isinstance(value, bool)
    return (value, None) if ok else (None, "must be valueInteger")


def _decode_moment(item: Res) -> tuple[Any, str | None]:
    parsed = parse_datetime(item.get("valueDateTime"))
    return (parsed, None) if parsed else (None, "must be valueDateTime")


def _decode_date(item: Res) -> tuple[Any, str | None]:
    try:
        return date.fromisoformat(str(item.get("valueDate"))), None
    except ValueError:
        return None, "must be valueDate"


def _decode_string(item: Res) -> tuple[Any, str | None]:
    text = item.get("valueString")
    return (text, None) if isinstance(text, str) else (None, "must be valueString")


def _decode_json(item: Res) -> tuple[Any, str | None]:
    text = item.get("valueString")
    if not isinstance(text, str):
        return None, "must be valueString"
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError:
        return None, "must be JSON text"


@cache
def _decoders(table: Table) -> dict[str, Decoder]:
    return {column.name: _decoder(column) for column in table.columns}


BOOKKEEPING = frozenset({"id", "patient_id", "fact_id", "version", "recorded_at"})


def fact_extension(table: Table, row: Row, columns: Iterable[str]) -> Res | None:
    items = []
    for name in columns:
        value = row.get(name)
        if value is None:
            continue
        key, encoded = _encode(table.columns[name], value)
        items.append({"url": name, key: encoded})
    return {"url": codes.FACT_EXTENSION, "extension": items} if items else None


def read_fact_extension(reader: Reader, table: Table, allowed: frozenset[str] = frozenset()) -> Row:
    found: Row = {}
    decoders = _decoders(table)
    for n, ext in enumerate(reader.res.get("extension") or []):
        if not isinstance(ext, dict) or ext.get("url") != codes.FACT_EXTENSION:
            continue
        for m, item in enumerate(ext.get("extension") or []):
            name = str(item.get("url")) if isinstance(item, dict) else ""
            decode = decoders.get(name)
            if decode is None or (name in BOOKKEEPING and name not in allowed):
                reader.problem(f"extension[{n}].extension[{m}]", f"{name!r} is not a field of {table.name}")
                continue
            value, problem = decode(item)
            if problem:
                reader.problem(f"extension[{n}].extension[{m}]", f"{name} {problem}")
            else:
                found[name] = value
    return found


# --- a mapper --------------------------------------------------------------------------------------------------

ToFhir = Callable[[Row, Res], None]
FromFhir = Callable[[Reader], Row]


@dataclass(frozen=True)
class Mapper:
    """How one record table travels as one FHIR resource type."""

    model: type[ClinicalFact]
    resource: str
    to_fhir: ToFhir
    from_fhir: FromFhir
    natural: frozenset[str]  # columns the natural fields carry
    subject: str = "subject"  # the element naming the person ("participant" for Appointment)
    error_in: str = "status"  # where entered-in-error travels: status, verificationStatus or the extension
    status_columns: frozenset[str] = frozenset()  # what the status encodes (kept in the extension when in error)
    matches: Callable[[Res], bool] = field(default=lambda _res: True)  # an untagged resource belongs here
    rows: Callable[[Row], bool] = field(default=lambda _row: True)  # which of the table's rows travel as this
    where: Callable[[Any], Any] | None = None  # the same, as SQL on the model (for searches)
    search_date: str = "occurred_at"

    @cached_property
    def table(self) -> Table:
        table: Table = self.model.__table__  # type: ignore[assignment]
        return table

    @cached_property
    def name(self) -> str:
        return self.table.name

    @cached_property
    def columns(self) -> frozenset[str]:
        return frozenset(self.table.c.keys())


def to_resource(mapper: Mapper, row: Row) -> Res:
    """One version of one fact as a FHIR resource."""
    res: Res = {
        "resourceType": mapper.resource,
        "id": row["fact_id"],
        "meta": {
            "versionId": str(row["version"]),
            "lastUpdated": instant(row["recorded_at"]),
            "tag": [{"system": codes.RECORD_TABLE, "code": mapper.name}],
        },
    }
    mapper.to_fhir(row, res)
    person = {"reference": f"Patient/{row['patient_id']}"}
    if mapper.subject == "participant":
        res["participant"] = [{"actor": person, "status": "accepted"}, *res.get("participant", [])]
    else:
        res[mapper.subject] = person
    erroneous = bool(row.get("entered_in_error"))
    if erroneous and mapper.error_in == "status":
        res["status"] = "entered-in-error"
    elif mapper.error_in == "verificationStatus":
        res["verificationStatus"] = concept(VERIFICATION, "entered-in-error" if erroneous else "confirmed")
    extra = [c.name for c in mapper.table.columns if c.name not in FRAME and c.name not in mapper.natural]
    if erroneous:
        extra += sorted(mapper.status_columns)
        if mapper.error_in == "extension":
            extra.append("entered_in_error")
    extension = fact_extension(mapper.table, row, extra)
    if extension:
        res.setdefault("extension", []).append(extension)
    made: Res = prune(res)
    return made


def from_resource(mapper: Mapper, res: Res) -> Row:
    """The fact fields a resource carries (not the bitemporal bookkeeping), or Refused with every issue."""
    reader = Reader(res)
    patient_id = _person(reader, mapper.subject)
    if mapper.error_in == "status":
        erroneous = res.get("status") == "entered-in-error"
    elif mapper.error_in == "verificationStatus":
        erroneous = reader.coded("verificationStatus") == "entered-in-error"
    else:
        erroneous = False
    read = mapper.from_fhir(reader) if not erroneous else _natural_except_status(mapper, reader)
    extension = read_fact_extension(reader, mapper.table)
    # Natural fields win for the columns they carry; the extension for the rest (and for what the status said,
    # once the status says entered-in-error); what a mapper reads besides is the fallback for other systems.
    carried = mapper.natural
    fields = {k: v for k, v in read.items() if k not in carried}
    for k, v in extension.items():
        if k not in carried:
            fields[k] = v
    for k, v in read.items():
        if k in carried:
            fields[k] = v
    if erroneous and mapper.status_columns:
        fields |= {k: extension[k] for k in mapper.status_columns if k in extension}
    if mapper.error_in == "extension":
        erroneous = bool(extension.get("entered_in_error", False))
    fields.pop("entered_in_error", None)
    fields["entered_in_error"] = erroneous
    fields["patient_id"] = patient_id
    _check_columns(reader, mapper.table, fields)
    if reader.issues:
        raise Refused(reader.issues)
    return fields


def _person(reader: Reader, subject: str) -> str | None:
    if subject != "participant":
        return reader.ref(subject, "Patient", required=True)
    for participant in reader.res.get("participant") or []:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = actor.get("reference") if isinstance(actor, dict) else None
        if isinstance(reference, str) and reference_id(reference, "Patient"):
            return reference_id(reference, "Patient")
    reader.problem("participant", "no participant is a Patient", "required")
    return None


def _natural_except_status(mapper: Mapper, reader: Reader) -> Row:
    """Natural fields of an entered-in-error version: the status no longer says what it said (e.g. an outcome)."""
    stand_in = dict(reader.res)
    stand_in.pop("status", None)
    sub = Reader(stand_in)
    fields = mapper.from_fhir(sub)
    # Problems that come from the missing status are not problems: those columns come from the extension.
    reader.issues += [i for i in sub.issues if not i.expression.endswith(".status")]
    return {k: v for k, v in fields.items() if k not in mapper.status_columns}


def _check_columns(reader: Reader, table: Table, fields: Row) -> None:
    """What the database would refuse, said first and clearly: missing required fields and values too long.
    (A field the mapping already said was wrong is not reported again as missing.)"""
    said = bool(reader.issues)
    required, limits = _column_rules(table)
    if not said:
        for name in required:
            if fields.get(name) is None:
                reader.problem(name, f"the record needs {name.replace('_', ' ')} and the resource does not say")
        if fields.get("occurred_at") is None:
            reader.problem("", "no date says when this happened", "required")
    for name, length in limits:
        value = fields.get(name)
        if isinstance(value, str) and len(value) > length:
            reader.problem(name, f"{name.replace('_', ' ')} is longer than {length} characters")


@cache
def _column_rules(table: Table) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """(columns the database requires that have no default, (string column, maximum length) pairs)."""
    required = tuple(
        c.name
        for c in table.columns
        if c.name not in FRAME and c.name != "occurred_at" and not c.nullable and c.default is None
    )
    limits = tuple(
        (c.name, int(c.type.length or 0))
        for c in table.columns
        if c.name not in FRAME and isinstance(c.type, String) and getattr(c.type, "length", None)
    )
    return required, limits


def defaults(table: Table) -> Row:
    """A row with every column at the value the ORM would give it when left out."""
    row: Row = {}
    for column in table.columns:
        if column.name == "id":
            continue
        default = column.default
        if default is None:
            row[column.name] = None
        elif getattr(default, "is_callable", False):
            row[column.name] = default.arg(None)  # type: ignore[attr-defined]
        else:
            row[column.name] = getattr(default, "arg", None)
    return row


def note_text(reader: Reader) -> str | None:
    notes = reader.res.get("note")
    if isinstance(notes, list) and notes and isinstance(notes[0], dict):
        text = notes[0].get("text")
        return text if isinstance(text, str) else None
    return None


def notes(row: Row) -> list[Res] | None:
    return [{"text": row["note"]}] if row.get("note") else None


def team_ref(row: Row, column: str = "team_id") -> Res | None:
    return ref("Organization", row.get(column))
