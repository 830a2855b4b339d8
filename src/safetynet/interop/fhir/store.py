"""The record read as FHIR resources, and FHIR resources written into the record one at a time (REST create,
update, transaction and batch). Bulk import (``bulk.py``) shares the mapping and these checks, with its own fast
writer.

When a resource says when its system recorded it (``meta.lastUpdated``), that is the fact version's
``recorded_at`` provided it is not in the future and is later than the version it amends; otherwise the clock's
now. The audit trail always says when Safetynet received it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, exists, func, insert, select, update
from sqlalchemy.orm import Session

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.db import Base
from safetynet.interop.fhir import codes, produced
from safetynet.interop.fhir.mapping import (
    BY_RESOURCE,
    PRODUCED_TYPES,
    READABLE_TYPES,
    mapper_for_resource,
    mapper_for_row,
)
from safetynet.interop.fhir.mapping.base import (
    FHIR_ID,
    MAX_ID,
    Issue,
    Mapper,
    Refused,
    Res,
    Row,
    defaults,
    from_resource,
    parse_datetime,
    to_resource,
)
from safetynet.interop.fhir.mapping.people import (
    organisation_resource,
    organization_fields,
    patient_fields,
    patient_resource,
    practitioner_fields,
    staff_resource,
    team_resource,
)
from safetynet.interop.fhir.outcome import from_validation
from safetynet.interop.text import whole_number
from safetynet.record import writes

TABLES = Base.metadata.tables
PATIENTS = TABLES["patients"]
DETAILS = TABLES["patient_details"]
TEAMS = TABLES["teams"]
STAFF = TABLES["staff"]
ORGANISATIONS = TABLES["organisations"]
# Columns that point at teams or staff: checked before writing, so a wrong reference is an issue, not a crash.
TEAM_COLUMNS = ("team_id", "ward_id", "to_team_id")
STAFF_COLUMNS = ("recorded_by_id", "staff_id", "second_reviewer_id")
UNCOMPARED = frozenset({"id", "version", "recorded_at", "recorded_by_id", "amendment_reason"})


def etag(version: int | str) -> str:
    return f'W/"{version}"'


def current_select(table: Table) -> Any:
    newer = table.alias("newer")
    later = exists().where(newer.c.fact_id == table.c.fact_id, newer.c.version > table.c.version)
    return select(table).where(~later)


def _rows(session: Session, stmt: Any) -> list[Row]:
    return [dict(row) for row in session.execute(stmt).mappings()]


# --- reading ----------------------------------------------------------------------------------------------------


def read(session: Session, kind: str, ident: str, version: int | None = None) -> Res | None:
    """One resource by id (its current version, or ``version``), or None."""
    versions = history(session, kind, ident)
    if not versions:
        return None
    if version is None:
        return versions[0]
    for res in versions:
        if res["meta"]["versionId"] == str(version):
            return res
    return None


def history(session: Session, kind: str, ident: str) -> list[Res]:
    """Every version of one resource, newest first."""
    if kind not in READABLE_TYPES or not FHIR_ID.match(ident) or len(ident) > MAX_ID:
        return []
    if kind == "Patient":
        patient = _rows(session, select(PATIENTS).where(PATIENTS.c.id == ident))
        if not patient:
            return []
        details = _rows(
            session, select(DETAILS).where(DETAILS.c.patient_id == ident).order_by(DETAILS.c.version.desc())
        )
        return [patient_resource(patient[0], d) for d in details]
    if kind == "Organization":
        orgs = _rows(session, select(ORGANISATIONS).where(ORGANISATIONS.c.id == ident))
        if orgs:
            return [organisation_resource(orgs[0])]
        teams = _rows(session, select(TEAMS).where(TEAMS.c.id == ident))
        return [team_resource(teams[0])] if teams else []
    if kind == "Practitioner":
        staff = _rows(session, select(STAFF).where(STAFF.c.id == ident))
        return [staff_resource(staff[0])] if staff else []
    for mapper in BY_RESOURCE.get(kind, []):
        rows = _rows(
            session, select(mapper.table).where(mapper.table.c.fact_id == ident).order_by(mapper.table.c.version.desc())
        )
        found = [to_resource(mapper, row) for row in rows if mapper_for_row(mapper.name, row) is mapper]
        if found:
            return found
    if kind in PRODUCED_TYPES:
        return produced.history(session, kind, ident)
    return []


@dataclass
class Page:
    resources: list[Res]
    total: int


SEARCH_PARAMETERS = ("patient", "subject", "identifier", "date", "status", "_count", "_offset", "_lastUpdated", "_id")


def search(session: Session, kind: str, params: list[tuple[str, str]]) -> Page:
    """Current versions matching the search parameters, ordered by date then id. Refused for an unknown parameter."""
    issues = [
        Issue(f"{kind}?{name}", f"search parameter {name!r} is not supported", "not-supported")
        for name, _ in params
        if name.split(":")[0] not in SEARCH_PARAMETERS and name not in ("_format",)
    ]
    if issues:
        raise Refused(issues, status=400)
    q = _Query(kind, params)
    if q.issues:
        raise Refused(q.issues, status=400)
    found: list[Res] = []
    if kind == "Patient":
        stmt = select(PATIENTS)
        if q.patient:
            stmt = stmt.where(PATIENTS.c.id == q.patient)
        if q.ids:
            stmt = stmt.where(PATIENTS.c.id.in_(q.ids))
        if q.identifier:
            stmt = stmt.where(PATIENTS.c.nhs_number == q.identifier)
        patients = {row["id"]: row for row in _rows(session, stmt.order_by(PATIENTS.c.id))}
        if patients:
            details = _rows(session, current_select(DETAILS).where(DETAILS.c.patient_id.in_(list(patients))))
            for row in sorted(details, key=lambda d: d["patient_id"]):
                found.append(patient_resource(patients[row["patient_id"]], row))
    elif kind in ("Organization", "Practitioner"):
        tables = (ORGANISATIONS, TEAMS) if kind == "Organization" else (STAFF,)
        for table in tables:
            stmt = select(table).order_by(table.c.id)
            if q.ids:
                stmt = stmt.where(table.c.id.in_(q.ids))
            if q.identifier and "ods_code" in table.c:
                stmt = stmt.where(table.c.ods_code == q.identifier.upper())
            elif q.identifier:
                continue
            maker = {"organisations": organisation_resource, "teams": team_resource, "staff": staff_resource}[
                table.name
            ]
            found += [maker(row) for row in _rows(session, stmt)]
    else:
        for mapper in BY_RESOURCE.get(kind, []):
            found += _search_facts(session, mapper, q)
        if kind in PRODUCED_TYPES:
            found += produced.search(session, kind, q.patient, q.ids)
    found = [res for res in found if q.keeps(res)]
    return Page(found[q.offset : q.offset + q.count], len(found))


def _search_facts(session: Session, mapper: Mapper, q: _Query) -> list[Res]:
    table = mapper.table
    stmt = current_select(table)
    if mapper.where is not None:
        stmt = stmt.where(mapper.where(table.c))
    if q.patient:
        stmt = stmt.where(table.c.patient_id == q.patient)
    if q.ids:
        stmt = stmt.where(table.c.fact_id.in_(q.ids))
    if q.identifier:
        return []
    for op, moment in q.dates:
        stmt = stmt.where(_compare(table.c[mapper.search_date], op, moment))
    for op, moment in q.updated:
        stmt = stmt.where(_compare(table.c.recorded_at, op, moment))
    stmt = stmt.order_by(table.c[mapper.search_date], table.c.fact_id)
    return [to_resource(mapper, row) for row in _rows(session, stmt)]


def _compare(column: Any, op: str, moment: datetime) -> Any:
    return {
        "eq": column == moment,
        "lt": column < moment,
        "le": column <= moment,
        "gt": column > moment,
        "ge": column >= moment,
        "ne": column != moment,
    }[op]


class _Query:
    def __init__(self, kind: str, params: list[tuple[str, str]]) -> None:
        self.kind = kind
        self.issues: list[Issue] = []
        self.patient: str | None = None
        self.identifier: str | None = None
        self.ids: list[str] = []
        self.statuses: set[str] = set()
        self.dates: list[tuple[str, datetime]] = []
        self.updated: list[tuple[str, datetime]] = []
        self.count = 50
        self.offset = 0
        for name, value in params:
            base = name.split(":")[0]
            if base in ("patient", "subject"):
                self.patient = value.rpartition("/")[2] if "/" in value else value
                if kind == "Patient" and base == "patient":
                    self.ids.append(self.patient)
                    self.patient = None
            elif base == "identifier":
                system, bar, ident = value.partition("|")
                if not bar:
                    system, ident = "", value
                wanted = codes.NHS_NUMBER if kind == "Patient" else codes.ODS_CODE
                if system and system != wanted:
                    self.issues.append(
                        Issue(f"{kind}?identifier", f"identifiers searched are {wanted}", "not-supported")
                    )
                self.identifier = ident.replace(" ", "")
            elif base == "_id":
                self.ids += value.split(",")
            elif base == "status":
                self.statuses |= set(value.split(","))
            elif base in ("date", "_lastUpdated"):
                parsed = _prefixed(value)
                if parsed is None:
                    self.issues.append(Issue(f"{kind}?{name}", f"{value!r} is not a date with an optional prefix"))
                else:
                    (self.dates if base == "date" else self.updated).append(parsed)
            elif base in ("_count", "_offset"):
                number = whole_number(value)
                if number is None:
                    self.issues.append(Issue(f"{kind}?{name}", f"{value!r} is not a whole number"))
                elif base == "_count":
                    self.count = min(number, 1000)
                else:
                    self.offset = number

    def keeps(self, res: Res) -> bool:
        if self.statuses and str(res.get("status")) not in self.statuses:
            return False
        if self.kind == "Patient":
            stamp = parse_datetime(res["meta"]["lastUpdated"])
            return stamp is not None and all(_compare_py(stamp, op, m) for op, m in self.updated)
        return True


def _compare_py(value: datetime, op: str, moment: datetime) -> bool:
    return {
        "eq": value == moment,
        "lt": value < moment,
        "le": value <= moment,
        "gt": value > moment,
        "ge": value >= moment,
        "ne": value != moment,
    }[op]


def _prefixed(value: str) -> tuple[str, datetime] | None:
    op = value[:2] if value[:2] in ("eq", "ne", "lt", "le", "gt", "ge") else "eq"
    text = value[2:] if value[:2] == op else value
    moment = parse_datetime(text)
    if moment is None:
        return None
    if op == "eq" and len(text) == 10:  # a day means the whole day: ge the day
        op = "ge"
    return op, moment


# --- writing ----------------------------------------------------------------------------------------------------


@dataclass
class Written:
    resource: Res
    created: bool
    changed: bool


def validate(res: Res) -> None:
    """Structural validation with the fhir.resources R4B model of the resource type."""
    from fhir.resources.R4B import get_fhir_model_class

    kind = res.get("resourceType")
    if not isinstance(kind, str):
        raise Refused([Issue("Resource.resourceType", "is required", "required")], status=400)
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError, ImportError):
        raise Refused([Issue(kind, f"{kind} is not a FHIR R4 resource type", "not-supported")], status=400) from None
    try:
        model.model_validate(res)
    except ValidationError as exc:
        raise Refused(from_validation(kind, exc), status=400) from None


def write(
    ctx: Context, res: Res, *, ident: str | None = None, if_match: str | None = None, check: bool = True
) -> Written:
    """Create (``ident`` None: the server names it) or update (``ident``: that id) one resource in the record."""
    kind = str(res.get("resourceType"))
    if kind in PRODUCED_TYPES and kind != "Task":
        raise Refused(
            [Issue(kind, f"{kind} resources are produced by Safetynet and cannot be written", "not-supported")], 405
        )
    if ident is not None and (not FHIR_ID.match(ident) or len(ident) > MAX_ID):
        raise Refused([Issue(f"{kind}.id", f"ids in this record are at most {MAX_ID} letters, digits, - and .")], 400)
    if ident is not None and res.get("id") not in (None, ident):
        raise Refused(
            [Issue(f"{kind}.id", f"the resource's id {res.get('id')!r} is not the id in the URL ({ident})")], 400
        )
    if check:
        validate(res)
    if kind == "Patient":
        return _write_patient(ctx, res, ident, if_match)
    if kind in ("Organization", "Practitioner"):
        return _write_directory(ctx, res, ident)
    if kind == "Task" and not BY_RESOURCE["Task"][0].matches(res):
        raise Refused(
            [
                Issue(
                    "Task",
                    "Safetynet's own tasks are raised by the safety net; only answers to cross-team requests "
                    "(Task based on a ServiceRequest) can be written",
                    "not-supported",
                )
            ],
            405,
        )
    mapper = mapper_for_resource(res)
    fields = from_resource(mapper, res)
    return _write_fact(ctx, mapper, fields, res, ident, if_match)


def recorded_moment(ctx: Context, res: Res, after: datetime | None) -> datetime:
    """meta.lastUpdated when it is a moment after ``after`` and not in the future; the clock's now otherwise."""
    now = ctx.clock.now()
    stated = parse_datetime((res.get("meta") or {}).get("lastUpdated"))
    if stated is not None and stated <= now and (after is None or stated > after):
        return stated
    return now


