"""A stochastic model of a synthetic NHS mental health trust and its patients' stories.

Pure: no database, no clock. ``plan_trust`` lays out teams, wards and staff; ``generate_stories`` tells each
person's story as events in the scenario vocabulary (scenarios.md), which the loader validates and writes into the
record. docs/synthetic-data.md describes the model and its sources; every rate is in ``model_tables``.

* Each person has an independent ``random.Random`` seeded from (seed, index), so any person, any prefix and any
  chunk of people can be generated alone, in parallel, and always comes out the same.
* Time is kept as integer minutes since 0001-01-01 in London wall time, and turned into datetimes once at the end.
  The hour 01:00-01:59 is never used, so no moment is ambiguous or missing when the clocks change.
* A life in the window is a loop of *stable* stretches (planned contacts, depot doses) broken by *destabilisation*:
  for psychosis and bipolar disorder mostly stopping medication (then non-adherence signals, family concern,
  police, crisis, admission, discharge, follow-up); for depression and EUPD a crisis (self-harm, A&E liaison, home
  treatment). Runs of missed contacts start disengagement, which sometimes ends in a discharge for non-attendance;
  people discharged to their GP may relapse unseen and may be re-referred.
* The record applies events in the order they were *recorded*; the model keeps every event valid in that order
  (a depot dose only under an active depot prescription, one admission at a time, one CTO at a time, and so on).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from safetynet.synth import model_tables as tables

LONDON = ZoneInfo("Europe/London")
DEFAULT_UNTIL: date = date(2026, 10, 31)

PATHWAYS = ("eip", "cmht", "assertive_outreach", "crisis", "inpatient", "liaison")
ROLES = ("key_worker", "consultant", "team_manager", "safety_lead", "administrator")

DAY = 1440
HOUR = 60
NEVER = 1 << 62  # later than any story

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TeamPlan:
    name: str
    pathway: str  # eip | cmht | assertive_outreach | crisis | inpatient | liaison


@dataclass(frozen=True, slots=True)
class StaffPlan:
    name: str
    role: str  # key_worker | consultant | team_manager | safety_lead | administrator
    team: str


@dataclass(frozen=True, slots=True)
class TrustPlan:
    name: str
    ods_code: str
    teams: tuple[TeamPlan, ...]
    staff: tuple[StaffPlan, ...]


@dataclass(frozen=True, slots=True)
class PersonStory:
    patient: dict[str, object]
    events: list[dict[str, object]]


# --- names and identifiers ------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _name_pools(seed: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Male first names, female first names and surnames, drawn once from a seeded en_GB Faker."""
    from faker import Faker  # slow to import, and needed once per seed

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    male = tuple(dict.fromkeys(fake.first_name_male() for _ in range(4000)))
    female = tuple(dict.fromkeys(fake.first_name_female() for _ in range(4000)))
    last = tuple(dict.fromkeys(fake.last_name() for _ in range(6000)))
    return male, female, last


def _check_digit(body: int) -> int:
    """Modulus 11 check digit of a 9-digit NHS number body; 10 means the body cannot be used."""
    total = 0
    for weight in range(2, 11):
        body, digit = divmod(body, 10)
        total += digit * weight
    check = 11 - total % 11
    return 0 if check == 11 else check


def nhs_number_for(seed: int, index: int) -> str:
    """A valid NHS number in the synthetic range (9xxxxxxxxx), different for every index of a seed.

    For an 8-digit stem at most one ninth digit gives check digit 10 (2 is invertible mod 11), so every stem
    yields at least nine numbers. Stems are a keyed permutation of 10**7 blocks, so index -> number is one-to-one
    for the first 90 million people.
    """
    block, slot = divmod(index, 9)
    stem = 90_000_000 + (block * 7_654_321 + seed * 2_654_435_761) % 10_000_000
    usable = [d for d in range(10) if _check_digit(stem * 10 + d) != 10]
    body = stem * 10 + usable[slot]
    return f"{body}{_check_digit(body)}"


class _Choice:
    """A weighted choice with its cumulative weights worked out once (for choices made per contact)."""

    __slots__ = ("cumulative", "items")

    def __init__(self, table: Sequence[tuple[str, float]]) -> None:
        self.items = tuple(item for item, _ in table)
        total, running = sum(w for _, w in table), 0.0
        cumulative = []
        for _, weight in table:
            running += weight / total
            cumulative.append(running)
        self.cumulative = tuple(cumulative)

    def pick(self, rng: random.Random) -> str:
        r = rng.random()
        for item, edge in zip(self.items, self.cumulative, strict=True):
            if r < edge:
                return item
        return self.items[-1]


def _weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    r = rng.random() * sum(w for _, w in table)
    for item, weight in table:
        r -= weight
        if r < 0:
            return item
    return table[-1][0]


# --- the trust ------------------------------------------------------------------------------------------------

# People open to each kind of team on an average day, per person generated, and occupied beds per person;
# measured from the model (seed 1, 20,000 people) and used only to size teams and wards.
_OPEN_SHARE = {"eip": 0.056, "cmht": 0.34, "assertive_outreach": 0.025, "crisis": 0.009}
_BEDS_PER_PERSON = 0.0095
_BEDS_PER_WARD = 18
_CRISIS_CASELOAD = 8.0  # home treatment: a handful of people each, seen daily


def _team_names(base: str, count: int, areas: Sequence[str]) -> list[str]:
    return [base] if count == 1 else [f"{base} {areas[i]}" for i in range(count)]


PEOPLE_PER_CMHT = 400


def plan_trust(*, seed: int, patients: int, people_per_cmht: int = PEOPLE_PER_CMHT) -> TrustPlan:
    """Teams, wards and staff of a fictional trust sized for ``patients`` people.

    ``people_per_cmht`` sets how many CMHTs the trust has (one per that many people, at least two): about a third of
    them are open to a CMHT on an average day, so the default gives CMHTs of about 140 open people; trusts whose
    CMHTs serve whole towns run teams of 500 and more, which the web benchmark needs.
    """
    if people_per_cmht < 1:
        raise ValueError("people_per_cmht must be at least 1")
    rng = random.Random(f"safetynet-synth-trust:{seed}")  # noqa: S311 (reproducible, not secret)
    localities = list(tables.LOCALITIES)
    rng.shuffle(localities)
    counts = {
        "eip": max(1, round(patients / 3000)),
        "cmht": max(2, round(patients / people_per_cmht)),
        "assertive_outreach": max(1, round(patients / 6000)),
        "crisis": max(1, round(patients / 5000)),
        "liaison": max(1, round(patients / 10000)),
    }
    n_wards = max(2, math.ceil(patients * _BEDS_PER_PERSON / _BEDS_PER_WARD))

    def areas(count: int) -> Sequence[str]:
        return tables.COMPASS if count <= len(tables.COMPASS) else localities

    def ward(i: int) -> str:
        base = tables.WARD_NAMES[i % len(tables.WARD_NAMES)]
        laps = i // len(tables.WARD_NAMES)
        return f"{base} Ward" if laps == 0 else f"{base} {laps + 1} Ward"

    bases = {
        "eip": "EIP",
        "cmht": "CMHT",
        "assertive_outreach": "Assertive Outreach",
        "crisis": "Crisis Team",
        "liaison": "Liaison Psychiatry",
    }
    teams: list[TeamPlan] = []
    for pathway in ("eip", "cmht", "assertive_outreach", "crisis"):
        teams += [TeamPlan(n, pathway) for n in _team_names(bases[pathway], counts[pathway], areas(counts[pathway]))]
    teams += [TeamPlan(ward(i), "inpatient") for i in range(n_wards)]
    teams += [
        TeamPlan(n, "liaison") for n in _team_names(bases["liaison"], counts["liaison"], areas(counts["liaison"]))
    ]

    caseload = {
        "eip": tables.CASELOAD_EIP.value,
        "cmht": tables.CASELOAD_CMHT.value,
        "assertive_outreach": tables.CASELOAD_AO.value,
        "crisis": _CRISIS_CASELOAD,
    }
    male, female, last = _name_pools(seed)
    used: set[str] = set()

    def staff_name() -> str:
        while True:
            name = f"{rng.choice(male if rng.random() < 0.35 else female)} {rng.choice(last)}"
            if name not in used:
                used.add(name)
                return name

    staff: list[StaffPlan] = []
    for team in teams:
        staff += [StaffPlan(staff_name(), role, team.name) for role in ("consultant", "team_manager", "administrator")]
        if team.pathway in caseload:
            open_people = patients * _OPEN_SHARE[team.pathway] / counts[team.pathway]
            workers = max(2, math.ceil(open_people / caseload[team.pathway]))
        else:
            workers = 3 if team.pathway == "liaison" else 4  # ward nurses, liaison practitioners
        staff += [StaffPlan(staff_name(), "key_worker", team.name) for _ in range(workers)]
    # The safety lead is trust-wide, but a StaffPlan needs a team: she sits with the first CMHT.
    staff.append(StaffPlan(staff_name(), "safety_lead", next(t.name for t in teams if t.pathway == "cmht")))

    first, second = rng.sample(localities[:40], 2)
    return TrustPlan(
        name=f"{first} and {second} Mental Health NHS Foundation Trust",
        ods_code=f"R9{rng.choice('ABCDEFGHJKLMNPQRSTUVWXY')}",
        teams=tuple(teams),
        staff=tuple(staff),
    )


@lru_cache(maxsize=4)
def _bank_holidays(first_year: int, last_year: int) -> frozenset[int]:
    import holidays  # slow to import; needed once

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return frozenset(d.toordinal() for d in days)


