"""The extract schema: the small analytic schema every indicator is written against.

One schema, three sources: the trust's own database (``oversight.trustviews`` presents its bitemporal record this
way, as known at a moment), a provider's pseudonymised Parquet extract (``oversight.national``), and the national
synthetic population (``oversight.synth_national``). Indicators (``oversight.indicators``) read only these tables.

Conventions, chosen so that the same Ibis expression gives the same answer on SQLite, PostgreSQL, DuckDB and Spark:

- **Days are integers**: the number of days since 1970-01-01 of the London (Europe/London) calendar date on which
  something happened, as MHSDS records dates. Arithmetic on days is integer arithmetic everywhere; months come from
  the ``calendar`` table. No timestamps, no free text, no names, addresses or dates of birth leave a trust.
- **People are pseudonyms**: ``person`` is a keyed HMAC-SHA256 of the NHS number in an extract (the same person has
  the same pseudonym at every provider); inside the trust it is the record's own patient id.
- Every table but ``calendar`` carries ``provider``, the ODS code of the trust that submitted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

SCHEMA_VERSION = "1"
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # an Ibis type name: string, int64, boolean
    about: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    about: str
    columns: tuple[Column, ...]

    def ibis_schema(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}


def _c(name: str, type_: str, about: str) -> Column:
    return Column(name, type_, about)


PROVIDER = _c("provider", "string", "ODS code of the submitting trust")
PERSON = _c("person", "string", "the person's pseudonym")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "teams",
            "Teams and wards (organisational, not personal).",
            (
                PROVIDER,
                _c("team", "string", "team id"),
                _c("team_name", "string", "team name"),
                _c("pathway", "string", "eip, cmht, assertive_outreach, crisis, inpatient, liaison"),
            ),
        ),
        TableSpec(
            "staff",
            "Staff (pseudonymised) and their team and role: the clinicians an alert burden is shared by.",
            (
                PROVIDER,
                _c("staff", "string", "staff pseudonym"),
                _c("team", "string", "team id"),
                _c("role", "string", "key_worker, consultant, team_manager, safety_lead, administrator"),
            ),
        ),
        TableSpec(
            "people",
            "One row per person known to the provider.",
            (
                PERSON,
                PROVIDER,
                _c("age_band", "string", "age at the extract's moment: 0-17, 18-24, 25-34, ... 75+ (no birth date)"),
                _c("died_day", "int64", "day the person died, where an episode ended for that reason"),
            ),
        ),
        TableSpec(
            "referrals",
            "Referrals to a team (MHS101Referral).",
            (
                PERSON,
                PROVIDER,
                _c("referral", "string", "referral id"),
                _c("team", "string", "team referred to"),
                _c("referred_day", "int64", "day received"),
                _c("status", "string", "received, accepted, declined"),
            ),
        ),
        TableSpec(
            "episodes",
            "Episodes of care with a team (referral spells).",
            (
                PERSON,
                PROVIDER,
                _c("episode", "string", "episode id"),
                _c("team", "string", "team id"),
                _c("pathway", "string", "the team's pathway"),
                _c("start_day", "int64", "first day"),
                _c("end_day", "int64", "day discharged from the team, if it has ended"),
                _c("discharge_reason", "string", "recovered, non_attendance, disengaged, moved_away, ..."),
            ),
        ),
        TableSpec(
            "key_workers",
            "Key worker (care coordinator) allocations (MHS006MHCareCoord).",
            (
                PERSON,
                PROVIDER,
                _c("allocation", "string", "allocation id"),
                _c("episode", "string", "episode id"),
                _c("staff", "string", "staff pseudonym"),
                _c("start_day", "int64", "first day"),
                _c("end_day", "int64", "day it ended, if it has"),
            ),
        ),
        TableSpec(
            "contacts",
            "Care contacts and attempted contacts (MHS201CareContact).",
            (
                PERSON,
                PROVIDER,
                _c("contact", "string", "contact id"),
                _c("team", "string", "team id"),
                _c("staff", "string", "staff pseudonym, where known"),
                _c("day", "int64", "day of the contact"),
                _c("attend_code", "string", "MHSDS AttendOrDNACode: 5/6 attended, 7 late not seen, 3 DNA, 2, 4"),
                _c("direct", "boolean", "face to face, home visit, video or phone (not text)"),
            ),
        ),
        TableSpec(
            "admissions",
            "Inpatient stays (MHS501HospProvSpell).",
            (
                PERSON,
                PROVIDER,
                _c("admission", "string", "admission id"),
                _c("ward", "string", "ward (team) id"),
                _c("admitted_day", "int64", "day admitted"),
                _c("discharged_day", "int64", "day discharged, if discharged"),
                _c("adult_acute", "boolean", "an adult acute mental health bed (see docs/indicators.md)"),
                _c("legal_status", "string", "Mental Health Act legal status code on admission"),
            ),
        ),
        TableSpec(
            "depot_prescriptions",
            "Depot (long-acting injectable) prescriptions.",
            (
                PERSON,
                PROVIDER,
                _c("prescription", "string", "prescription id"),
                _c("team", "string", "prescribing team"),
                _c("start_day", "int64", "first day"),
                _c("stop_day", "int64", "day stopped, if stopped"),
                _c("interval_days", "int64", "days between doses"),
            ),
        ),
        TableSpec(
            "depot_doses",
            "Depot doses given or refused.",
            (
                PERSON,
                PROVIDER,
                _c("dose", "string", "dose id"),
                _c("prescription", "string", "prescription id"),
                _c("day", "int64", "day"),
                _c("given", "boolean", "given (true) or refused (false)"),
            ),
        ),
        TableSpec(
            "family_concerns",
            "Concerns raised by family or carers (no text).",
            (
                PERSON,
                PROVIDER,
                _c("concern", "string", "concern id"),
                _c("team", "string", "team told"),
                _c("raised_day", "int64", "day raised"),
            ),
        ),
        TableSpec(
            "concern_responses",
            "The team's recorded responses to family concerns (no text).",
            (
                PERSON,
                PROVIDER,
                _c("response", "string", "response id"),
                _c("concern", "string", "concern id"),
                _c("day", "int64", "day of the response"),
            ),
        ),
        TableSpec(
            "risk_reviews",
            "Risk assessments: whether they hold a formulation and a safety plan (no text).",
            (
                PERSON,
                PROVIDER,
                _c("review", "string", "assessment id"),
                _c("team", "string", "team id"),
                _c("day", "int64", "day"),
                _c("formulation", "boolean", "a formulation was written"),
                _c("safety_plan", "boolean", "a safety plan was made"),
            ),
        ),
        TableSpec(
            "care_plan_reviews",
            "Care plan reviews.",
            (
                PERSON,
                PROVIDER,
                _c("review", "string", "review id"),
                _c("team", "string", "team id"),
                _c("day", "int64", "day"),
            ),
        ),
        TableSpec(
            "tasks",
            "Tasks the safety net raised (workflow state, not part of the clinical record).",
            (
                PERSON,
                PROVIDER,
                _c("task", "string", "task id"),
                _c("team", "string", "team id"),
                _c("staff", "string", "owner's pseudonym, where a member of staff owns it"),
                _c("rule", "string", "rule id (SN01..SN19)"),
                _c("created_day", "int64", "day opened"),
                _c("due_day", "int64", "day due"),
                _c("closed_day", "int64", "day closed, if closed"),
            ),
        ),
        TableSpec(
            "calendar",
            "Days: their month, whether they are in the reporting period, and the next working day (England).",
            (
                _c("day", "int64", "day number"),
                _c("month", "string", "YYYY-MM"),
                _c("reporting", "boolean", "the day is in a reporting month"),
                _c("next_working_day", "int64", "the first working day after this day (bank holidays excluded)"),
            ),
        ),
    )
}

PERSON_TABLES = tuple(name for name, spec in TABLES.items() if spec.columns[0] is PERSON)
ID_COLUMNS = frozenset(
    {
        "person",
        "staff",
        "referral",
        "episode",
        "allocation",
        "contact",
        "admission",
        "prescription",
        "dose",
        "concern",
        "response",
        "review",
        "task",
    }
)
"""Columns that identify a person, a member of staff or a fact: pseudonymised (keyed HMAC) in an extract."""


def day_number(day: date) -> int:
    return (day - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=number)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(period: str) -> tuple[date, date]:
    """``YYYY-MM`` (one month) or ``YYYY-MM:YYYY-MM`` (a range): the first and last day covered."""
    first_text, _, last_text = period.partition(":")
    first = _month_start(first_text)
    last_start = _month_start(last_text or first_text)
    if last_start < first:
        raise ValueError(f"{period!r}: the range ends before it starts")
    return first, month_end(last_start)


def _month_start(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month (use YYYY-MM)") from None


def month_end(first: date) -> date:
    """The last day of ``first``'s month."""
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