def _write_fact(
    ctx: Context, mapper: Mapper, fields: Row, res: Res, ident: str | None, if_match: str | None
) -> Written:
    table = mapper.table
    fact_id = ident or ctx.ids.new_id()
    for other in BY_RESOURCE[mapper.resource]:
        if other.table is not table and ctx.session.scalar(
            select(other.table.c.id).where(other.table.c.fact_id == fact_id).limit(1)
        ):
            raise Refused(
                [Issue(f"{mapper.resource}.id", f"{mapper.resource}/{fact_id} is already a {other.name} fact")], 409
            )
    current = _latest(ctx.session, table, fact_id)
    _check_match(mapper.resource, current["version"] if current else None, if_match)
    check_references(ctx.session, mapper.resource, fields)
    recorded_at = recorded_moment(ctx, res, current["recorded_at"] if current else None)
    row = defaults(table) | {k: v for k, v in fields.items() if k in table.c}
    row["fact_id"] = fact_id
    row["recorded_at"] = recorded_at
    row["recorded_by_id"] = fields.get("recorded_by_id") or ctx.actor.staff_id
    if current is None:
        row["version"] = 1
        row["amendment_reason"] = None
        action = "create"
    else:
        if not _differs(current, row):
            return Written(to_resource(mapper, current), created=False, changed=False)
        row["version"] = current["version"] + 1
        row["amendment_reason"] = (
            fields.get("amendment_reason")
            if fields.get("amendment_reason") != current.get("amendment_reason")
            else None
        )
        row["amendment_reason"] = row["amendment_reason"] or f"updated through FHIR by {ctx.actor.name}"
        if row["patient_id"] != current["patient_id"]:
            raise Refused([Issue(f"{mapper.resource}.{mapper.subject}", "a fact cannot move to another person")], 422)
        action = "enter_in_error" if row["entered_in_error"] and not current["entered_in_error"] else "amend"
    row.pop("id", None)
    ctx.session.execute(insert(table), [row])
    writes.touched(ctx).add(row["patient_id"])
    audit.record(
        ctx,
        action=action,
        entity=table.name,
        entity_id=fact_id,
        patient_id=row["patient_id"],
        detail=row["amendment_reason"] if action != "create" else f"through FHIR {mapper.resource}",
    )
    return Written(to_resource(mapper, row), created=current is None, changed=True)


