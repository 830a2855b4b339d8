"""Record facts <-> FHIR R4 resources: one mapper per (record table, resource type), gathered here.

``docs/fhir.md`` is the table of what goes where and why."""

from __future__ import annotations

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping import carers, clinical, contacts, episodes, legal, medication, requests
from safetynet.interop.fhir.mapping.base import Issue, Mapper, Refused, Res, Row
from safetynet.record.registry import FACT_MODELS

MAPPERS: tuple[Mapper, ...] = (
    *episodes.MAPPERS,
    *contacts.MAPPERS,
    *legal.MAPPERS,
    *clinical.MAPPERS,
    *medication.MAPPERS,
    *carers.MAPPERS,
    *requests.MAPPERS,
)

BY_TABLE: dict[str, list[Mapper]] = {}
BY_RESOURCE: dict[str, list[Mapper]] = {}
for _m in MAPPERS:
    BY_TABLE.setdefault(_m.name, []).append(_m)
    BY_RESOURCE.setdefault(_m.resource, []).append(_m)

# Resources that are part of the record but not facts of one table: the person and the directory.
REFERENCE_TYPES = ("Organization", "Practitioner", "Patient")
# What Safetynet itself produces: readable and exportable, never written through FHIR.
PRODUCED_TYPES = ("Task", "DetectedIssue", "Consent", "AuditEvent")
WRITABLE_TYPES = (*REFERENCE_TYPES, *sorted(BY_RESOURCE))
READABLE_TYPES = tuple(sorted({*WRITABLE_TYPES, *PRODUCED_TYPES}))

missing = sorted(set(FACT_MODELS.values()) - {m.model for m in MAPPERS} - {FACT_MODELS["details"]}, key=str)
assert not missing, f"record tables without a FHIR mapping: {missing}"


def mapper_for_row(table: str, row: Row) -> Mapper:
    for mapper in BY_TABLE[table]:
        if mapper.rows(row):
            return mapper
    return BY_TABLE[table][0]


def mapper_for_resource(res: Res) -> Mapper:
    """Which record table a resource becomes: by its meta.tag where it has one, else by what it says."""
    kind = str(res.get("resourceType"))
    candidates = BY_RESOURCE.get(kind)
    if not candidates:
        raise Refused([Issue(kind, f"Safetynet does not record {kind} resources", "not-supported")], status=422)
    tags = (res.get("meta") or {}).get("tag") or []
    tables = {t.get("code") for t in tags if isinstance(t, dict) and t.get("system") == codes.RECORD_TABLE}
    for mapper in candidates:
        if mapper.name in tables:
            return mapper
    for mapper in candidates:
        if mapper.matches(res):
            return mapper
    raise Refused(
        [Issue(kind, f"this {kind} is none of the kinds Safetynet records ({', '.join(m.name for m in candidates)})")]
    )


__all__ = ["BY_RESOURCE", "BY_TABLE", "MAPPERS", "Issue", "Mapper", "Refused", "mapper_for_resource", "mapper_for_row"]