class _Trust:
    """What every story needs from the plan, indexed once per run."""

    def __init__(self, trust: TrustPlan, *, seed: int, until: date, years: int) -> None:
        self.seed = seed
        by_pathway: dict[str, list[str]] = {p: [] for p in PATHWAYS}
        for team in trust.teams:
            by_pathway[team.pathway].append(team.name)
        missing = [p for p in PATHWAYS if not by_pathway[p]]
        if missing:
            raise ValueError(f"the trust has no team for: {', '.join(missing)}")
        self.eip, self.cmht = by_pathway["eip"], by_pathway["cmht"]
        self.ao, self.crisis = by_pathway["assertive_outreach"], by_pathway["crisis"]
        self.wards, self.liaison = by_pathway["inpatient"], by_pathway["liaison"]
        roles: dict[tuple[str, str], list[str]] = {}
        for member in trust.staff:
            roles.setdefault((member.team, member.role), []).append(member.name)
        self.key_workers: dict[str, tuple[str, ...]] = {}
        self.consultant: dict[str, str] = {}
        self.manager: dict[str, str] = {}
        self.admin: dict[str, str] = {}
        for team in trust.teams:
            consultant = roles.get((team.name, "consultant"), [])
            manager = roles.get((team.name, "team_manager"), [])
            senior = consultant + manager
            if not senior:
                raise ValueError(f"team {team.name} has neither a consultant nor a team manager")
            self.key_workers[team.name] = tuple(roles.get((team.name, "key_worker"), senior))
            self.consultant[team.name] = senior[0]
            self.manager[team.name] = (manager or consultant)[0]
            self.admin[team.name] = roles.get((team.name, "administrator"), [self.manager[team.name]])[0]
        self.male, self.female, self.last = _name_pools(seed)
        key = seed * 7919 % 100_000
        self.practices = tuple(f"Y{(i * 38_677 + key) % 100_000:05d}" for i in range(max(5, 2 * len(self.cmht))))
        try:
            start = until.replace(year=until.year - years)
        except ValueError:  # 29 February
            start = until.replace(year=until.year - years, day=28)
        self.window_start = start.toordinal() * DAY
        self.end = (until.toordinal() + 1) * DAY - 1  # the last minute of ``until``
        self.holidays = _bank_holidays(start.year - 12, until.year + 1)
        self._ymd: dict[int, tuple[int, int, int]] = {}
        # For each day from 12 years before the window to a year after it, the first working day on or after it.
        self.first_day = date(start.year - 12, 1, 1).toordinal()
        days = range(self.first_day, date(until.year + 2, 1, 1).toordinal())
        self.next_workday = [self._next_workday(d) for d in days]

    def is_workday(self, day: int) -> bool:
        return (day - 1) % 7 < 5 and day not in self.holidays

    def _next_workday(self, day: int) -> int:
        while (day - 1) % 7 >= 5 or day in self.holidays:
            day += 1
        return day

    def workday_on_or_after(self, day: int) -> int:
        i = day - self.first_day
        return self.next_workday[i] if 0 <= i < len(self.next_workday) else self._next_workday(day)

    def datetime(self, t: int) -> datetime:
        """London wall time; 01:00-01:59 (ambiguous or missing when the clocks change) becomes 02:00, a
        monotone squash, so every ordering between events survives it."""
        day, minute = divmod(t, DAY)
        if 60 <= minute < 120:
            minute = 120
        ymd = self._ymd.get(day)
        if ymd is None:
            d = date.fromordinal(day)
            ymd = self._ymd[day] = (d.year, d.month, d.day)
        return datetime(ymd[0], ymd[1], ymd[2], minute // 60, minute % 60, tzinfo=LONDON)

    def local(self, teams: list[str], cmht_index: int) -> str:
        """The team of a kind that covers the locality of a CMHT."""
        return teams[cmht_index * len(teams) // len(self.cmht)]


# --- one person's life ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Episode:
    team: str
    pathway: str
    start: int
    planned_end: int = NEVER
    transfer_to: tuple[str, str] | None = None  # (team, pathway) of a planned transfer
    allocations: list[list[Any]] = field(default_factory=list)  # [from, to, staff]
    interval: float = 21.0
    workflow: bool = False  # a disengagement workflow is under way
    ra_times: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Medication:
    drug: str
    route: str  # oral | depot
    dose: str
    interval: int = 0
    next_due: int = 0
    last: int = 0  # the latest start, dose or refusal under this prescription
    started: int = 0


def _oral(drug_and_dose: tuple[str, str]) -> _Medication:
    return _Medication(drug_and_dose[0], "oral", drug_and_dose[1])


_MODES = _Choice((("home_visit", 0.38), ("face_to_face", 0.36), ("phone", 0.19), ("video", 0.07)))
_MODES_AO = _Choice((("home_visit", 0.7), ("face_to_face", 0.15), ("phone", 0.15)))
_INTERVAL = {
    "eip": tables.CONTACT_EIP.value,
    "cmht": tables.CONTACT_CMHT.value,
    "assertive_outreach": tables.CONTACT_AO.value,
}
_DISCHARGE_DNA = {
    "eip": tables.DISCHARGE_DNA_EIP.value,
    "cmht": tables.DISCHARGE_DNA_CMHT.value,
    "assertive_outreach": tables.DISCHARGE_DNA_AO.value,
}
_FORMULATION = {
    "psychosis": "Relapses follow stopping antipsychotic medication; early signs are poor sleep, withdrawal and"
    " suspiciousness",
    "bipolar": "Relapses into mania after stopping mood stabiliser or losing sleep",
    "mood": "Low mood with hopelessness at times of loss; protective factors are family and work",
    "pd": "Self-harm at times of interpersonal crisis; responds to consistent, planned contact",
    "other": "Distress linked to current stressors; no psychotic features",
}
_PSYCHOTIC = ("psychosis", "bipolar")
# Per-contact probabilities, read once (the contact loop runs some 40 million times for 100,000 people).
_P_DISENGAGE = tables.DISENGAGE.value
_P_REENGAGE = tables.REENGAGE.value
_P_DNA_DISENGAGED = tables.DNA_DISENGAGED.value
_P_CANCEL = tables.CANCEL_PATIENT.value
_P_CANCEL2 = tables.CANCEL_PATIENT.value + tables.CANCEL_PROVIDER.value
_P_BOOKED = tables.BOOKED.value


class _Life:
    """One person, simulated from (seed, index); ``story()`` returns the finished story."""

    def __init__(self, ctx: _Trust, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = random.Random(f"safetynet-synth:{ctx.seed}:{index}")  # noqa: S311 (reproducible, not secret)
        self.random = self.rng.random  # bound once: called for nearly every event
        self.first_day, self.next_workday, self.workdays = ctx.first_day, ctx.next_workday, len(ctx.next_workday)
        self.events: list[Event] = []
        self.risk_events: list[Event] = []
        self.triggers: list[tuple[int, str]] = []  # (recorded, kind) of what should prompt a risk review
        self.refusals: list[int] = []  # depot refusals and non-adherence reports
        self.capacity_asked: list[int] = []
        self.admissions: list[tuple[int, str, bool]] = []  # (at, legal status, non-adherence before it)
        self.open_eps: list[_Episode] = []
        self.busy: dict[str, int] = {}  # team -> its latest contact, which an episode end must not precede
        self.med: _Medication | None = None  # the regular medication, while prescribed
        self.stop_at = NEVER  # when the person covertly stops it
        self.destab_at = NEVER  # first sign of the next relapse or crisis
        self.relapse_at = NEVER  # its peak
        self.nonadherent_cycle = False
        self.engaged = True
        self.missed = 0
        self.cto_until = 0
        self.cto_pending: list[Event] = []  # future CTO events, withdrawn if the CTO ends early
        self.carer: str | None = None
        self.carer_relationship = ""
        self.carer_consent = False
        self.carer_registered = False
        self.diagnosed = False
        self.decided_depot = False
        self.last_discharge_dna = False
        self.last_cpr = 0
        self.first_eip_start = NEVER
        self.unseen_until = 0  # after a discharge whose 72-hour follow-up is missed

    # -- small helpers -------------------------------------------------------------------------------------------

    def add(self, event: Event) -> Event:
        self.events.append(event)
        if event["type"] == "contact" and event["at"] > self.busy.get(event["team"], 0):
            self.busy[event["team"]] = event["at"]
        return event

    def clinic_time(self, day: int) -> int:
        """A quarter-hour slot from 09:00 to 16:45 on the first working day on or after ``day``."""
        i = day - self.first_day
        workday = self.next_workday[i] if 0 <= i < self.workdays else self.ctx.workday_on_or_after(day)
        return workday * DAY + 540 + 15 * int(self.random() * 32)

    def any_time(self, day: int) -> int:
        """Any minute of the day except 01:00-01:59."""
        minute = int(self.rng.random() * 1380)
        return day * DAY + (minute + 60 if minute >= 60 else minute)

    def later(self, t: int, minutes: float) -> int:
        """``t`` moved by ``minutes``, stepping over 01:00-01:59."""
        out = t + int(minutes)
        return out + 60 if 60 <= out % DAY < 120 else out

    def between(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high`` inclusive (``randint``, at a fraction of its cost)."""
        return low + int(self.random() * (high - low + 1))

    def days(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def worker(self, ep: _Episode, t: int) -> str:
        """The key worker at ``t``, or a duty worker from the team when there is none."""
        for start, end, staff in ep.allocations:
            if start <= t < end:
                return str(staff)
        return self.rng.choice(self.ctx.key_workers[ep.team])

    # -- the person ----------------------------------------------------------------------------------------------

    def story(self) -> PersonStory:
        ctx, rng = self.ctx, self.rng
        entry = _weighted(
            rng,
            (
                ("eip", tables.ENTRY_EIP.value),
                ("cmht", tables.ENTRY_CMHT.value),
                ("assertive_outreach", tables.ENTRY_AO.value),
                ("crisis", tables.ENTRY_CRISIS.value),
                ("liaison", tables.ENTRY_LIAISON.value),
            ),
        )
        self.entry: str = entry
        self.diagnosis: tables.Diagnosis = _weighted(rng, tables.DIAGNOSES[entry])
        self.group = self.diagnosis[2]
        self.cmht_index = rng.randrange(len(ctx.cmht))
        self.home_team, self.home_pathway = ctx.cmht[self.cmht_index], "cmht"
        if entry == "eip":
            self.home_team, self.home_pathway = ctx.local(ctx.eip, self.cmht_index), "eip"
        elif entry == "assertive_outreach":
            self.home_team, self.home_pathway = ctx.local(ctx.ao, self.cmht_index), "assertive_outreach"
        self.patient = self._demographics()
        psychotic = self.group in _PSYCHOTIC
        self.poor_adherence = psychotic and rng.random() < tables.POOR_ADHERENCE.value
        mean_dna = tables.DNA_ENGAGED.value * (2 if entry == "assertive_outreach" else 1)
        self.p_dna = rng.betavariate(1.3, 1.3 / mean_dna - 1.3)
        male_factor = 1.3 if self.sex == "male" else 0.5
        self.violent = self.group == "psychosis" and rng.random() < tables.VIOLENCE_PRONE.value * male_factor
        self.substance = rng.random() < (0.3 if psychotic else 0.12)
        if rng.random() < (tables.CARER_PSYCHOSIS.value if psychotic else tables.CARER_OTHER.value):
            self._choose_carer()
        self._live()
        return self._finish()

    def _demographics(self) -> dict[str, object]:
        ctx, rng = self.ctx, self.rng
        p_male = {"psychosis": 0.62, "bipolar": 0.45, "pd": 0.25}.get(self.group, 0.42)
        r = rng.random()
        sex = "other" if r < 0.004 else "unknown" if r < 0.007 else "male" if rng.random() < p_male else "female"
        self.sex = sex
        if self.entry == "eip":
            age = 16 + rng.betavariate(2, 5) * 40
        elif self.entry == "assertive_outreach":
            age = 22 + rng.betavariate(2, 3) * 40
        else:
            age = 18 + rng.betavariate(2, 3.2) * 62
        self.age = age
        born = date.fromordinal(ctx.window_start // DAY - int(age * 365.25) + rng.randrange(365))
        male_name = sex == "male" or (sex != "female" and rng.random() < 0.5)
        first = rng.choice(ctx.male if male_name else ctx.female)
        self.surname = rng.choice(ctx.last)
        return {
            "nhs_number": nhs_number_for(ctx.seed, self.index),
            "name": f"{first} {self.surname}",
            "born": born,
            "sex": sex,
            "gp_practice": rng.choice(ctx.practices),
        }

    def _choose_carer(self) -> None:
        ctx, rng = self.ctx, self.rng
        relationship = _weighted(rng, [(rel, w) for rel, _, w in tables.RELATIONSHIPS])
        if relationship in ("son", "daughter") and self.age < 38:
            relationship = "mother"
        sex = next(s for rel, s, _ in tables.RELATIONSHIPS if rel == relationship)
        if sex == "any":
            sex = "f" if rng.random() < 0.6 else "m"
        first = rng.choice(ctx.female if sex == "f" else ctx.male)
        same_surname = relationship not in ("partner", "friend") and rng.random() < 0.85
        self.carer = f"{first} {self.surname if same_surname else rng.choice(ctx.last)}"
        self.carer_relationship = relationship
        self.carer_consent = rng.random() < tables.CARER_CONSENT.value

    # -- the life loop -------------------------------------------------------------------------------------------

    def _live(self) -> None:
        ctx, rng = self.ctx, self.rng
        end = ctx.end
        prevalent = self.entry in ("eip", "cmht", "assertive_outreach") and rng.random() < tables.PREVALENT.value
        ep: _Episode | None
        if prevalent:
            t = ctx.window_start
            ep = self._open_prevalent()
            self._start_medication(ep, t, history=True)
            # Start the relapse clock in the past, so that some people are mid-cycle when the window opens.
            self._schedule_destabilisation(t - int(rng.uniform(0, 3 * 365)) * DAY)
            while self.relapse_at < t + DAY:
                self._schedule_destabilisation(self.relapse_at + 30 * DAY)
        else:
            t = ctx.window_start + rng.randrange(end - 14 * DAY - ctx.window_start)
            if self.entry in ("crisis", "liaison"):
                t, ep = self._first_contact_in_crisis(t)
            else:
                ep = self._refer(self.home_team, self.home_pathway, t)
                t = ep.start
                self._start_medication(ep, self.clinic_time(t // DAY + int(self.days(21, 0.5))), history=False)
        if self.destab_at == NEVER:
            self._schedule_destabilisation(t)
        years_left = min(rng.expovariate(tables.MOVED_AWAY.value), rng.expovariate(tables.DIED.value))
        exit_at = self.clinic_time(t // DAY + int(years_left * 365)) if years_left < 100 else NEVER
        exit_reason = "moved_away" if rng.random() < 0.72 else "died"
        while t < end:
            if ep is not None:
                t = max(t, ep.start)  # a new episode may start after a wait
                # Whichever comes first: the next relapse, the planned end of the episode, leaving, the window end.
                fire = min(self.destab_at, ep.planned_end, exit_at, end)
                stop = max(t, fire)
                closed = self._stable(ep, t, stop)
                if closed is not None:
                    t, ep = closed, None
                    continue
                t = stop
                if fire == end:
                    break
                if fire == exit_at:
                    self._close(ep, t, exit_reason, "none")
                    return
                if fire == ep.planned_end:
                    ep = self._planned_end(ep, t)
                    continue
                t, ep = self._destabilise(ep, t)
                if ep is not None and ep.planned_end < t + 42 * DAY:  # nobody is discharged straight after a crisis
                    ep.planned_end = self.clinic_time(t // DAY + self.between(42, 120))
                continue
            p = tables.REREFERRAL.value if self.last_discharge_dna else tables.REREFERRAL_OTHER.value
            reref = self.later(t, self.days(150, 0.6) * DAY) if rng.random() < p else NEVER
            fire = min(self.destab_at, reref, exit_at)
            if fire >= end or fire == exit_at:
                return
            t = max(t + DAY, fire)
            if fire == reref:
                self._home_after(t)
                ep = self._refer(self.home_team, self.home_pathway, t)
                t = ep.start
                if self.med is None:
                    self._start_medication(ep, self.later(t, 14 * DAY), history=False)
                continue
            t, ep = self._destabilise(None, t)

    def _home_after(self, t: int) -> None:
        """After the EIP years, people come back to their CMHT."""
        if self.home_pathway == "eip" and t > self.first_eip_start + 900 * DAY:
            self.home_team, self.home_pathway = self.ctx.cmht[self.cmht_index], "cmht"

    # -- referrals and episodes ----------------------------------------------------------------------------------

    def _refer(self, team: str, pathway: str, t: int, *, wait: float | None = None) -> _Episode:
        """An accepted referral, perhaps a wait, and the start of the episode."""
        rng = self.rng
        self.add({"at": t, "type": "referral_accepted", "team": team})
        if wait is None:
            if pathway == "eip":
                wait = self.days(tables.EIP_WAIT.value, 0.7)
            elif pathway == "cmht":
                wait = self.days(tables.CMHT_WAIT.value, 0.8)
            elif pathway == "assertive_outreach":
                wait = self.days(14, 0.5)
            else:
                wait = 0.0
        if wait > 10 and rng.random() < tables.TRIAGE_SAFETY_PLAN.value:
            self._assessment(self.clinic_time(t // DAY + self.between(1, 7)), team, self.ctx.manager[team], triage=True)
        start = self.clinic_time(t // DAY + int(wait)) if wait >= 1 else self.later(t, 30)
        return self._open(team, pathway, max(start, t + 30))

    def _open(self, team: str, pathway: str, start: int) -> _Episode:
        ctx, rng = self.ctx, self.rng
        ep = _Episode(team=team, pathway=pathway, start=start, interval=_INTERVAL.get(pathway, 1.0))
        self.add({"at": start, "type": "episode_start", "team": team, "pathway": pathway})
        self.open_eps.append(ep)
        # Key worker allocations over the episode, including changes of key worker, drawn up front; allocation
        # happens in working hours, except by the crisis team, which allocates as it takes someone on.
        r = rng.random()
        if pathway == "liaison" or (pathway != "crisis" and r < tables.KW_NEVER.value):
            delay = None  # liaison sees and discharges within a day or two; some episodes never get one
        elif pathway == "crisis":
            delay = 0
        elif r < tables.KW_NEVER.value + tables.KW_LATE.value:
            delay = self.between(8, 60)
        else:
            delay = self.between(1, 5) if rng.random() < 0.4 else 0
        if delay is not None:
            at = max(start, self.clinic_time(start // DAY + delay)) if delay else start
            while at < ctx.end:
                tenure_days = 1 + int(rng.expovariate(tables.KW_TURNOVER.value) * 365)
                until = self.clinic_time(at // DAY + tenure_days)
                ep.allocations.append([at, until, rng.choice(ctx.key_workers[team])])
                gap = self.between(0, 14) if rng.random() < 0.9 else self.between(15, 60)
                at = self.clinic_time(until // DAY + gap) if gap else until
        # Lengths are exponential, so for someone already on the caseload the rest runs from the window start.
        from_day = max(start, ctx.window_start) // DAY
        if pathway == "eip":
            self.first_eip_start = min(self.first_eip_start, start)
            years = int(tables.EIP_YEARS.value * 365)
            ep.planned_end = self.clinic_time(max(start // DAY + 90, self.first_eip_start // DAY + years))
            if rng.random() < 0.6:
                ep.transfer_to = (ctx.cmht[self.cmht_index], "cmht")
        elif pathway == "assertive_outreach":
            ep.planned_end = self.clinic_time(from_day + int(rng.expovariate(1 / 4) * 365))
            ep.transfer_to = (ctx.cmht[self.cmht_index], "cmht")
        elif pathway == "cmht":
            mean = 6 * 365 if self.group in _PSYCHOTIC else tables.RECOVERED_MOOD.value
            ep.planned_end = self.clinic_time(from_day + int(rng.expovariate(1 / mean)) + 30)
        if not self.diagnosed and pathway != "crisis":
            self._diagnose(ep)
        if self.carer and not self.carer_registered and pathway != "liaison" and rng.random() < 0.8:
            self.carer_registered = True
            self.add(
                {
                    "at": self.clinic_time(start // DAY + rng.randrange(60)),
                    "type": "carer_registered",
                    "team": team,
                    "name": self.carer,
                    "relationship": self.carer_relationship,
                    "consent_to_share": self.carer_consent,
                }
            )
        return ep

    def _diagnose(self, ep: _Episode) -> None:
        rng = self.rng
        self.diagnosed = True
        at = self.clinic_time(ep.start // DAY + rng.randrange(28)) if ep.pathway != "liaison" else ep.start + HOUR
        code, display, _ = self.diagnosis
        by = self.ctx.consultant[ep.team]
        self.add(
            {
                "at": at,
                "type": "diagnosis",
                "team": ep.team,
                "by": by,
                "code": code,
                "system": "icd10",
                "display": display,
            }
        )
        if code in tables.PROVISIONAL_PSYCHOSIS and rng.random() < 0.4:  # firmed up after months in EIP
            self.diagnosis = tables.FIRMED_UP
            code, display, _ = tables.FIRMED_UP
            later = self.clinic_time(at // DAY + rng.randrange(120, 400))
            self.add(
                {
                    "at": later,
                    "type": "diagnosis",
                    "team": ep.team,
                    "by": by,
                    "code": code,
                    "system": "icd10",
                    "display": display,
                }
            )

    def _open_prevalent(self) -> _Episode:
        """Someone already on the caseload: a backdated opening, some history, and the state just before."""
        ctx, rng = self.ctx, self.rng
        ws = ctx.window_start
        years = rng.uniform(0.1, 2.6 if self.entry == "eip" else 6.0)
        start_day = ws // DAY - int(years * 365)
        referral = self.clinic_time(start_day - int(self.days(21, 0.6)))
        ep = self._refer(self.home_team, self.home_pathway, referral, wait=start_day - referral // DAY)
        # Earlier admissions and risk events are already in the record (recorded when they happened).
        if self.group in _PSYCHOTIC and years > 1.5 and rng.random() < 0.45:
            earliest = ep.start + 30 * DAY
            for _ in range(1 + (rng.random() < 0.35)):
                room = (ws - 60 * DAY - earliest) // DAY
                if room < 30:
                    break
                adm = self.any_time(earliest // DAY + rng.randrange(room))
                legal = _weighted(rng, (("01", 0.35), ("02", 0.3), ("03", 0.35)))
                ward = rng.choice(ctx.wards)
                dis = min(self.clinic_time(adm // DAY + int(self.days(30, 0.5)) + 1), ws - 20 * DAY)
                self.add({"at": adm, "type": "admission", "ward": ward, "legal_status": legal})
                dis = max(dis, adm + DAY)
                self.add({"at": dis, "type": "inpatient_discharge", "ward": ward})
                follow = self.later(dis, rng.uniform(3, 70 if rng.random() < 0.8 else 240) * HOUR)
                self.add(self._contact(follow, ep.team, "attended", "home_visit", self.worker(ep, follow)))
                self.admissions.append((adm, legal, rng.random() < 0.6))
                earliest = max(dis, adm + DAY) + 30 * DAY
        if self.violent and years > 0.5 and rng.random() < 0.7:
            at = self.any_time(ep.start // DAY + rng.randrange(1, int(years * 365)))
            self._risk(at, "violence_to_others", "minor", "record", "Assaulted a family member when unwell", ep.team)
        if self.group == "pd" and rng.random() < 0.7:
            at = self.any_time(ep.start // DAY + rng.randrange(1, max(2, int(years * 365))))
            self._risk(at, "self_harm", "minor", "self", "Cut forearm after an argument", ep.team)
        last_contact = self.clinic_time(ws // DAY - rng.randrange(3, 25))
        if last_contact > ep.start:
            by = self.worker(ep, last_contact)
            self.add(self._contact(last_contact, ep.team, "attended", "face_to_face", by))
        ra = self.clinic_time(ws // DAY - rng.randrange(175))
        if ra > ep.start:
            self._assessment(ra, ep.team, self.worker(ep, ra), episode=ep)
        cpr = self.clinic_time(ws // DAY - rng.randrange(330))
        if cpr > ep.start:
            self._care_plan_review(cpr, ep)
            self.last_cpr = cpr
        return ep

    def _planned_end(self, ep: _Episode, t: int) -> _Episode | None:
        """The end of an episode's expected length: a transfer, or a planned discharge to the GP."""
        when = t if t == ep.planned_end else self.clinic_time(t // DAY + 1)  # planned ends are clinic times
        if ep.transfer_to is not None:
            team, pathway = ep.transfer_to
            self._close(ep, when, "transferred", "other_team")
            self.home_team, self.home_pathway = team, pathway
            return self._refer(team, pathway, when, wait=self.rng.uniform(0, 10))
        if ep.pathway == "eip":
            self.home_team, self.home_pathway = self.ctx.cmht[self.cmht_index], "cmht"
        self._discharge_bundle(ep, when, planned=True)
        self._close(ep, when, "recovered", "gp")
        self._after_gp_discharge(ep.team, when, non_attendance=False)
        return None

    def _close(self, ep: _Episode, t: int, reason: str, destination: str, rationale: str | None = None) -> int:
        """Reviews over the episode, its key worker allocations, then the end of the episode at ``t`` (or just
        after the team's last contact, if one is already booked later); returns when it ended."""
        if self.busy.get(ep.team, 0) >= t:
            t = self.later(self.busy[ep.team], 30)
        kept = []
        for alloc in ep.allocations:
            if alloc[0] >= t:
                break
            alloc[1] = min(alloc[1], t)
            kept.append(alloc)
        self._reviews(ep, t)
        manager = self.ctx.manager[ep.team]
        for start, stop, staff in kept:
            self.add({"at": start, "type": "keyworker_assigned", "team": ep.team, "staff": staff, "by": manager})
            self.add({"at": stop, "type": "keyworker_ended", "team": ep.team, "staff": staff})
        event: Event = {"at": t, "type": "episode_end", "team": ep.team, "reason": reason, "destination": destination}
        if rationale:
            event["override_rationale"] = rationale
        self.add(event)
        self.open_eps.remove(ep)
        ep.allocations = []
        ep.planned_end = t
        return t

    def _flush_open(self) -> None:
        """Episodes still open at the end of the window: their reviews and allocations so far."""
        end = self.ctx.end
        for ep in self.open_eps:
            self._reviews(ep, end)
            manager = self.ctx.manager[ep.team]
            for start, stop, staff in ep.allocations:
                if start > end:
                    break
                self.add({"at": start, "type": "keyworker_assigned", "team": ep.team, "staff": staff, "by": manager})
                if stop <= end:
                    self.add({"at": stop, "type": "keyworker_ended", "team": ep.team, "staff": staff})

    # -- stable stretches ----------------------------------------------------------------------------------------

    def _stable(self, ep: _Episode, a: int, b: int) -> int | None:
        """Planned contacts and depot doses in [a, b); returns the discharge time if discharged on the way."""
        depot = self.med if self.med is not None and self.med.route == "depot" else None
        closed = self._contacts(ep, a, b, 1.0)
        if depot is not None:
            self._depot_doses(ep, depot, a, b if closed is None else closed)
        return closed

    @staticmethod
    def _contact(t: int, team: str, outcome: str, mode: str, by: str, planned: bool = True) -> Event:
        return {
            "at": t,
            "type": "contact",
            "team": team,
            "outcome": outcome,
            "mode": mode,
            "planned": planned,
            "by": by,
        }

    def _contacts(self, ep: _Episode, a: int, b: int, dna_mult: float) -> int | None:
        """Planned contacts in [a, b) with the engagement model; may discharge for non-attendance."""
        ctx, rng = self.ctx, self.rng
        modes = _MODES_AO if ep.pathway == "assertive_outreach" else _MODES
        day = a // DAY + max(1, int(ep.interval * rng.uniform(0.3, 1.0)))
        last = a
        random, team, add, contact = self.random, ep.team, self.add, self._contact
        p_disengage, p_booked = _P_DISENGAGE * dna_mult, _P_BOOKED
        while (t := self.clinic_time(day)) < b:
            mode = modes.pick(rng)
            if self.engaged:
                p_miss = min(0.6, self.p_dna * dna_mult)
                self.engaged = random() >= p_disengage
            else:
                p_miss = _P_DNA_DISENGAGED
                self.engaged = random() < _P_REENGAGE
            r = random()
            if r < p_miss:
                outcome = "no_access" if mode == "home_visit" else "dna"
            elif r < p_miss + _P_CANCEL:
                outcome = "cancelled_by_patient"
            elif r < p_miss + _P_CANCEL2:
                outcome = "cancelled_by_provider"
            elif mode == "face_to_face" and r < p_miss + _P_CANCEL2 + 0.01:
                outcome = "late_not_seen"
            else:
                outcome = "attended"
            by = self.worker(ep, t)
            if random() < p_booked:
                booked = self.later(max(last + HOUR, t - int(rng.uniform(3, 14) * DAY)), 0)
                if booked < t:
                    self.add(
                        {
                            "at": booked,
                            "type": "appointment_booked",
                            "team": ep.team,
                            "for": t,
                            "mode": mode,
                            "by": ctx.admin[ep.team],
                        }
                    )
            add(contact(t, team, outcome, mode, by))
            last = t
            if outcome == "attended":
                self.missed = 0
                ep.workflow = False
                day = t // DAY + max(1, round(ep.interval * rng.uniform(0.7, 1.3)))
                continue
            if outcome not in ("dna", "no_access"):
                day = t // DAY + self.between(2, 7)
                continue
            self.missed += 1
            if rng.random() < tables.PHONE_AFTER_DNA.value:
                # A call the same afternoon, or the next working morning.
                call = t + self.between(1, 3) * HOUR if t % DAY < 14 * HOUR else self.clinic_time(t // DAY + 1)
                if call < b:
                    reached = rng.random() < (0.45 if self.engaged else 0.15)
                    self.add(
                        self._contact(call, ep.team, "attended" if reached else "no_access", "phone", by, planned=False)
                    )
                    last = call
                    if reached:
                        self.missed = 0
            if self.missed >= 3 and not ep.workflow:
                ep.workflow = True
                if rng.random() < _DISCHARGE_DNA.get(ep.pathway, 0.0):
                    when = self.clinic_time(t // DAY + self.between(7, 28))
                    if when < b:
                        self._discharge_for_non_attendance(ep, t, when, by)
                        return when
                else:
                    self.add(
                        {
                            "at": self.later(t, 2 * HOUR),
                            "type": "note",
                            "team": ep.team,
                            "by": by,
                            "text": rng.choice(tables.DNA_NOTES),
                        }
                    )
                    if self.carer_registered and rng.random() < 0.5:
                        text = f"Spoke with {self.carer} ({self.carer_relationship}) about missed appointments"
                        self.add(
                            {"at": self.later(t, 26 * HOUR), "type": "note", "team": ep.team, "by": by, "text": text}
                        )
            day = t // DAY + self.between(3, 7)
        return None

    def _discharge_for_non_attendance(self, ep: _Episode, t: int, when: int, by: str) -> None:
        rng = self.rng
        text = "Opt-in letter sent: please contact the team within 14 days"
        self.add({"at": self.later(t, 3 * HOUR), "type": "note", "team": ep.team, "by": by, "text": text})
        self._discharge_bundle(ep, when, planned=False)
        rationale = None
        if rng.random() < tables.OVERRIDE_RECORDED.value:
            rationale = "Consultant review: no current risk indicators; GP to re-refer if concerned"
        self._close(ep, when, "non_attendance" if rng.random() < 0.7 else "disengaged", "gp", rationale)
        self._after_gp_discharge(ep.team, when, non_attendance=True)

    def _depot_doses(self, ep: _Episode, med: _Medication, a: int, b: int, *, refusing: int = 0) -> int | None:
        """Depot injections due in [a, b): mostly near the due date, some late, some refused.

        With ``refusing`` the person refuses that many weekly offers and no more; returns the last refusal."""
        rng = self.rng
        last_refusal = None
        while med.next_due < b:
            r = rng.random()
            if r < tables.DEPOT_LATE.value:
                offset = self.between(8, 20)
            elif r < tables.DEPOT_LATE.value + 0.08:
                offset = self.between(4, 7)
            else:
                offset = self.between(-3, 3)
            t = self.clinic_time(max(med.next_due, a) // DAY + offset)
            t = max(t, self.clinic_time(a // DAY + 1))
            if t >= b:
                return last_refusal
            by = self.worker(ep, t)
            if refusing or rng.random() < tables.DEPOT_REFUSED.value:
                self.add({"at": t, "type": "depot_refused", "team": ep.team, "drug": med.drug, "by": by})
                med.last = t
                self.refusals.append(t)
                self.triggers.append((t, "depot_refused"))
                self._maybe_capacity(ep.team, t)
                last_refusal = t
                if refusing:
                    refusing -= 1
                    med.next_due = t + 7 * DAY
                    if refusing == 0:
                        return t
                    continue
                retry = self.clinic_time(t // DAY + self.between(3, 8))
                if retry < b and rng.random() < 0.75:
                    self.add({"at": retry, "type": "depot_given", "team": ep.team, "drug": med.drug, "by": by})
                    med.last = retry
                    med.next_due = retry + med.interval * DAY
                else:
                    med.next_due = t + med.interval * DAY
                continue
            self.add({"at": t, "type": "depot_given", "team": ep.team, "drug": med.drug, "by": by})
            med.last = t
            med.next_due = t + med.interval * DAY
        return last_refusal

    def _maybe_capacity(self, team: str, t: int) -> None:
        """Three or more refusals in 90 days should prompt a capacity assessment; about half the time it does."""
        if sum(1 for x in self.refusals if t - 90 * DAY <= x <= t) < 3:
            return
        if any(t - 90 * DAY <= c <= t for c in self.capacity_asked):
            return
        if self.rng.random() < tables.CAPACITY_AFTER_REFUSALS.value:
            self._capacity(self.clinic_time(t // DAY + self.between(1, 14)), team, "antipsychotic medication")
        else:
            self.capacity_asked.append(t)  # the moment passed unremarked

    def _capacity(self, t: int, team: str, about: str) -> None:
        outcome = "lacks_capacity" if self.rng.random() < 0.35 else "has_capacity"
        self.capacity_asked.append(t)
        by = self.ctx.consultant[team]
        self.add(
            {
                "at": t,
                "type": "capacity_assessment",
                "team": team,
                "by": by,
                "decision_about": about,
                "outcome": outcome,
            }
        )

    # -- medication ----------------------------------------------------------------------------------------------

    def _start_medication(self, ep: _Episode, t: int, *, history: bool, depot: bool | None = None) -> None:
        """Prescribe (or re-prescribe) the regular medication, then schedule the next destabilisation."""
        rng = self.rng
        group = self.group
        if group == "other" or (group == "pd" and rng.random() < 0.6):
            self._schedule_destabilisation(t)
            return
        if group == "psychosis":
            if depot is None:
                share = tables.DEPOT_PSYCHOSIS.value * {"eip": 0.35, "assertive_outreach": 1.7}.get(ep.pathway, 1.05)
                depot = rng.random() < share
            if depot:
                drug, dose, interval = rng.choice(tables.DEPOTS)
                med = _Medication(drug, "depot", dose, interval)
            elif ep.pathway == "assertive_outreach" and rng.random() < 0.3:
                med = _oral(tables.CLOZAPINE)
            else:
                med = _oral(rng.choice(tables.ORAL_ANTIPSYCHOTICS))
        elif group == "bipolar":
            med = _oral(rng.choice(tables.MOOD_STABILISERS))
        else:
            med = _oral(rng.choice(tables.ANTIDEPRESSANTS))
        start = t
        if history:  # prescribed before the window
            start = max(min(self.clinic_time(ep.start // DAY + rng.randrange(7, 60)), t - DAY), ep.start + HOUR)
        if self.med is not None:
            if self.med.drug == med.drug:  # still prescribed: carry on
                self._schedule_destabilisation(t)
                return
            self._stop_medication(ep.team, self.later(start, -5), "Switched", by=self.ctx.consultant[ep.team])
        med.started = start
        self.med = med
        event: Event = {
            "at": start,
            "type": "medication_start",
            "team": ep.team,
            "by": self.ctx.consultant[ep.team],
            "drug": med.drug,
            "route": med.route,
            "dose": med.dose,
        }
        if med.route == "depot":
            event["interval_days"] = med.interval
        self.add(event)
        if med.route == "depot":
            if history:
                med.next_due = t + rng.randrange(med.interval) * DAY
            else:
                self.add(
                    {
                        "at": self.later(start, 30),
                        "type": "depot_given",
                        "team": ep.team,
                        "drug": med.drug,
                        "by": self.worker(ep, start),
                    }
                )
                med.last = self.later(start, 30)
                med.next_due = start + med.interval * DAY
        self._schedule_destabilisation(t)

    def _stop_medication(
        self, team: str, at: int, reason: str, *, by: str | None = None, recorded: int | None = None
    ) -> None:
        assert self.med is not None
        event: Event = {
            "at": max(at, self.med.started + 5, self.med.last + 5),
            "type": "medication_stop",
            "team": team,
            "drug": self.med.drug,
            "reason": reason,
        }
        if by:
            event["by"] = by
        if recorded is not None and recorded > event["at"]:
            event["recorded"] = recorded
        self.add(event)
        self.med = None

    def _schedule_destabilisation(self, t: int) -> None:
        """When the next relapse or crisis begins (``destab_at``) and peaks (``relapse_at``)."""
        rng = self.rng
        if self.group in _PSYCHOTIC:
            if self.med is None:
                self.stop_at = t
            else:
                mean = tables.STOP_POOR.value if self.poor_adherence else tables.STOP_GOOD.value
                if self.med.route == "depot":
                    mean *= 2.5  # refusing an injection is visible; stopping tablets is not
                if self.cto_until > t:
                    mean *= 2
                self.stop_at = t + int(rng.expovariate(1 / mean) * DAY)
            after_stop = self.stop_at + int(self.days(tables.RELAPSE_AFTER_STOP.value, 0.8) * DAY)
            breakthrough = t + int(rng.expovariate(tables.RELAPSE_ON_MEDS.value) * 365 * DAY)
            self.nonadherent_cycle = after_stop <= breakthrough
            if self.nonadherent_cycle:
                self.destab_at, self.relapse_at = max(self.stop_at, t + DAY), after_stop
            else:
                self.relapse_at = breakthrough
                self.destab_at = max(t + DAY, breakthrough - 14 * DAY)
            return
        rate = {"pd": tables.CRISIS_PD.value, "mood": tables.CRISIS_MOOD.value}.get(self.group, 0.1)
        self.nonadherent_cycle = False
        self.relapse_at = t + DAY + int(rng.expovariate(rate) * 365 * DAY)
        self.destab_at = max(t + DAY, self.relapse_at - 10 * DAY)

    # -- relapse and crisis --------------------------------------------------------------------------------------

    def _destabilise(self, ep: _Episode | None, t: int) -> tuple[int, _Episode | None]:
        """From the first sign at ``t`` through the crisis to its resolution; returns (when stable, episode)."""
        rng = self.rng
        crisis = max(self.relapse_at, t + DAY)
        nonadherence = self.nonadherent_cycle and self.med is not None
        if nonadherence and self.med is not None:
            if self.med.route == "depot" and ep is not None:
                # Refuses a few offers (or just stops coming); the team records the stop some days later.
                stop = max(self.clinic_time(crisis // DAY - self.between(1, 10)), t + HOUR)
                refused = self._depot_doses(ep, self.med, t, stop, refusing=self.between(1, 4))
                if refused is not None:
                    stop = min(stop, self.clinic_time(refused // DAY + self.between(1, 14)))
                self._stop_medication(ep.team, stop, "Declining depot", by=self.ctx.consultant[ep.team])
            else:
                detect = self.clinic_time((t + int(rng.uniform(14, 60) * DAY)) // DAY)
                if ep is not None and detect < crisis and rng.random() < tables.EARLY_DETECTION.value:
                    drug = self.med.drug
                    self._report_non_adherence(ep, detect)
                    reason = "Stopped taking it some weeks ago; says they no longer need it"
                    self._stop_medication(
                        ep.team, min(self.stop_at, detect - DAY), reason, by=self.worker(ep, detect), recorded=detect
                    )
                    if rng.random() < tables.RESTART_AVERTS.value:
                        restart = self.clinic_time(detect // DAY + self.between(7, 21))
                        closed = self._contacts(ep, t, restart, 2.0)
                        if closed is not None:
                            return closed, None
                        self._start_medication_named(ep, restart, drug)
                        return restart, ep
                else:  # the team only finds out at the crisis
                    team = ep.team if ep is not None else self.home_team
                    reason = "Stopped some weeks before relapse (reported at crisis)"
                    self._stop_medication(
                        team, min(self.stop_at, crisis - DAY), reason, recorded=self.later(crisis, 6 * HOUR)
                    )
        if ep is not None:
            closed = self._contacts(ep, t, crisis, 2.5)
            if closed is not None:
                ep = None
        self._signals_before_crisis(ep, crisis)
        police = self._police(ep, crisis)
        return self._crisis(ep, crisis, police, nonadherence)

    def _start_medication_named(self, ep: _Episode, t: int, drug: str) -> None:
        """Restart the same oral medication the person stopped."""
        dose = next(
            (d for name, d in (*tables.ORAL_ANTIPSYCHOTICS, *tables.MOOD_STABILISERS) if name == drug), "as before"
        )
        self.med = _Medication(drug, "oral", dose, started=t)
        by = self.ctx.consultant[ep.team]
        self.add(
            {
                "at": t,
                "type": "medication_start",
                "team": ep.team,
                "by": by,
                "drug": drug,
                "route": "oral",
                "dose": dose,
            }
        )
        self._schedule_destabilisation(t)

    def _report_non_adherence(self, ep: _Episode, t: int) -> None:
        rng = self.rng
        source, detail = _weighted(
            rng,
            (
                (("family", "Family say tablets are not being taken"), 0.3),
                (("staff", "Tablets found unused at home visit"), 0.3),
                (("pharmacy", "Prescription not collected for six weeks"), 0.2),
                (("self", "Says they have stopped taking medication"), 0.2),
            ),
        )
        by = self.worker(ep, t)
        self.add(
            {
                "at": t,
                "type": "adherence_report",
                "team": ep.team,
                "status": "non_adherent",
                "source": source,
                "detail": detail,
                "by": by,
            }
        )
        self.refusals.append(t)
        self.triggers.append((t, "non_adherence"))
        self._risk(t, "non_adherence", "none", "family" if source == "family" else "record", detail, ep.team)
        if rng.random() < 0.5:
            again = self.clinic_time(t // DAY + self.between(7, 28))
            status = rng.choice(("partial", "non_adherent"))
            self.add(
                {
                    "at": again,
                    "type": "adherence_report",
                    "team": ep.team,
                    "status": status,
                    "source": rng.choice(("family", "staff", "self")),
                    "by": by,
                }
            )
            self.refusals.append(again)
        self._maybe_capacity(ep.team, t)

    def _signals_before_crisis(self, ep: _Episode | None, crisis: int) -> None:
        rng = self.rng
        team = ep.team if ep is not None else None
        if ep is not None and self.carer and rng.random() < tables.FAMILY_CONCERN.value:
            for _ in range(1 + (rng.random() < 0.3)):
                at = self.any_time(crisis // DAY - self.between(1, 18))
                if at > ep.start:
                    self._family_concern(ep, at)
        if self.group in _PSYCHOTIC:
            if self.violent and rng.random() < 0.6:
                category = _weighted(rng, (("threats", 0.5), ("violence_to_others", 0.4), ("weapon", 0.1)))
                text = {
                    "threats": "Threatened a neighbour",
                    "violence_to_others": "Pushed and punched a family member",
                    "weapon": "Seen carrying a knife",
                }[category]
                at = self.any_time(crisis // DAY - self.between(0, 10))
                source = "family" if rng.random() < 0.5 else "record"
                harm = rng.choice(("none", "minor", "minor", "serious"))
                self._risk(at, category, harm, source, text, team, lag=rng.uniform(0, 3) * DAY)
            if rng.random() < 0.3:
                at = self.any_time(crisis // DAY - self.between(0, 14))
                self._risk(
                    at, "self_neglect", "minor", "record" if team else "other", "Not eating; flat in poor state", team
                )
        else:
            category = "suicide_attempt" if rng.random() < 0.2 else "self_harm"
            text = "Overdose of paracetamol" if category == "suicide_attempt" else "Cut arms after an argument"
            source = rng.choice(("self", "family", "other"))
            self._risk(
                self.any_time(crisis // DAY),
                category,
                rng.choice(("minor", "minor", "serious")),
                source,
                text,
                team,
                lag=rng.uniform(0, 2) * DAY,
            )
        if self.substance and rng.random() < 0.4:
            at = self.any_time(crisis // DAY - self.between(0, 20))
            self._risk(at, "substance_misuse", "none", "self", "Using cannabis daily", team)

    def _police(self, ep: _Episode | None, crisis: int) -> str | None:
        """Police (and sometimes court) information around a psychotic crisis; returns its kind, if any."""
        rng = self.rng
        if self.group not in _PSYCHOTIC:
            return None
        p = tables.POLICE_IN_RELAPSE.value + (0.35 if self.violent else 0.0) + (0.1 if ep is None else 0.0)
        if rng.random() >= p:
            return None
        kind: str = _weighted(
            rng, (("incident", 0.6), ("arrest", 0.2), ("warrant", 0.06), ("charge", 0.06), ("liaison_diversion", 0.08))
        )
        at = self.any_time(crisis // DAY - self.between(0, 6))
        violence = self.violent and rng.random() < 0.55
        weapon = violence and rng.random() < 0.12
        r = rng.random()
        lag = rng.uniform(2, 30) * HOUR if r < 0.3 else self.days(tables.POLICE_LAG.value, 0.9) * DAY
        if kind == "warrant":
            lag = max(lag, rng.uniform(10, 60) * DAY)  # sent to an inbox nobody read
        if r > 0.95:
            return kind  # never reaches the mental health team
        recorded = self.later(at, lag)
        detail = rng.choice(tables.POLICE_TEXTS[kind])
        event: Event = {
            "at": at,
            "recorded": recorded,
            "type": "partner_info",
            "agency": "police",
            "kind": kind,
            "violence": violence,
            "detail": detail,
        }
        if weapon:
            event["weapon"] = True
        self.add(event)
        self.triggers.append((recorded, "police"))
        if violence:
            team = ep.team if ep else None
            self._risk(
                at,
                "weapon" if weapon else "violence_to_others",
                rng.choice(("minor", "serious")),
                "police",
                f"{detail}; a knife was found" if weapon else f"{detail}; assault alleged",
                team,
                lag=lag,
            )
        if kind == "arrest" and rng.random() < 0.3:
            court = self.clinic_time(at // DAY + self.between(20, 90))
            self.add(
                {
                    "at": court,
                    "recorded": self.later(court, rng.uniform(0, 20) * DAY),
                    "type": "partner_info",
                    "agency": "court",
                    "kind": "court_date",
                    "violence": violence,
                    "detail": "Hearing listed at the magistrates' court",
                }
            )
        return kind

    def _crisis(
        self, ep: _Episode | None, t: int, police: str | None, nonadherence: bool
    ) -> tuple[int, _Episode | None]:
        rng = self.rng
        if self._cto_at_crisis(t):
            return self._admit(ep, self.later(t, 4 * HOUR), nonadherence, police, recall=True)
        r = rng.random()
        if self.group in _PSYCHOTIC:
            p_admit = tables.ADMIT_ON_RELAPSE.value + (0.2 if police else 0.0) + (0.15 if ep is None else 0.0)
            if r < p_admit:
                return self._admit(ep, t, nonadherence, police)
            if r < p_admit + tables.HOME_TREATMENT.value:
                return self._home_treatment(ep, t, nonadherence, police)
            if ep is None:
                return self._liaison(None, t)
            # Managed by the community team: medication restarted, contact stepped up.
            restart = max(self.clinic_time(t // DAY + self.between(0, 7)), self.later(t, 7 * HOUR))
            self._start_medication(ep, restart, history=False)
            return max(restart, t + DAY), ep
        if r < 0.4:
            return self._liaison(ep, t)
        if r < 0.75:
            return self._home_treatment(ep, t, False, None)
        if r < 0.87:
            return self._admit(ep, t, False, None)
        if ep is None:
            return self._liaison(None, t)
        self._schedule_destabilisation(t)
        return t + DAY, ep

    def _family_concern(self, ep: _Episode, at: int) -> None:
        """A concern from the carer, usually answered by the end of the next working day."""
        ctx, rng = self.ctx, self.rng
        channel = _weighted(rng, (("phone", 0.7), ("email", 0.15), ("in_person", 0.1), ("letter", 0.05)))
        concern = self.add(
            {
                "at": at,
                "type": "family_concern",
                "team": ep.team,
                "from": self.carer,
                "channel": channel,
                "text": self._concern_text(),
            }
        )
        self.triggers.append((at, "family_concern"))
        r = rng.random()
        if r < tables.CONCERN_NEVER.value:
            return
        day = at // DAY
        if r < tables.CONCERN_NEVER.value + tables.CONCERN_ON_TIME.value:
            same_day = ctx.is_workday(day) and at % DAY < 16 * HOUR and rng.random() < 0.6
            if same_day:
                reply = day * DAY + rng.randrange(max(at % DAY + 30, 540), 1050)
            else:
                reply = ctx.workday_on_or_after(day + 1) * DAY + rng.randrange(540, 1020)
        else:
            reply = self.clinic_time(ctx.workday_on_or_after(day + 1) + self.between(1, 6))
        reply = max(reply, at + 15)
        by = self.worker(ep, reply)
        self.add(
            {
                "at": reply,
                "type": "family_concern_response",
                "team": ep.team,
                "ref": concern,
                "by": by,
                "text": rng.choice(tables.RESPONSE_TEXTS),
            }
        )

    def _concern_text(self) -> str:
        texts = tables.CONCERN_TEXTS["psychotic" if self.group in _PSYCHOTIC else "other"]
        pronouns = tables.PRONOUNS.get(self.sex, {"they": "they", "them": "them", "their": "their"})
        text = self.rng.choice(texts).format(**pronouns)
        return text.replace("they has", "they have").replace("themself", "themselves")

    # -- acute care ----------------------------------------------------------------------------------------------

    def _admit(
        self, ep: _Episode | None, t: int, nonadherence: bool, police: str | None, *, recall: bool = False
    ) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        ward = rng.choice(ctx.wards)
        if recall:
            legal = "03"  # the CTO is revoked and the s3 revives
        else:
            statuses = (
                ("01", tables.INFORMAL.value),
                ("02", tables.S2.value),
                ("03", tables.S3.value),
                ("10", tables.S37.value),
            )
            legal = _weighted(rng, statuses)
            if legal == "10" and police is None:  # a hospital order follows police and court involvement
                legal = "03"
            if self.group not in _PSYCHOTIC and rng.random() < 0.6:
                legal = "01"
            if police and legal == "01" and rng.random() < 0.5:
                legal = "02"
        past_s3 = any(status in ("03", "10") for _, status, _ in self.admissions)
        self.admissions.append((t, legal, nonadherence))
        self.add({"at": t, "type": "admission", "ward": ward, "legal_status": legal})
        self.triggers.append((t, "admission"))
        if recall:
            self._end_cto(self.later(t, 2 * DAY), "Revoked; detained under s3")
        los_median = {"01": tables.LOS_INFORMAL.value, "02": tables.LOS_S2.value}.get(legal, tables.LOS_S3.value)
        los = max(2.0, self.days(los_median, 0.6))
        dis = self.clinic_time(t // DAY + int(los))
        if rng.random() < 0.12:  # discharges bunch up before the weekend
            dis = self.clinic_time(dis // DAY + (4 - (dis // DAY - 1) % 7) % 7)
        current = self._legal_changes(ward, t, dis, los, legal)
        ward_staff = ctx.key_workers[ward]
        if rng.random() < 0.85:
            when = max(t // DAY * DAY + self.between(1, 6) * DAY + 9 * HOUR + rng.randrange(10 * HOUR), t + HOUR)
            self._assessment(when, ward, rng.choice(ward_staff))
        if ep is None:  # re-referred to the community team while in hospital
            ep = self._refer(
                self.home_team, self.home_pathway, self.later(t, min(rng.uniform(2, 10), los * 0.4) * DAY), wait=0
            )
        if self.group != "other":
            self._restart_in_hospital(ward, t, dis, nonadherence)
        if rng.random() < (0.3 if current != "01" else 0.1):
            self._capacity(self.clinic_time(t // DAY + self.between(2, 10)), ward, "treatment for mental disorder")
        if current != "01" and los > 3 and rng.random() < 0.05:
            at = self.any_time(t // DAY + self.between(1, int(los) - 1))
            self._risk(at, "absconding", "none", "record", "Failed to return from escorted leave", ward)
        cycle = self._in_relapse_cycle(t)
        self._requests_on_admission(ep, ward, t, cycle)
        if cycle:
            self._cycle_decisions(ward, t)
        if legal == "02" and past_s3 and rng.random() < tables.MDT_LEGAL.value:
            self.add(
                {
                    "at": self.clinic_time(t // DAY + self.between(1, 7)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": ctx.consultant[ward],
                    "topic": "legal_framework",
                    "decision": "Convert to s3 if treatment is needed beyond 28 days",
                    "rationale": "Earlier admissions under s3; s2 alone closes off a CTO and s117 aftercare",
                }
            )
        day = max(t, ep.start) // DAY + self.between(2, 10)
        while (visit := self.clinic_time(day)) < dis:  # the care coordinator visits the ward
            self.add(self._contact(visit, ep.team, "attended", "face_to_face", self.worker(ep, visit)))
            day = visit // DAY + self.between(10, 21)
        if rng.random() < 0.85:
            self._assessment(
                self.clinic_time(dis // DAY - self.between(0, 10)), ward, rng.choice(ward_staff), predischarge=True
            )
        cpr = self.clinic_time(dis // DAY - self.between(0, 5))
        if cpr > ep.start and rng.random() < 0.6:
            self._care_plan_review(cpr, ep)
        return self._discharge_from_ward(ep, ward, dis, current)

    def _legal_changes(self, ward: str, t: int, dis: int, los: float, legal: str) -> str:
        """Informal to s2, s2 to s3, and detention ending before discharge; returns the status at discharge."""
        rng = self.rng
        current = legal
        if legal == "01" and los > 4 and rng.random() < tables.INFORMAL_TO_S2.value:
            current = "02"
            at = self.any_time(t // DAY + self.between(1, min(10, int(los) - 2)))
            self.add({"at": at, "type": "legal_status_change", "team": ward, "code": "02"})
        if current == "02" and los > 16 and rng.random() < tables.S2_TO_S3.value:
            current = "03"
            at = self.clinic_time(t // DAY + self.between(13, min(27, int(los) - 2)))
            self.add({"at": at, "type": "legal_status_change", "team": ward, "code": "03"})
        if current != "01" and los > 8 and rng.random() < 0.2:
            current = "01"
            at = self.clinic_time(dis // DAY - self.between(2, 5))
            self.add({"at": at, "type": "legal_status_change", "team": ward, "code": "01"})
        return current

    def _restart_in_hospital(self, ward: str, t: int, dis: int, nonadherence: bool) -> None:
        """Medication restarted on the ward (after any stop recorded at the crisis), sometimes as a depot."""
        rng = self.rng
        ward_ep = _Episode(team=ward, pathway="inpatient", start=t)
        depot = None
        if self.group == "psychosis" and nonadherence and (self.med is None or self.med.route == "oral"):
            depot = self.decided_depot or rng.random() < tables.SWITCH_TO_DEPOT.value
        self.decided_depot = False
        if depot:
            when = min(self.clinic_time(t // DAY + self.between(5, 20)), self.later(dis, -3 * HOUR))
        else:
            when = self.later(t, rng.uniform(0.5, 4) * DAY)
        self._start_medication(ward_ep, max(when, self.later(t, 7 * HOUR)), history=False, depot=depot)
        if self.med is not None and self.med.route == "depot":
            self._depot_doses(ward_ep, self.med, when, dis)

    def _in_relapse_cycle(self, t: int) -> bool:
        return sum(1 for at, _, nonadh in self.admissions if t - 730 * DAY <= at <= t and nonadh) >= 2

    def _requests_on_admission(self, ep: _Episode, ward: str, t: int, cycle: bool) -> None:
        """The community team asks the ward to consider a CTO or depot; the answer is not always recorded."""
        rng = self.rng
        p = 0.6 if (ep.pathway == "eip" and cycle) else (0.35 if cycle else 0.08)
        if rng.random() >= p:
            return
        ask = rng.choice(("cto", "depot")) if self.group == "psychosis" else "review"
        detail = {
            "cto": "Please consider a CTO on discharge: repeated relapse after stopping medication",
            "depot": "Please consider depot: repeated covert non-adherence",
            "review": "Please review the treatment plan before discharge",
        }[ask]
        self._cross_team(ep.team, ward, ask, self.clinic_time(t // DAY + self.between(2, 10)), detail)

    def _cross_team(self, from_team: str, to_team: str, ask: str, when: int, detail: str) -> str | None:
        """A request and (usually) its answer; returns the answer, if any."""
        rng = self.rng
        request = self.add(
            {
                "at": when,
                "type": "cross_team_request",
                "from_team": from_team,
                "to_team": to_team,
                "ask": ask,
                "detail": detail,
                "by": self.ctx.consultant[from_team],
            }
        )
        r = rng.random()
        if r < tables.REQUEST_NEVER.value:
            return None
        days = (
            rng.uniform(0.5, 7) if r < tables.REQUEST_NEVER.value + tables.REQUEST_ON_TIME.value else rng.uniform(8, 30)
        )
        answer: str = _weighted(rng, (("accepted", 0.5), ("declined", 0.35), ("other", 0.15)))
        rationale = {
            "accepted": "Agreed at ward round" if ask in ("cto", "depot") else "Accepted for assessment",
            "declined": "Not eligible: not detained under s3" if ask == "cto" else "Declined; will keep under review",
            "other": "Deferred to the CPA meeting",
        }[answer]
        reply = max(self.clinic_time((when + int(days * DAY)) // DAY), when + HOUR)
        self.add(
            {
                "at": reply,
                "type": "cross_team_response",
                "team": to_team,
                "by": self.ctx.consultant[to_team],
                "ref": request,
                "answer": answer,
                "rationale": rationale,
            }
        )
        return answer

    def _cycle_decisions(self, ward: str, t: int) -> None:
        """After repeated relapse the MDT should decide on depot and CTO; often one or both is missing."""
        rng, ctx = self.rng, self.ctx
        by = ctx.consultant[ward]
        if rng.random() < tables.MDT_DEPOT.value:
            self.decided_depot = rng.random() < 0.55
            decision = "Start depot" if self.decided_depot else "Continue oral medication"
            rationale = (
                "Relapses follow stopping oral medication"
                if self.decided_depot
                else "Strongly opposes injections; adherence support and family monitoring agreed"
            )
            self.add(
                {
                    "at": self.clinic_time(t // DAY + self.between(3, 14)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": by,
                    "topic": "depot",
                    "decision": decision,
                    "rationale": rationale,
                }
            )
        if rng.random() < tables.MDT_CTO.value:
            decision = rng.choice(("Consider a CTO on discharge if on s3", "CTO not indicated"))
            rationale = "Repeated relapse after stopping treatment in the community"
            self.add(
                {
                    "at": self.clinic_time(t // DAY + self.between(3, 14)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": by,
                    "topic": "cto",
                    "decision": decision,
                    "rationale": rationale,
                }
            )

    def _discharge_from_ward(self, ep: _Episode, ward: str, dis: int, legal: str) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        day = dis // DAY
        weekend = (day - 1) % 7 >= 4 or not ctx.is_workday(day)  # Friday to Sunday, or a bank holiday
        p_crisis = tables.CRISIS_ACCEPTS_WEEKEND.value if weekend else tables.CRISIS_ACCEPTS.value
        crisis_accepted = rng.random() < p_crisis
        event: Event = {"at": dis, "type": "inpatient_discharge", "ward": ward, "crisis_team_accepted": crisis_accepted}
        if self.carer_registered:
            event["carer_informed"] = rng.random() < tables.CARER_INFORMED.value
        self.add(event)
        self.triggers.append((dis, "inpatient_discharge"))
        if rng.random() < 0.8:
            self._gp_letter(
                max(self.clinic_time(day + self.between(0, 2)), dis + HOUR), ward, complete=rng.random() < 0.35
            )
        p_cto = tables.CTO_AFTER_S3.value + (0.15 if len(self.admissions) > 1 else 0.0)
        if legal in ("03", "10") and rng.random() < p_cto:
            self._cto(ep, dis)
        crisis_ep = None
        if crisis_accepted:
            crisis_ep = self._refer(ctx.local(ctx.crisis, self.cmht_index), "crisis", self.later(dis, 10), wait=0)
        # Follow-up within 72 hours, usually by the care coordinator, sometimes by the crisis team.
        follow = crisis_ep if crisis_ep is not None and rng.random() < 0.5 else ep
        self.unseen_until = 0
        if rng.random() < tables.FOLLOW_UP_72H.value:
            at = self.later(dis, rng.uniform(3, 70) * HOUR)
        else:  # nobody sees the person in the first 72 hours, crisis team included
            self.unseen_until = dis + 72 * HOUR
            if rng.random() < 0.5:
                miss = self.later(dis, rng.uniform(20, 68) * HOUR)
                self.add(self._contact(miss, follow.team, "no_access", "home_visit", self.worker(follow, miss)))
            at = self.later(dis, rng.uniform(73, 14 * 24) * HOUR)
            follow = ep  # the crisis team's episode may have closed by then
        mode = rng.choice(("home_visit", "home_visit", "phone"))
        self.add(self._contact(at, follow.team, "attended", mode, self.worker(follow, at)))
        if rng.random() < tables.RA_AFTER_TRIGGER.value:
            when = self.clinic_time(day + self.between(1, 7))
            self._assessment(when, ep.team, self.worker(ep, when), episode=ep)
        if rng.random() < tables.READMIT_30D.value:  # back within a month
            readmit = self.any_time(day + self.between(4, 28))
            if crisis_ep is not None:
                self._crisis_contacts(crisis_ep, dis, 0, reason="transferred", destination="other_team", until=readmit)
            recall = self._cto_at_crisis(readmit)
            return self._admit(ep, self.later(readmit, 4 * HOUR) if recall else readmit, False, None, recall=recall)
        resume = dis + 3 * DAY
        if crisis_ep is not None:
            length = rng.uniform(7, 21)
            resume = self._crisis_contacts(crisis_ep, dis, length, reason="recovered", destination="other_team")
        self._schedule_destabilisation(resume)
        return resume, ep

    def _cto(self, ep: _Episode, dis: int) -> None:
        """A CTO on discharge from s3: it expires, is discharged early, or is renewed once."""
        rng = self.rng
        at = self.later(dis, 5)
        conditions = "Reside at home address; accept medication as prescribed; attend appointments"
        by = self.ctx.consultant[ep.team]
        self.add(
            {
                "at": at,
                "type": "cto_start",
                "team": ep.team,
                "by": by,
                "expires": date.fromordinal(at // DAY + 182),
                "conditions": conditions,
            }
        )
        r = rng.random()
        pending: list[Event]
        if r < 0.5:
            self.cto_until = self.clinic_time(at // DAY + 182)
            pending = [{"at": self.cto_until, "type": "cto_end", "reason": "Expired; not renewed"}]
        elif r < 0.7:
            self.cto_until = self.clinic_time(at // DAY + self.between(60, 170))
            pending = [{"at": self.cto_until, "type": "cto_end", "reason": "Discharged by responsible clinician"}]
        else:
            renew = self.clinic_time(at // DAY + 182)
            self.cto_until = self.clinic_time(renew // DAY + 182)
            pending = [
                {"at": renew, "type": "cto_end", "reason": "Period ended; renewed"},
                {
                    "at": self.later(renew, 1),
                    "type": "cto_start",
                    "team": ep.team,
                    "by": by,
                    "expires": date.fromordinal(renew // DAY + 182),
                    "conditions": "As before",
                },
                {"at": self.cto_until, "type": "cto_end", "reason": "Expired; not renewed"},
            ]
        for event in pending:
            self.add(event)
        self.cto_pending = pending

    def _cto_at_crisis(self, t: int) -> bool:
        """Someone on a CTO in crisis is usually recalled (True); otherwise the CTO is ended."""
        if self.cto_until <= t:
            return False
        if self.rng.random() < tables.CTO_RECALL.value:
            self._withdraw_cto_events(t)
            self.add({"at": t, "type": "cto_recall", "reason": "Not taking medication; early signs of relapse"})
            return True
        self._withdraw_cto_events(self.later(t, -HOUR))
        self._end_cto(self.later(t, -HOUR), "Discharged by responsible clinician")
        return False

    def _withdraw_cto_events(self, t: int) -> None:
        """A CTO that will end early: take back its planned events from ``t`` on."""
        withdrawn = {id(e) for e in self.cto_pending if e["at"] >= t}
        if withdrawn:
            self.events = [e for e in self.events if id(e) not in withdrawn]
        self.cto_pending = []

    def _end_cto(self, t: int, reason: str) -> None:
        self.add({"at": t, "type": "cto_end", "reason": reason})
        self.cto_until = 0

    def _home_treatment(
        self, ep: _Episode | None, t: int, nonadherence: bool, police: str | None
    ) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        team = ctx.local(ctx.crisis, self.cmht_index)
        if ep is not None and rng.random() < 0.5:
            self._cross_team(
                ep.team, team, "assessment", self.later(t, -2 * HOUR), "Relapse: please assess for home treatment"
            )
        crisis_ep = self._refer(team, "crisis", t, wait=0)
        if rng.random() < tables.HT_ESCALATES.value:
            admit = self.later(t, rng.uniform(3, 14) * DAY)
            self._crisis_contacts(crisis_ep, t, 0, reason="transferred", destination="other_team", until=admit)
            return self._admit(ep, self.later(admit, 30), nonadherence, police)
        if self.med is None and self.group != "other":
            restart = max(self.clinic_time(t // DAY + self.between(0, 4)), self.later(t, 7 * HOUR))
            self._start_medication(crisis_ep, restart, history=False, depot=False)
        destination = "other_team" if ep is not None else "gp"
        resume = self._crisis_contacts(crisis_ep, t, rng.uniform(14, 42), reason="recovered", destination=destination)
        if ep is None and rng.random() < 0.5:
            ep = self._refer(self.home_team, self.home_pathway, self.later(resume, -DAY))
            resume = max(resume, ep.start)
        self._schedule_destabilisation(resume)
        return resume, ep

    def _crisis_contacts(
        self, ep: _Episode, t: int, length_days: float, *, reason: str, destination: str, until: int | None = None
    ) -> int:
        """Home treatment: daily visits and calls, then the end of the crisis episode; returns its end."""
        rng = self.rng
        end = until if until is not None else self.clinic_time(t // DAY + max(1, int(length_days)))
        at = self.later(max(t, ep.start), rng.uniform(1, 6) * HOUR)
        while at < end:
            mode = "home_visit" if rng.random() < 0.6 else "phone"
            seen = rng.random() < 0.88 and at > self.unseen_until
            outcome = "attended" if seen else ("no_access" if mode == "home_visit" else "dna")
            self.add(self._contact(at, ep.team, outcome, mode, self.worker(ep, at)))
            at = (at // DAY + (2 if self.random() < 0.33 else 1)) * DAY + 8 * HOUR + int(self.random() * 12 * HOUR)
        return self._close(ep, max(end, ep.start + HOUR), reason, destination)

    def _liaison(self, ep: _Episode | None, t: int) -> tuple[int, _Episode | None]:
        """An A&E presentation seen by liaison psychiatry, then back to the team, on to a team, or to the GP."""
        ctx, rng = self.ctx, self.rng
        team = ctx.local(ctx.liaison, self.cmht_index)
        liaison = self._refer(team, "liaison", self.any_time(t // DAY), wait=0)
        seen = self.later(liaison.start, rng.uniform(1, 5) * HOUR)
        self.add(self._contact(seen, team, "attended", "face_to_face", self.worker(liaison, seen), planned=False))
        category = "suicide_attempt" if rng.random() < 0.25 else "self_harm"
        text = (
            "Attended A&E after an overdose"
            if category == "suicide_attempt"
            else "Attended A&E with self-inflicted cuts"
        )
        self._risk(
            self.later(liaison.start, -2 * HOUR),
            category,
            rng.choice(("minor", "serious")),
            "other",
            text,
            team,
            lag=3 * HOUR,
        )
        self._assessment(self.later(seen, 30), team, self.worker(liaison, seen))
        close = self.later(seen, rng.uniform(2, 30) * HOUR)
        if ep is not None:
            self._close(liaison, close, "transferred", "other_team")
            self._schedule_destabilisation(close)
            return close + DAY, ep
        if rng.random() < 0.55:
            answer = self._cross_team(
                team,
                self.home_team,
                "assessment",
                self.later(seen, 60),
                "Seen in A&E; please assess for secondary care",
            )
            self._close(liaison, close, "transferred", "other_team")
            if answer == "accepted":
                self._home_after(close)
                ep = self._refer(
                    self.home_team, self.home_pathway, self.clinic_time(close // DAY + self.between(1, 10))
                )
                if self.med is None:
                    self._start_medication(ep, self.later(ep.start, 7 * DAY), history=False)
                else:
                    self._schedule_destabilisation(ep.start)
                return ep.start, ep
        else:
            self._close(liaison, close, "other", "gp")
        self.last_discharge_dna = False
        self._schedule_destabilisation(close)
        return close + DAY, None

    def _first_contact_in_crisis(self, t: int) -> tuple[int, _Episode | None]:
        """People whose first contact is the crisis team or liaison psychiatry."""
        rng = self.rng
        if self.entry == "liaison":
            return self._liaison(None, t)
        crisis_ep = self._refer(self.ctx.local(self.ctx.crisis, self.cmht_index), "crisis", t, wait=0)
        if self.group != "other" and rng.random() < 0.7:
            self._start_medication(crisis_ep, self.later(t, DAY), history=False, depot=False)
        onward = rng.random() < 0.45
        reason, destination = ("transferred", "other_team") if onward else ("recovered", "gp")
        resume = self._crisis_contacts(crisis_ep, t, rng.uniform(10, 42), reason=reason, destination=destination)
        if not onward:
            self._schedule_destabilisation(resume)
            return resume, None
        ep = self._refer(self.home_team, self.home_pathway, self.later(resume, -2 * HOUR))
        if self.med is None:
            self._start_medication(ep, self.later(ep.start, 7 * DAY), history=False)
        else:
            self._schedule_destabilisation(ep.start)
        return ep.start, ep

    # -- discharge to the GP -------------------------------------------------------------------------------------

    def _discharge_bundle(self, ep: _Episode, t: int, *, planned: bool) -> None:
        """What a team does before discharging someone to the GP (often not all of it)."""
        rng = self.rng
        if rng.random() < (0.8 if planned else 0.3):
            when = self.clinic_time(t // DAY - self.between(0, 12))
            if when > ep.start:
                self._assessment(when, ep.team, self.worker(ep, when), episode=ep, predischarge=True)
        if rng.random() < (0.6 if planned else 0.2):
            when = self.clinic_time(t // DAY - self.between(0, 10))
            if when > ep.start:
                self._care_plan_review(when, ep)
        if rng.random() < (0.5 if planned else 0.4):
            rationale = (
                "Stable and well; relapse plan shared with GP"
                if planned
                else "Not attending despite letters and visits"
            )
            self.add(
                {
                    "at": self.later(t, -3 * HOUR),
                    "type": "mdt_decision",
                    "team": ep.team,
                    "by": self.ctx.consultant[ep.team],
                    "topic": "discharge",
                    "decision": "Discharge to GP",
                    "rationale": rationale,
                }
            )
        if rng.random() < 0.85:
            when = max(self.clinic_time(t // DAY + self.between(0, 3)), t + HOUR)
            self._gp_letter(when, ep.team, complete=planned and rng.random() < 0.5)

    def _gp_letter(self, t: int, team: str, *, complete: bool) -> None:
        rng = self.rng
        if complete or rng.random() < tables.GP_LETTER_COMPLETE.value:
            sections = list(tables.GP_LETTER_SECTIONS)
        else:
            sections = [s for s in tables.GP_LETTER_SECTIONS if rng.random() < 0.55]
        self.add(
            {"at": t, "type": "gp_letter_sent", "team": team, "by": self.ctx.consultant[team], "sections": sections}
        )

    def _after_gp_discharge(self, team: str, t: int, *, non_attendance: bool) -> None:
        """Depots stop; tablets often lapse; the GP (and the police) may notice before anyone else."""
        rng = self.rng
        self.last_discharge_dna = non_attendance
        psychotic = self.group in _PSYCHOTIC
        if self.med is not None and self.med.route == "depot":
            self._stop_medication(team, self.later(t, 10), "Discharged to GP", by=self.ctx.consultant[team])
        if psychotic and non_attendance:
            self.nonadherent_cycle = self.med is not None
            self.stop_at = t + int(rng.uniform(0, 60) * DAY)
            self.relapse_at = self.stop_at + int(self.days(tables.RELAPSE_AFTER_STOP.value * 1.5, 0.7) * DAY)
            self.destab_at = max(t + DAY, self.relapse_at - 2 * DAY)  # nobody is watching
        elif psychotic:
            self._schedule_destabilisation(t)
        if rng.random() < (tables.GP_SIGNAL.value if psychotic else 0.08):
            at = self.clinic_time(t // DAY + self.between(90, 270))
            kind = rng.choice(("no_contact", "prescription_not_collected"))
            detail = (
                "No contact with the practice since discharge"
                if kind == "no_contact"
                else "Repeat prescription not collected for three months"
            )
            self.add({"at": at, "type": "partner_info", "agency": "gp", "kind": kind, "detail": detail})

    # -- reviews ---------------------------------------------------------------------------------------------------

    def _reviews(self, ep: _Episode, end: int) -> None:
        """Risk assessments (first, after triggers, periodic), care plan reviews and consultant reviews."""
        rng = self.rng
        if ep.pathway == "crisis":
            if rng.random() < 0.8:
                when = self.later(ep.start, rng.uniform(1, 20) * HOUR)
                self._assessment(when, ep.team, self.worker(ep, ep.start), episode=ep)
            return
        if ep.pathway == "liaison":
            return
        ws = self.ctx.window_start
        first = max(ep.start, ws)
        if ep.start >= ws:
            when = self.clinic_time(ep.start // DAY + self.between(7, 35))
            if when < end:
                self._assessment(when, ep.team, self.worker(ep, when), episode=ep)
        for recorded, kind in self.triggers:
            if not (ep.start <= recorded < end) or kind in ("admission", "inpatient_discharge"):
                continue
            i = bisect_left(ep.ra_times, recorded)
            if i < len(ep.ra_times) and ep.ra_times[i] <= recorded + 7 * DAY:
                continue
            if kind == "police":
                if rng.random() < tables.RA_AFTER_POLICE.value:
                    at = self.later(recorded, rng.uniform(2, 70) * HOUR)
                elif rng.random() < 0.5:
                    at = self.later(recorded, rng.uniform(4, 14) * DAY)
                else:
                    continue
            elif rng.random() < tables.RA_AFTER_TRIGGER.value:
                at = max(self.clinic_time(recorded // DAY + self.between(0, 6)), recorded + 15)
            else:
                continue
            if at < end:
                self._assessment(at, ep.team, self.worker(ep, at), episode=ep)
        # Periodic reviews fill the gaps between the assessments already made.
        i = bisect_left(ep.ra_times, first)
        last = ep.ra_times[i - 1] if i > 0 else first
        while True:
            nxt = self.clinic_time(last // DAY + int(self.days(tables.RA_INTERVAL.value, 0.3)))
            j = bisect_left(ep.ra_times, last + 1)
            if j < len(ep.ra_times) and ep.ra_times[j] <= nxt:
                last = ep.ra_times[j]
                continue
            if nxt >= end:
                break
            self._assessment(nxt, ep.team, self.worker(ep, nxt), episode=ep)
            last = nxt
        if ep.start >= ws:
            cpr = self.clinic_time(ep.start // DAY + self.between(21, 70))
        else:
            cpr = self.clinic_time(max(self.last_cpr, ep.start) // DAY + int(self.days(tables.CPR_INTERVAL.value, 0.2)))
        while cpr < end:
            self._care_plan_review(cpr, ep)
            cpr = self.clinic_time(cpr // DAY + int(self.days(tables.CPR_INTERVAL.value, 0.2)))
        review = self.clinic_time(first // DAY + self.between(30, 180))
        consultant = self.ctx.consultant[ep.team]
        while review < end:
            outcome = "attended" if rng.random() < 0.85 else "dna"
            self.add(
                self._contact(review, ep.team, outcome, "face_to_face" if rng.random() < 0.8 else "video", consultant)
            )
            review = self.clinic_time(review // DAY + self.between(150, 210))
        self.last_cpr = 0

    def _assessment(
        self,
        t: int,
        team: str,
        by: str,
        *,
        episode: _Episode | None = None,
        triage: bool = False,
        predischarge: bool = False,
    ) -> None:
        """A risk assessment; its factors are filled in at the end, from the history known at ``t``."""
        safety_plan = triage or predischarge or self.rng.random() < 0.9
        event: Event = {
            "at": t,
            "type": "risk_assessment",
            "team": team,
            "by": by,
            "factors": None,
            "safety_plan": safety_plan,
        }
        if not triage:
            event["formulation"] = _FORMULATION[self.group]
            event["next_review"] = date.fromordinal(t // DAY + (91 if self.violent else 182))
        self.add(event)
        if episode is not None:
            insort(episode.ra_times, t)

    def _care_plan_review(self, t: int, ep: _Episode) -> None:
        shared = self.carer_registered and self.carer_consent and self.rng.random() < 0.7
        crisis_plan = self.rng.random() < 0.85
        self.add(
            {
                "at": t,
                "type": "care_plan_review",
                "team": ep.team,
                "by": self.worker(ep, t),
                "crisis_plan": crisis_plan,
                "shared_with_carer": shared,
            }
        )

    def _risk(
        self, at: int, category: str, harm: str, source: str, description: str, team: str | None, *, lag: float = 0.0
    ) -> None:
        event: Event = {
            "at": at,
            "type": "risk_event",
            "category": category,
            "harm": harm,
            "source": source,
            "description": description,
        }
        if team:
            event["team"] = team
        if lag >= 1:
            event["recorded"] = self.later(at, lag)
        self.add(event)
        self.risk_events.append(event)
        recorded = event.get("recorded", at)
        self.triggers.append((recorded, "risk_event"))
        if self.rng.random() < tables.ENTERED_IN_ERROR.value:
            when = self.later(recorded, self.rng.uniform(1, 30) * DAY)
            self.add(
                {
                    "at": when,
                    "type": "risk_event_entered_in_error",
                    "ref": event,
                    "reason": "Recorded in the wrong patient's record",
                }
            )

    # -- the end -------------------------------------------------------------------------------------------------

    def _finish(self) -> PersonStory:
        ctx = self.ctx
        self._flush_open()
        end = ctx.end
        kept = [e for e in self.events if e["at"] <= end and e.get("recorded", 0) <= end]
        kept.sort(key=_at)
        alive = {id(e) for e in kept}
        kept = [e for e in kept if "ref" not in e or id(e["ref"]) in alive]
        self._fill_factors(kept)
        index = {id(e): i for i, e in enumerate(kept)}
        for e in kept:
            if "ref" in e:
                e["ref"] = index[id(e["ref"])]
        to_datetime = ctx.datetime
        for e in kept:
            e["at"] = to_datetime(e["at"])
            if "recorded" in e:
                e["recorded"] = to_datetime(e["recorded"])
            if "for" in e:
                e["for"] = to_datetime(e["for"])

        return PersonStory(patient=self.patient, events=list(kept))

    def _fill_factors(self, events: list[Event]) -> None:
        """Each assessment's factors from the risk history known at its time.

        Most carry the history forward; some silently mark a known risk absent or not assessed (the minimising the
        CQC found); a few downgrade one with a written rationale.
        """
        rng = self.rng
        errors = {id(e["ref"]): e["at"] for e in events if e["type"] == "risk_event_entered_in_error"}
        history = [(e.get("recorded", e["at"]), e["category"], errors.get(id(e), NEVER)) for e in self.risk_events]
        traits = {"substance_misuse"} if self.substance else set()
        if self.group == "pd":
            traits.add("self_harm")
        for e in events:
            if e["type"] != "risk_assessment":
                continue
            t = e["at"]
            known = {category for recorded, category, error in history if recorded <= t and error > t}
            quiet = known - {category for recorded, category, _ in history if t - 730 * DAY < recorded <= t}
            factors = {}
            for category in tables.RISK_CATEGORIES:
                if category in known or category in traits:
                    factors[category] = "present"
                elif category in ("exploitation", "weapon", "absconding") and rng.random() < 0.25:
                    factors[category] = "not_assessed"
                else:
                    factors[category] = "absent"
            if known:
                r = rng.random()
                if r < tables.RA_DOWNGRADE.value:
                    factors[rng.choice(sorted(known))] = "absent" if rng.random() < 0.6 else "not_assessed"
                elif r < tables.RA_DOWNGRADE.value + 0.04 and quiet:  # quiet for two years: a reasoned downgrade
                    dropped = rng.choice(sorted(quiet))
                    factors[dropped] = "absent"
                    e["rationale"] = f"No {dropped.replace('_', ' ')} for over two years; reviewed with the MDT"
                elif r < 0.3:
                    e["rationale"] = "History reviewed with the person and their family"
            e["factors"] = factors


def _at(event: Event) -> int:
    at: int = event["at"]
    return at


# --- public entry points --------------------------------------------------------------------------------------


def generate_story(
    trust: TrustPlan, *, seed: int, index: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> PersonStory:
    """The story of person ``index``: always the same, whatever else is generated alongside it."""
    return _Life(_context(trust, seed, until, years), index).story()


def generate_stories(
    trust: TrustPlan, *, seed: int, patients: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> Iterator[PersonStory]:
    """The stories of people 0 .. patients-1, in order."""
    return generate_story_range(trust, seed=seed, start=0, stop=patients, until=until, years=years)


def generate_story_range(
    trust: TrustPlan, *, seed: int, start: int, stop: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> Iterator[PersonStory]:
    """The stories of people start .. stop-1: a chunk for parallel generation, equal to that slice of the whole."""
    ctx = _context(trust, seed, until, years)
    for index in range(start, stop):
        yield _Life(ctx, index).story()


_CONTEXTS: dict[tuple[int, int, date, int], tuple[TrustPlan, _Trust]] = {}


def _context(trust: TrustPlan, seed: int, until: date, years: int) -> _Trust:
    # Keyed by identity (the plan is kept alive by the entry): hashing a large plan per story would be slow.
    key = (id(trust), seed, until, years)
    cached = _CONTEXTS.get(key)
    if cached is not None and cached[0] is trust:
        return cached[1]
    ctx = _Trust(trust, seed=seed, until=until, years=years)
    if len(_CONTEXTS) >= 8:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (trust, ctx)
    return ctx