def _differs(current: Row, row: Row) -> bool:
    return any(current.get(k) != row.get(k) for k in row if k not in UNCOMPARED and k not in ("fact_id",))


def _latest(session: Session, table: Table, fact_id: str) -> Row | None:
    rows = _rows(session, select(table).where(table.c.fact_id == fact_id).order_by(table.c.version.desc()).limit(1))
    return rows[0] if rows else None


def _check_match(kind: str, version: int | None, if_match: str | None) -> None:
    if if_match is None:
        return
    wanted = if_match.strip()
    if version is None or wanted not in (etag(version), f'"{version}"', str(version)):
        said = f"the current version is {version}" if version else "there is no such resource yet"
        raise Refused([Issue(kind, f"If-Match {wanted} does not match: {said}", "conflict")], 412)


def check_references(session: Session, kind: str, fields: Row) -> None:
    """People, teams and staff a fact names must exist (the database would refuse otherwise)."""
    issues: list[Issue] = []
    patient = fields.get("patient_id")
    if patient and not session.scalar(select(PATIENTS.c.id).where(PATIENTS.c.id == patient)):
        issues.append(Issue(f"{kind}.subject", f"Patient/{patient} is not known to this record", "not-found"))
    for column in TEAM_COLUMNS:
        team = fields.get(column)
        if team and not session.scalar(select(TEAMS.c.id).where(TEAMS.c.id == team)):
            issues.append(Issue(f"{kind}.{column}", f"Organization/{team} is not a team of this trust", "not-found"))
    for column in STAFF_COLUMNS:
        staff = fields.get(column)
        if staff and not session.scalar(select(STAFF.c.id).where(STAFF.c.id == staff)):
            issues.append(Issue(f"{kind}.{column}", f"Practitioner/{staff} is not a member of staff here", "not-found"))
    if issues:
        raise Refused(issues, 422)