CALENDAR_MARGIN_DAYS = 400
"""Days the calendar reaches beyond the reporting months, so that look-ups of up to ~13 months land in it."""


def calendar_rows(first: date, last: date) -> dict[str, list[object]]:
    """The ``calendar`` table for reporting months ``first``..``last`` (columns as lists)."""
    from safetynet.rules.calendar import next_working_day

    start = first - timedelta(days=CALENDAR_MARGIN_DAYS)
    stop = last + timedelta(days=CALENDAR_MARGIN_DAYS)
    columns: dict[str, list[object]] = {"day": [], "month": [], "reporting": [], "next_working_day": []}
    day = start
    while day <= stop:
        columns["day"].append(day_number(day))
        columns["month"].append(month_label(day))
        columns["reporting"].append(first <= day <= last)
        columns["next_working_day"].append(day_number(next_working_day(day)))
        day += timedelta(days=1)
    return columns


def calendar_arrow(first: date, last: date) -> object:
    import pyarrow as pa

    rows = calendar_rows(first, last)
    return pa.table(
        {
            "day": pa.array(rows["day"], pa.int64()),
            "month": pa.array(rows["month"], pa.string()),
            "reporting": pa.array(rows["reporting"], pa.bool_()),
            "next_working_day": pa.array(rows["next_working_day"], pa.int64()),
        }
    )


def arrow_schema(name: str) -> object:
    """The Parquet (Arrow) schema of an extract-schema table."""
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "boolean": pa.bool_()}
    return pa.schema([pa.field(c.name, types[c.type]) for c in TABLES[name].columns])
