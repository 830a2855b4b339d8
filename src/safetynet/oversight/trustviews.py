"""The trust's own database (SQLite or PostgreSQL) presented in the extract schema, through Ibis.

Each table is an Ibis expression over the bitemporal record as known at a moment: for every fact, its latest version
recorded by then (as ``core.facts.known_at``), leaving out facts whose latest version is entered in error. Times
become London calendar days (integers, see ``oversight.schema``) with integer arithmetic only, so the same
expressions compile for SQLite 3.40 (which cannot shift timestamps) and PostgreSQL. ``person`` is the record's
patient id here; ``oversight.national`` pseudonymises it when it writes an extract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from safetynet.oversight import schema

LONDON = ZoneInfo("Europe/London")
DEPOT = "depot"


def connect(url: str) -> Any:
    """An Ibis connection to the trust's database from a SQLAlchemy URL (sqlite:/// or postgresql+psycopg://)."""
    if url.startswith("sqlite:///"):
        return ibis.sqlite.connect(url.removeprefix("sqlite:///"))
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parts = make_url(url)
        return ibis.postgres.connect(
            host=parts.host or "localhost",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            database=parts.database,
        )
    raise ValueError(f"{url!r}: only SQLite and PostgreSQL databases are supported")


@cache
def _summer_time(first_year: int = 1990, last_year: int = 2060) -> tuple[tuple[int, int], ...]:
    """British Summer Time as UTC epoch-second spans [start, end)."""
    spans = []
    for year in range(first_year, last_year + 1):
        start = _last_sunday(year, 3)
        end = _last_sunday(year, 10)
        spans.append(
            (
                int(datetime.combine(start, time(1), tzinfo=UTC).timestamp()),
                int(datetime.combine(end, time(1), tzinfo=UTC).timestamp()),
            )
        )
    return tuple(spans)


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def london_day(moment: ir.TimestampValue) -> ir.IntegerValue:
    """The London calendar day (days since 1970-01-01) of a UTC timestamp column, in integer arithmetic."""
    seconds = moment.epoch_seconds().cast("int64")
    offset = ibis.cases(*(((seconds >= s) & (seconds < e), 3600) for s, e in _summer_time()), else_=0)
    return ((seconds + offset) // 86400).cast("int64")


class TrustViews:
    """The extract-schema tables of one trust's database, as known at ``at`` (None: now), for reporting months
    ``first``..``last``."""

    def __init__(self, con: Any, at: datetime | None, first: date, last: date) -> None:
        self.con = con
        self.at = at
        self.first = first
        self.last = last
        self.as_of = at.astimezone(LONDON).date() if at else last
        organisations = con.table("organisations").order_by("created_at").limit(1).to_pyarrow().to_pylist()
        if not organisations:
            raise ValueError("the database holds no organisation: nothing to extract")
        self.provider: str = organisations[0]["ods_code"]

    # -- the bitemporal record --------------------------------------------------------------------------------

    def current(self, name: str) -> ir.Table:
        """Facts of table ``name`` as known at ``at``: latest versions, entered-in-error facts left out."""
        table = self.con.table(name)
        if self.at is not None:
            table = table.filter(table.recorded_at <= ibis.timestamp(_naive_utc(self.at)))
        latest = table.version.max().over(ibis.window(group_by=table.fact_id))
        table = table.mutate(latest=latest)
        table = table.filter((table.version == table.latest) & ~table.entered_in_error)
        return table.drop("latest")

    def _provider(self) -> ir.StringValue:
        return ibis.literal(self.provider)

    def _team(self, column: ir.StringValue) -> ir.StringValue:
        return column.fill_null("unknown")

    def _known(self, column: ir.TimestampValue) -> ir.IntegerValue:
        """A day from a state-change time, hidden if it lies after ``at`` (a stop planned in the future)."""
        if self.at is None:
            return london_day(column)
        return ibis.ifelse(column <= ibis.timestamp(_naive_utc(self.at)), london_day(column), ibis.null("int64"))

    # -- the extract schema -----------------------------------------------------------------------------------

    def tables(self) -> dict[str, ir.Table]:
        """Every extract-schema table, cast to exactly the schema's (nullable) types and column order."""
        made = {}
        for name, spec in schema.TABLES.items():
            table = getattr(self, name)()
            made[name] = table.select(*[table[c.name].cast(c.type).name(c.name) for c in spec.columns])
        return made

    def materialise(self, prefix: str = "sn_extract_") -> dict[str, ir.Table]:
        """The extract-schema tables computed once into temporary tables of this connection (gone when it
        closes; the record itself is never written), so each indicator reads them instead of recomputing the
        views. SQLite cannot even parse all the views inlined into one indicator's query."""
        made = {}
        for name, table in self.tables().items():
            made[name] = self.con.create_table(f"{prefix}{name}", table, temp=True, overwrite=True)
        return made

    def teams(self) -> ir.Table:
        teams = self.con.table("teams")
        return teams.select(provider=self._provider(), team=teams.id, team_name=teams.name, pathway=teams.pathway)

    def staff(self) -> ir.Table:
        staff = self.con.table("staff")
        staff = staff.filter(staff.active)
        return staff.select(provider=self._provider(), staff=staff.id, team=self._team(staff.team_id), role=staff.role)

    def people(self) -> ir.Table:
        patients = self.con.table("patients")
        if self.at is not None:
            patients = patients.filter(patients.recorded_at <= ibis.timestamp(_naive_utc(self.at)))
        details = self.current("patient_details")
        details = details.select(d_patient=details.patient_id, born=details.born)
        episodes = self.current("episodes")
        deaths = episodes.filter(episodes.discharge_reason == "died")
        deaths = deaths.group_by(x_patient=deaths.patient_id).agg(died_day=self._known(deaths.ended_at).min())
        people = patients.left_join(details, patients.id == details.d_patient)
        people = people.left_join(deaths, people.id == deaths.x_patient)
        as_of = self.as_of
        age = (
            as_of.year
            - people.born.year()
            - ibis.ifelse(people.born.month() * 100 + people.born.day() > as_of.month * 100 + as_of.day, 1, 0)
        )
        return people.select(
            person=people.id, provider=self._provider(), age_band=_age_band(age), died_day=people.died_day
        )

    def referrals(self) -> ir.Table:
        t = self.current("referrals")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            referral=t.fact_id,
            team=self._team(t.team_id),
            referred_day=london_day(t.occurred_at),
            status=t.status,
        )

    def episodes(self) -> ir.Table:
        t = self.current("episodes")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            episode=t.fact_id,
            team=self._team(t.team_id),
            pathway=t.pathway,
            start_day=london_day(t.occurred_at),
            end_day=self._known(t.ended_at),
            discharge_reason=t.discharge_reason,
        )

    def key_workers(self) -> ir.Table:
        t = self.current("key_worker_allocations")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            allocation=t.fact_id,
            episode=t.episode_fact_id,
            staff=t.staff_id,
            start_day=london_day(t.occurred_at),
            end_day=self._known(t.ended_at),
        )

    def contacts(self) -> ir.Table:
        t = self.current("contacts")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            contact=t.fact_id,
            team=self._team(t.team_id),
            staff=t.staff_id,
            day=london_day(t.occurred_at),
            attend_code=t.attend_or_dna_code,
            direct=t.mode.isin(("face_to_face", "home_visit", "video", "phone")),
        )

    def admissions(self) -> ir.Table:
        t = self.current("admissions")
        teams = self.con.table("teams")
        wards = teams.select(w_id=teams.id, w_pathway=teams.pathway)
        t = t.left_join(wards, t.ward_id == wards.w_id)
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            admission=t.fact_id,
            ward=t.ward_id,
            admitted_day=london_day(t.occurred_at),
            discharged_day=self._known(t.discharged_at),
            adult_acute=(t.w_pathway == "inpatient").fill_null(False),
            legal_status=t.legal_status,
        )

    def depot_prescriptions(self) -> ir.Table:
        t = self.current("prescriptions")
        t = t.filter(t.route == DEPOT)
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            prescription=t.fact_id,
            team=self._team(t.team_id),
            start_day=london_day(t.occurred_at),
            stop_day=self._known(t.stopped_at),
            interval_days=t.interval_days.cast("int64"),
        )

    def depot_doses(self) -> ir.Table:
        t = self.current("depot_administrations")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            dose=t.fact_id,
            prescription=t.prescription_fact_id,
            day=london_day(t.occurred_at),
            given=t.outcome == "given",
        )

    def family_concerns(self) -> ir.Table:
        t = self.current("family_concerns")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            concern=t.fact_id,
            team=self._team(t.team_id),
            raised_day=london_day(t.occurred_at),
        )

    def concern_responses(self) -> ir.Table:
        t = self.current("family_concern_responses")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            response=t.fact_id,
            concern=t.concern_fact_id,
            day=london_day(t.occurred_at),
        )

    def risk_reviews(self) -> ir.Table:
        t = self.current("risk_assessments")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            review=t.fact_id,
            team=self._team(t.team_id),
            day=london_day(t.occurred_at),
            formulation=(t.formulation.notnull() & (t.formulation.length() > 0)).fill_null(False),
            safety_plan=t.safety_plan,
        )

    def care_plan_reviews(self) -> ir.Table:
        t = self.current("care_plan_reviews")
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            review=t.fact_id,
            team=self._team(t.team_id),
            day=london_day(t.occurred_at),
        )

    def tasks(self) -> ir.Table:
        t = self.con.table("tasks")
        if self.at is not None:
            t = t.filter(t.created_at <= ibis.timestamp(_naive_utc(self.at)))
        return t.select(
            person=t.patient_id,
            provider=self._provider(),
            task=t.id,
            team=self._team(t.team_id),
            staff=t.owner_staff_id,
            rule=t.rule_id,
            created_day=london_day(t.created_at),
            due_day=london_day(t.due_at),
            closed_day=self._known(t.closed_at),
        )

    def calendar(self) -> ir.Table:
        return ibis.memtable(schema.calendar_arrow(self.first, self.last))


AGE_BANDS = ((18, "0-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"), (75, "65-74"))


def _age_band(age: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*((age < upper, label) for upper, label in AGE_BANDS), else_="75+")


def _naive_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def end_of_month(last: date) -> datetime:
    """The last moment (London) of the day ``last``: the moment a monthly extract is as known at."""
    return datetime.combine(last, time(23, 59, 59), tzinfo=LONDON)


def views(url: str, at: datetime | None, first: date, last: date) -> tuple[Any, TrustViews]:
    con = connect(url)
    return con, TrustViews(con, at, first, last)


__all__ = ["TrustViews", "connect", "end_of_month", "london_day", "views"]