def _write_patient(ctx: Context, res: Res, ident: str | None, if_match: str | None) -> Written:
    patient_f, details_f = patient_fields(res)
    by_number = (
        ctx.session.execute(select(PATIENTS).where(PATIENTS.c.nhs_number == patient_f["nhs_number"])).mappings().first()
    )
    patient_id = ident or ctx.ids.new_id()
    existing = ctx.session.execute(select(PATIENTS).where(PATIENTS.c.id == patient_id)).mappings().first()
    if by_number is not None and by_number["id"] != patient_id:
        raise Refused(
            [
                Issue(
                    "Patient.identifier",
                    f"NHS number {patient_f['nhs_number']} is already Patient/{by_number['id']}",
                    "duplicate",
                )
            ],
            409,
        )
    current = None
    if existing is not None:
        if existing["nhs_number"] != patient_f["nhs_number"]:
            raise Refused([Issue("Patient.identifier", "a person's NHS number cannot change", "business-rule")], 422)
        current = _rows(ctx.session, current_select(DETAILS).where(DETAILS.c.patient_id == patient_id))[0]
    _check_match("Patient", current["version"] if current else None, if_match)
    check_references(ctx.session, "Patient", {k: details_f.get(k) for k in ("team_id", "recorded_by_id")})
    recorded_at = recorded_moment(ctx, res, current["recorded_at"] if current else None)
    row = defaults(DETAILS) | {k: v for k, v in details_f.items() if k in DETAILS.c}
    row |= {"patient_id": patient_id, "recorded_at": recorded_at}
    row["occurred_at"] = row.get("occurred_at") or recorded_at
    row["recorded_by_id"] = details_f.get("recorded_by_id") or ctx.actor.staff_id
    if existing is None:
        registered = patient_f.get("recorded_at")
        registered = registered if registered is not None and registered <= recorded_at else recorded_at
        ctx.session.execute(
            insert(PATIENTS), [{"id": patient_id, "nhs_number": patient_f["nhs_number"], "recorded_at": registered}]
        )
        row |= {"fact_id": row.get("fact_id") or ctx.ids.new_id(), "version": 1, "amendment_reason": None}
        action = "create"
        patient_row: Row = {"id": patient_id, "nhs_number": patient_f["nhs_number"], "recorded_at": registered}
    else:
        assert current is not None
        row["fact_id"] = current["fact_id"]
        patient_row = dict(existing)
        if not _differs(current, row):
            return Written(patient_resource(patient_row, current), created=False, changed=False)
        row["version"] = current["version"] + 1
        reason = details_f.get("amendment_reason")
        row["amendment_reason"] = (
            reason
            if reason and reason != current.get("amendment_reason")
            else f"updated through FHIR by {ctx.actor.name}"
        )
        action = "enter_in_error" if row["entered_in_error"] and not current["entered_in_error"] else "amend"
    row.pop("id", None)
    ctx.session.execute(insert(DETAILS), [row])
    writes.touched(ctx).add(patient_id)
    audit.record(
        ctx,
        action=action,
        entity="patient_details",
        entity_id=row["fact_id"],
        patient_id=patient_id,
        detail="through FHIR Patient",
    )
    return Written(patient_resource(patient_row, row), created=existing is None, changed=True)


def _write_directory(ctx: Context, res: Res, ident: str | None) -> Written:
    """Teams and staff (and the trust): reference data, not versioned; created, or their names and state updated."""
    kind = str(res["resourceType"])
    if kind == "Organization":
        table_name, fields = organization_fields(res)
    else:
        table_name, fields = "staff", practitioner_fields(res)
    table = TABLES[table_name]
    ident = ident or str(fields.get("id") or "") or ctx.ids.new_id()
    if not FHIR_ID.match(ident) or len(ident) > MAX_ID:
        raise Refused([Issue(f"{kind}.id", f"ids in this record are at most {MAX_ID} letters, digits, - and .")], 400)
    fields["id"] = ident
    fields["created_at"] = fields.get("created_at") or ctx.clock.now()
    if fields["created_at"] > ctx.clock.now():
        fields["created_at"] = ctx.clock.now()
    issues: list[Issue] = []
    if table_name == "teams":
        organisation = fields.get("organisation_id") or ctx.session.scalar(
            select(ORGANISATIONS.c.id).order_by(ORGANISATIONS.c.created_at).limit(1)
        )
        if organisation is None or not ctx.session.scalar(
            select(ORGANISATIONS.c.id).where(ORGANISATIONS.c.id == organisation)
        ):
            issues.append(
                Issue(
                    "Organization.partOf",
                    "a team is part of the trust: create the trust's Organization first",
                    "not-found",
                )
            )
        fields["organisation_id"] = organisation
        clash = ctx.session.scalar(
            select(TEAMS.c.id).where(func.lower(TEAMS.c.name) == str(fields["name"]).lower(), TEAMS.c.id != ident)
        )
        if clash:
            issues.append(
                Issue(
                    "Organization.name",
                    f"another team is called {fields['name']!r} (Organization/{clash})",
                    "duplicate",
                )
            )
    if table_name == "organisations":
        clash = ctx.session.scalar(
            select(ORGANISATIONS.c.id).where(
                ORGANISATIONS.c.ods_code == fields["ods_code"], ORGANISATIONS.c.id != ident
            )
        )
        if clash:
            issues.append(
                Issue("Organization.identifier", f"ODS code {fields['ods_code']} is Organization/{clash}", "duplicate")
            )
    if (
        table_name == "staff"
        and fields.get("team_id")
        and not ctx.session.scalar(select(TEAMS.c.id).where(TEAMS.c.id == fields["team_id"]))
    ):
        issues.append(
            Issue(
                "Practitioner.extension", f"Organization/{fields['team_id']} is not a team of this trust", "not-found"
            )
        )
    if issues:
        raise Refused(issues, 422)
    existing = ctx.session.execute(select(table).where(table.c.id == ident)).mappings().first()
    if existing is None:
        ctx.session.execute(insert(table), [fields])
        audit.record(ctx, action="create", entity=table_name, entity_id=ident, detail=f"through FHIR {kind}")
        row = fields
    else:
        changes = {k: v for k, v in fields.items() if k not in ("id", "created_at") and existing[k] != v}
        if changes:
            ctx.session.execute(update(table).where(table.c.id == ident).values(**changes))
            audit.record(ctx, action="amend", entity=table_name, entity_id=ident, detail=", ".join(sorted(changes)))
        row = dict(existing) | changes
    maker = {"organisations": organisation_resource, "teams": team_resource, "staff": staff_resource}[table_name]
    return Written(maker(row), created=existing is None, changed=existing is None or bool(changes))


def bundle_of(resources: Iterable[Res], kind: str, total: int | None = None, links: list[Res] | None = None) -> Res:
    entries = [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    bundle: Res = {"resourceType": "Bundle", "type": kind}
    if total is not None:
        bundle["total"] = total
    if links:
        bundle["link"] = links
    bundle["entry"] = entries
    return bundle
