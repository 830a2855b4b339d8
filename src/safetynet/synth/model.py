"""A stochastic model of a synthetic NHS mental health trust and its patients' stories.

Pure: no database, no clock. ``plan_trust`` lays out teams, wards and staff; ``generate_stories``
tells each person's story as events in the scenario vocabulary (see scenarios.md), which the
loader validates and writes into the record.

How it works, in short (docs/synthetic-data.md has the long form and the sources):

* Each person has an independent ``random.Random`` seeded from (seed, index), so any person, any
  prefix and any chunk can be generated alone and in parallel, and always come out the same.
* Time is kept internally as integer minutes since 0001-01-01 local (Europe/London wall time);
  the hour 01:00-01:59 is never used, so no moment is ambiguous or imaginary around the clock
  changes. Datetimes are made only once, at the end.
* A person's life in the window is a loop of *stable* stretches (planned contacts, depot doses,
  routine reviews) broken by *destabilisation*: for psychosis and bipolar disorder that is
  usually stopping medication (then non-adherence signals, family concern, police, crisis,
  admission, discharge, follow-up); for depression and EUPD it is a crisis (self-harm, A&E
  liaison, home treatment). Runs of missed contacts start disengagement, which sometimes ends in
  a discharge for non-attendance, and people discharged to their GP may be re-referred.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from safetynet.synth import model_tables as T

LONDON = ZoneInfo("Europe/London")
DEFAULT_UNTIL: date = date(2026, 10, 31)

PATHWAYS = ("eip", "cmht", "assertive_outreach", "crisis", "inpatient", "liaison")
ROLES = ("key_worker", "consultant", "team_manager", "safety_lead", "administrator")

DAY = 1440
HOUR = 60
NEVER = 1 << 62  # a time later than any story

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


# ---------------------------------------------------------------------------------------
# Names and identifiers


@lru_cache(maxsize=8)
def _name_pools(seed: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Male first names, female first names and surnames from a seeded en_GB Faker, once."""
    from faker import Faker  # imported here: Faker is slow to import and needed once

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    male = tuple(dict.fromkeys(fake.first_name_male() for _ in range(4000)))
    female = tuple(dict.fromkeys(fake.first_name_female() for _ in range(4000)))
    last = tuple(dict.fromkeys(fake.last_name() for _ in range(6000)))
    return male, female, last


def _checksum(nine: int) -> int:
    """NHS number modulus 11 check digit of a 9-digit body; 10 means the body is unusable."""
    total = 0
    for weight in range(2, 11):
        nine, digit = divmod(nine, 10)
        total += digit * weight
    check = 11 - total % 11
    return 0 if check == 11 else check


def nhs_number_for(seed: int, index: int) -> str:
    """A valid NHS number in the synthetic range (9xxxxxxxxx), unique per index for a seed.

    For any 8-digit stem at most one ninth digit gives check digit 10 (2 is invertible mod 11),
    so each stem yields at least nine numbers. Stems are a keyed permutation of 10**7 blocks,
    which makes the map from index to number one-to-one for the first 90 million people.
    """
    block, slot = divmod(index, 9)
    stem = 90_000_000 + (block * 7_654_321 + seed * 2_654_435_761) % 10_000_000
    usable = [d for d in range(10) if _checksum(stem * 10 + d) != 10]
    body = stem * 10 + usable[slot]
    return f"{body}{_checksum(body)}"


def _weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    r = rng.random() * sum(w for _, w in table)
    for item, weight in table:
        r -= weight
        if r < 0:
            return item
    return table[-1][0]


# ---------------------------------------------------------------------------------------
# The trust


def _team_names(base: str, count: int, areas: Sequence[str]) -> list[str]:
    if count == 1:
        return [base]
    return [f"{base} {areas[i]}" for i in range(count)]


def _expected_open(patients: int, share: float, teams: int) -> float:
    return patients * share / max(teams, 1)


# People open to each kind of team on an average day, per person generated; measured from
# the model (100,000 people, seed 1) and used only to size teams for realistic caseloads.
_OPEN_SHARE = {"eip": 0.065, "cmht": 0.42, "assertive_outreach": 0.045, "crisis": 0.012}
_BEDS_PER_PERSON = 0.0085  # occupied beds per person generated, measured the same way
_BEDS_PER_WARD = 18


def plan_trust(*, seed: int, patients: int) -> TrustPlan:
    """Teams, wards and staff of a fictional trust sized for ``patients`` people."""
    rng = random.Random(f"safetynet-synth-trust:{seed}")
    localities = list(T.LOCALITIES)
    rng.shuffle(localities)
    n_cmht = max(2, round(patients / 400))
    n_eip = max(1, round(patients / 3000))
    n_ao = max(1, round(patients / 6000))
    n_crisis = max(1, round(patients / 5000))
    n_liaison = max(1, round(patients / 10000))
    n_wards = max(2, math.ceil(patients * _BEDS_PER_PERSON / _BEDS_PER_WARD))

    def areas(count: int) -> list[str]:
        return list(T.COMPASS) if count <= len(T.COMPASS) else localities

    def ward(i: int) -> str:
        base = T.WARD_NAMES[i % len(T.WARD_NAMES)]
        return f"{base} Ward" if i < len(T.WARD_NAMES) else f"{base} {i // 30 + 1} Ward"

    teams: list[TeamPlan] = []
    teams += [TeamPlan(n, "eip") for n in _team_names("EIP", n_eip, areas(n_eip))]
    teams += [TeamPlan(n, "cmht") for n in _team_names("CMHT", n_cmht, areas(n_cmht))]
    teams += [TeamPlan(n, "assertive_outreach") for n in _team_names("Assertive Outreach", n_ao, areas(n_ao))]
    teams += [TeamPlan(n, "crisis") for n in _team_names("Crisis Team", n_crisis, areas(n_crisis))]
    teams += [TeamPlan(ward(i), "inpatient") for i in range(n_wards)]
    teams += [TeamPlan(n, "liaison") for n in _team_names("Liaison Psychiatry", n_liaison, areas(n_liaison))]
    counts = {"eip": n_eip, "cmht": n_cmht, "assertive_outreach": n_ao}
    counts |= {"crisis": n_crisis}
    caseload = {
        "eip": T.CASELOAD_EIP.value,
        "cmht": T.CASELOAD_CMHT.value,
        "assertive_outreach": T.CASELOAD_AO.value,
        "crisis": 8.0,  # home treatment: a handful of people each, seen daily
    }

    male, female, last = _name_pools(seed)
    used: set[str] = set()

    def person_name() -> str:
        while True:
            first = rng.choice(male if rng.random() < 0.4 else female)
            name = f"{first} {rng.choice(last)}"
            if name not in used:
                used.add(name)
                return name

    staff: list[StaffPlan] = []
    for team in teams:
        staff.append(StaffPlan(person_name(), "consultant", team.name))
        staff.append(StaffPlan(person_name(), "team_manager", team.name))
        staff.append(StaffPlan(person_name(), "administrator", team.name))
        if team.pathway in caseload:
            load = _expected_open(patients, _OPEN_SHARE[team.pathway], counts[team.pathway])
            workers = max(2, math.ceil(load / caseload[team.pathway]))
        else:
            workers = 3 if team.pathway == "liaison" else 4
        staff += [StaffPlan(person_name(), "key_worker", team.name) for _ in range(workers)]
    first_cmht = next(t.name for t in teams if t.pathway == "cmht")
    # The safety lead is trust-wide; StaffPlan needs a team, so she sits with the first CMHT.
    staff.append(StaffPlan(person_name(), "safety_lead", first_cmht))

    a, b = rng.sample(localities[:40], 2)
    name = f"{a} and {b} Mental Health NHS Foundation Trust"
    ods = f"R{rng.choice('XYZ')}{rng.randrange(10)}"
    return TrustPlan(name=name, ods_code=ods, teams=tuple(teams), staff=tuple(staff))


@lru_cache(maxsize=1)
def _bank_holidays(first_year: int, last_year: int) -> frozenset[int]:
    import holidays  # a project dependency; imported lazily because it is slow to import

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return frozenset(d.toordinal() for d in days)


class _Trust:
    """Everything a story needs from the plan, indexed once per run."""

    def __init__(self, trust: TrustPlan, *, seed: int, until: date, years: int) -> None:
        self.seed = seed
        by_pathway: dict[str, list[str]] = {p: [] for p in PATHWAYS}
        for team in trust.teams:
            by_pathway[team.pathway].append(team.name)
        for pathway in ("eip", "cmht", "assertive_outreach", "crisis", "liaison"):
            if not by_pathway[pathway]:
                raise ValueError(f"the trust has no {pathway} team")
        if len(by_pathway["inpatient"]) < 1:
            raise ValueError("the trust has no ward")
        self.cmht = by_pathway["cmht"]
        self.eip = by_pathway["eip"]
        self.ao = by_pathway["assertive_outreach"]
        self.crisis = by_pathway["crisis"]
        self.liaison = by_pathway["liaison"]
        self.wards = by_pathway["inpatient"]
        roles: dict[tuple[str, str], list[str]] = {}
        for member in trust.staff:
            roles.setdefault((member.team, member.role), []).append(member.name)
        self.key_workers: dict[str, tuple[str, ...]] = {}
        self.consultant: dict[str, str] = {}
        self.manager: dict[str, str] = {}
        self.admin: dict[str, str] = {}
        for team in trust.teams:
            workers = roles.get((team.name, "key_worker"), [])
            consultant = roles.get((team.name, "consultant"), [])
            manager = roles.get((team.name, "team_manager"), [])
            admin = roles.get((team.name, "administrator"), [])
            senior = consultant + manager
            if not senior:
                raise ValueError(f"team {team.name} has no consultant or team manager")
            self.key_workers[team.name] = tuple(workers or senior)
            self.consultant[team.name] = (consultant or manager)[0]
            self.manager[team.name] = (manager or consultant)[0]
            self.admin[team.name] = (admin or manager or consultant)[0]
        self.male, self.female, self.last = _name_pools(seed)
        n_practices = max(5, len(self.cmht) * 2)
        key = seed * 7919 % 100_000
        self.practices = tuple(f"Y{(i * 38_677 + key) % 100_000:05d}" for i in range(n_practices))
        try:
            start = until.replace(year=until.year - years)
        except ValueError:  # 29 February
            start = until.replace(year=until.year - years, day=28)
        self.until = until
        self.window_start = start.toordinal() * DAY
        self.end = (until.toordinal() + 1) * DAY - 1
        self.holidays = _bank_holidays(start.year - 12, until.year + 1)
        self._ymd: dict[int, tuple[int, int, int]] = {}

    def is_workday(self, day: int) -> bool:
        return (day - 1) % 7 < 5 and day not in self.holidays

    def workday_on_or_after(self, day: int) -> int:
        while (day - 1) % 7 >= 5 or day in self.holidays:
            day += 1
        return day

    def datetime(self, t: int) -> datetime:
        day, minute = divmod(t, DAY)
        ymd = self._ymd.get(day)
        if ymd is None:
            d = date.fromordinal(day)
            ymd = self._ymd[day] = (d.year, d.month, d.day)
        return datetime(ymd[0], ymd[1], ymd[2], minute // 60, minute % 60, tzinfo=LONDON)

    def locality(self, teams: list[str], cmht_index: int) -> str:
        return teams[cmht_index * len(teams) // len(self.cmht)]


# ---------------------------------------------------------------------------------------
# One person's life


@dataclass(slots=True)
class _Episode:
    team: str
    pathway: str
    start: int
    planned_end: int = NEVER
    planned_reason: str = "recovered"
    transfer_to: tuple[str, str] | None = None  # (team, pathway) for a planned transfer
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


_MODES_COMMUNITY = (
    ("home_visit", 0.38),
    ("face_to_face", 0.36),
    ("phone", 0.19),
    ("video", 0.07),
)
_MODES_AO = (("home_visit", 0.7), ("face_to_face", 0.15), ("phone", 0.15))
_INTERVAL = {
    "eip": T.CONTACT_EIP.value,
    "cmht": T.CONTACT_CMHT.value,
    "assertive_outreach": T.CONTACT_AO.value,
}
_DISCHARGE_DNA = {
    "eip": T.DISCHARGE_DNA_EIP.value,
    "cmht": T.DISCHARGE_DNA_CMHT.value,
    "assertive_outreach": T.DISCHARGE_DNA_AO.value,
}
_FORMULATION = {
    "psychosis": "Relapses follow stopping antipsychotic medication; early signs are poor"
    " sleep, withdrawal and suspiciousness",
    "bipolar": "Relapses into mania after stopping mood stabiliser or losing sleep",
    "mood": "Low mood with hopelessness at times of loss; protective factors are family and work",
    "pd": "Self-harm at times of interpersonal crisis; responds to consistent, planned contact",
    "other": "Distress linked to current stressors; no psychotic features",
}


class _Life:
    """Simulates one person from (seed, index); ``story()`` returns the finished story."""

    def __init__(self, ctx: _Trust, index: int) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = random.Random(f"safetynet-synth:{ctx.seed}:{index}")
        self.events: list[Event] = []
        self.risk_events: list[Event] = []
        self.refusals: list[int] = []
        self.capacity_done: list[int] = []
        self.triggers: list[tuple[int, str]] = []  # (recorded, kind)
        self.admissions: list[tuple[int, str, bool]] = []  # (at, legal, non-adherence before)
        self.med: _Medication | None = None
        self.stop_at = NEVER  # covert stop of medication
        self.relapse_at = NEVER
        self.nonadherent_cycle = False
        self.engaged = True
        self.missed = 0
        self.cto_until = 0
        self.carer: str | None = None
        self.carer_consent = False
        self.quick_readmission = False
        self.first_eip_start = NEVER

    # -- helpers ---------------------------------------------------------------------

    def add(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def clinic_time(self, day: int) -> int:
        """A quarter-hour slot between 09:00 and 16:45 on the first working day from ``day``."""
        day = self.ctx.workday_on_or_after(day)
        return day * DAY + 540 + 15 * self.rng.randrange(32)

    def any_time(self, day: int) -> int:
        """Any minute of the day except 01:00-01:59 (ambiguous or missing at clock changes)."""
        minute = self.rng.randrange(1380)
        return day * DAY + (minute + 60 if minute >= 60 else minute)

    def later(self, t: int, minutes: float) -> int:
        """``t`` plus a delay, stepping over 01:00-01:59 local."""
        out = t + int(minutes)
        if 60 <= out % DAY < 120:
            out += 60
        return out

    def days(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def worker(self, ep: _Episode, t: int) -> str:
        for start, end, staff in ep.allocations:
            if start <= t < end:
                return str(staff)
        return self.rng.choice(self.ctx.key_workers[ep.team])  # a duty worker

    def has_worker(self, ep: _Episode, t: int) -> bool:
        return any(start <= t < end for start, end, _ in ep.allocations)

    # -- the person --------------------------------------------------------------------

    def story(self) -> PersonStory:
        ctx, rng = self.ctx, self.rng
        r = rng.random()
        shares = (
            ("eip", T.ENTRY_EIP.value),
            ("cmht", T.ENTRY_CMHT.value),
            ("assertive_outreach", T.ENTRY_AO.value),
            ("crisis", T.ENTRY_CRISIS.value),
        )
        entry = "liaison"
        for pathway, share in shares:
            if r < share:
                entry = pathway
                break
            r -= share
        self.entry = entry
        self.diagnosis: T.Diagnosis = _weighted(rng, T.DIAGNOSES[entry])
        self.group = self.diagnosis[2]
        self.cmht_index = rng.randrange(len(ctx.cmht))
        self.home_team = ctx.cmht[self.cmht_index]
        self.home_pathway = "cmht"
        if entry == "eip":
            self.home_team, self.home_pathway = ctx.locality(ctx.eip, self.cmht_index), "eip"
        elif entry == "assertive_outreach":
            self.home_team = ctx.locality(ctx.ao, self.cmht_index)
            self.home_pathway = "assertive_outreach"
        self.patient = self._demographics()
        psychotic = self.group in ("psychosis", "bipolar")
        self.poor_adherence = psychotic and rng.random() < T.POOR_ADHERENCE.value
        self.p_dna = rng.betavariate(1.3, 1.3 / T.DNA_ENGAGED.value - 1.3)
        if entry == "assertive_outreach":
            self.p_dna = min(0.5, self.p_dna * 2)
        self.violent = self.group == "psychosis" and rng.random() < T.VIOLENCE_PRONE.value * (
            1.3 if self.sex == "male" else 0.5
        )
        self.substance = rng.random() < (0.3 if psychotic else 0.12)
        if rng.random() < (T.CARER_PSYCHOSIS.value if psychotic else T.CARER_OTHER.value):
            self._choose_carer()
        self._live()
        return self._finish()

    def _demographics(self) -> dict[str, object]:
        ctx, rng = self.ctx, self.rng
        group = self.group
        p_male = {"psychosis": 0.62, "bipolar": 0.45, "pd": 0.25}.get(group, 0.42)
        r = rng.random()
        if r < 0.004:
            sex = "other"
        elif r < 0.007:
            sex = "unknown"
        else:
            sex = "male" if rng.random() < p_male else "female"
        self.sex = sex
        if self.entry == "eip":
            age = 16 + rng.betavariate(2, 5) * 40
        elif self.entry == "assertive_outreach":
            age = 22 + rng.betavariate(2, 3) * 40
        else:
            age = 18 + rng.betavariate(2, 3.2) * 62
        born = date.fromordinal(ctx.window_start // DAY - int(age * 365.25) + rng.randrange(365))
        self.age = age
        if sex == "male" or (sex not in ("female", "male") and rng.random() < 0.5):
            first = rng.choice(ctx.male)
        else:
            first = rng.choice(ctx.female)
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
        table = [(rel, w) for rel, _, w in T.RELATIONSHIPS]
        relationship = _weighted(rng, table)
        if relationship in ("son", "daughter") and self.age < 38:
            relationship = "mother"
        sex = next(s for rel, s, _ in T.RELATIONSHIPS if rel == relationship)
        if sex == "any":
            sex = "f" if rng.random() < 0.6 else "m"
        first = rng.choice(ctx.female if sex == "f" else ctx.male)
        family = relationship not in ("partner", "friend") and rng.random() < 0.85
        self.carer = f"{first} {self.surname if family else rng.choice(ctx.last)}"
        self.carer_relationship = relationship
        self.carer_consent = rng.random() < T.CARER_CONSENT.value

    # -- the life loop -------------------------------------------------------------------

    def _live(self) -> None:
        ctx, rng = self.ctx, self.rng
        end = ctx.end
        prevalent = self.entry in ("eip", "cmht", "assertive_outreach") and (rng.random() < T.PREVALENT.value)
        span = end - 14 * DAY - ctx.window_start
        t = ctx.window_start + rng.randrange(span) if not prevalent else ctx.window_start
        ep: _Episode | None
        if prevalent:
            ep = self._open_prevalent()
            self._start_medication(ep, ctx.window_start, history=True)
        elif self.entry in ("crisis", "liaison"):
            ep = self._first_contact_in_crisis(t)
            t = self._resume_at
        else:
            ep = self._refer(self.home_team, self.home_pathway, t)
            t = ep.start
            self._start_medication(ep, self.later(t, self.days(21, 0.5) * DAY), history=False)
        self._schedule_destabilisation(t)
        exit_at = min(
            t + int(rng.expovariate(T.MOVED_AWAY.value) * 365 * DAY),
            t + int(rng.expovariate(T.DIED.value) * 365 * DAY),
        )
        exit_reason = "moved_away" if rng.random() < 0.72 else "died"
        while t < end:
            if ep is not None:
                stop = min(self.destab_at, ep.planned_end, exit_at, end)
                closed = self._stable(ep, t, stop)
                if closed is not None:
                    t = closed
                    ep = None
                    continue
                t = stop
                if t >= end:
                    break
                if t == exit_at:
                    self._close(ep, t, exit_reason, "none" if exit_reason == "died" else "other")
                    return
                if t == ep.planned_end:
                    ep = self._planned_end(ep, t)
                    continue
                t, ep = self._destabilise(ep, t)
            else:
                reref = NEVER
                p = T.REREFERRAL.value if self.last_discharge_dna else T.REREFERRAL_OTHER.value
                if rng.random() < p:
                    reref = self.later(t, self.days(150, 0.6) * DAY)
                nxt = min(self.destab_at, reref, exit_at)
                if nxt >= end:
                    break
                if nxt == exit_at:
                    return
                if nxt == reref:
                    ep = self._refer(self.home_team, self.home_pathway, reref)
                    t = ep.start
                    if self.med is None and self.group != "other":
                        self._start_medication(ep, self.later(t, 14 * DAY), history=False)
                    continue
                t, ep = self._destabilise(None, nxt)

    # -- referral and episodes ---------------------------------------------------------

    def _refer(self, team: str, pathway: str, t: int, *, wait: float | None = None) -> _Episode:
        rng = self.rng
        self.add({"at": t, "type": "referral_accepted", "team": team})
        if wait is None:
            if pathway == "eip":
                wait = self.days(T.EIP_WAIT.value, 0.7)
            elif pathway in ("cmht", "assertive_outreach"):
                wait = self.days(T.CMHT_WAIT.value if pathway == "cmht" else 14, 0.8)
            else:
                wait = 0.0
        if wait > 10 and rng.random() < T.TRIAGE_SAFETY_PLAN.value:
            when = self.later(t, rng.uniform(1, 7) * DAY)
            self._assessment(when, team, self.ctx.manager[team], triage=True)
        start = self.clinic_time(t // DAY + int(wait)) if wait >= 1 else self.later(t, 30)
        start = max(start, t + 30)
        return self._open(team, pathway, start)

    def _open(self, team: str, pathway: str, start: int) -> _Episode:
        ctx, rng = self.ctx, self.rng
        ep = _Episode(team=team, pathway=pathway, start=start)
        ep.interval = _INTERVAL.get(pathway, 1.0)
        self.add({"at": start, "type": "episode_start", "team": team, "pathway": pathway})
        # Key worker allocation and later changes of key worker, generated up front.
        r = rng.random()
        if pathway in ("crisis", "liaison"):
            delay = rng.uniform(0, 0.5) * DAY if pathway == "crisis" else NEVER
        elif r < T.KW_NEVER.value:
            delay = NEVER
        elif r < T.KW_NEVER.value + T.KW_LATE.value:
            delay = rng.uniform(8, 60) * DAY
        else:
            delay = rng.choice((0.0, 0.0, rng.uniform(0, 7))) * DAY
        if delay < NEVER:
            at = start + int(delay)
            workers = ctx.key_workers[team]
            while at < ctx.end:
                worker = rng.choice(workers)
                tenure = int(rng.expovariate(T.KW_TURNOVER.value) * 365 * DAY)
                ep.allocations.append([at, at + tenure, worker])
                gap = rng.uniform(0, 14) if rng.random() < 0.9 else rng.uniform(15, 60)
                at = self.later(at + tenure, gap * DAY)
        if pathway == "eip":
            self.first_eip_start = min(self.first_eip_start, start)
            ep.planned_end = self.first_eip_start + int(T.EIP_YEARS.value * 365 * DAY)
            if rng.random() < 0.6:
                ep.transfer_to = (ctx.cmht[self.cmht_index], "cmht")
        elif pathway == "assertive_outreach":
            ep.planned_end = start + int(rng.expovariate(1 / 4) * 365 * DAY)
            ep.transfer_to = (ctx.cmht[self.cmht_index], "cmht")
        elif pathway == "cmht":
            mean = 6 * 365 if self.group in ("psychosis", "bipolar") else T.RECOVERED_MOOD.value
            ep.planned_end = start + int(rng.expovariate(1 / mean) * DAY)
        if self.diagnosis_given is False and pathway != "crisis":
            self._diagnose(ep)
        if self.carer and not self.carer_registered and rng.random() < 0.8:
            when = self.clinic_time(start // DAY + rng.randrange(0, 60))
            self.carer_registered = True
            self.add(
                {
                    "at": when,
                    "type": "carer_registered",
                    "team": team,
                    "name": self.carer,
                    "relationship": self.carer_relationship,
                    "consent_to_share": self.carer_consent,
                }
            )
        self.open_eps.append(ep)
        return ep

    diagnosis_given = False
    carer_registered = False
    last_discharge_dna = False
    destab_at = NEVER
    _resume_at = 0

    @property
    def open_eps(self) -> list[_Episode]:
        eps: list[_Episode] | None = getattr(self, "_open_eps", None)
        if eps is None:
            eps = []
            self._open_eps = eps
        return eps

    def _diagnose(self, ep: _Episode) -> None:
        rng = self.rng
        code, display, _ = self.diagnosis
        at = self.clinic_time(ep.start // DAY + rng.randrange(0, 28))
        self.diagnosis_given = True
        self.add(
            {
                "at": at,
                "type": "diagnosis",
                "team": ep.team,
                "by": self.ctx.consultant[ep.team],
                "code": code,
                "system": "icd10",
                "display": display,
            }
        )
        if code in T.PROVISIONAL_PSYCHOSIS and rng.random() < 0.4:
            code, display, _ = T.FIRMED_UP
            self.diagnosis = T.FIRMED_UP
            later = self.clinic_time(at // DAY + rng.randrange(120, 400))
            self.add(
                {
                    "at": later,
                    "type": "diagnosis",
                    "team": ep.team,
                    "by": self.ctx.consultant[ep.team],
                    "code": code,
                    "system": "icd10",
                    "display": display,
                }
            )

    def _open_prevalent(self) -> _Episode:
        """Someone already on the caseload: a backdated opening and a little history."""
        ctx, rng = self.ctx, self.rng
        ws = ctx.window_start
        years = rng.uniform(0.1, 2.6 if self.entry == "eip" else 6.0)
        start_day = ws // DAY - int(years * 365)
        referral = self.clinic_time(start_day - int(self.days(21, 0.6)))
        ep = self._refer(self.home_team, self.home_pathway, referral, wait=(start_day * DAY - referral) / DAY)
        team = ep.team
        # Past admissions and risk events are in the record already (recorded == at).
        if self.group in ("psychosis", "bipolar") and years > 1 and rng.random() < 0.45:
            for _ in range(1 + (rng.random() < 0.35)):
                adm = self.any_time(ep.start // DAY + rng.randrange(30, int(years * 365) - 60))
                legal = _weighted(rng, (("01", 0.35), ("02", 0.3), ("03", 0.35)))
                self.add({"at": adm, "type": "admission", "ward": rng.choice(ctx.wards), "legal_status": legal})
                ward = self.events[-1]["ward"]
                dis = self.clinic_time(adm // DAY + int(self.days(30, 0.5)))
                dis = min(dis, ws - 20 * DAY)
                if dis <= adm:
                    dis = self.later(adm, 2 * DAY)
                self.add({"at": dis, "type": "inpatient_discharge", "ward": ward})
                self.admissions.append((adm, legal, rng.random() < 0.6))
        if self.violent and years > 0.5 and rng.random() < 0.7:
            at = self.any_time(ep.start // DAY + rng.randrange(1, int(years * 365)))
            self._risk(at, "violence_to_others", "minor", "record", "Assaulted a family member when unwell", team=team)
        if self.group == "pd" and rng.random() < 0.7:
            at = self.any_time(ep.start // DAY + rng.randrange(1, max(2, int(years * 365))))
            self._risk(at, "self_harm", "minor", "self", "Cut forearm after argument", team=team)
        # The state just before the window: last contact, assessment and care plan review.
        last_contact = self.clinic_time(ws // DAY - rng.randrange(3, 25))
        if last_contact > ep.start:
            self.add(
                {
                    "at": last_contact,
                    "type": "contact",
                    "team": team,
                    "outcome": "attended",
                    "mode": "face_to_face",
                    "planned": True,
                    "by": self.worker(ep, last_contact),
                }
            )
        ra = self.clinic_time(ws // DAY - rng.randrange(0, 175))
        if ra > ep.start:
            self._assessment(ra, team, self.worker(ep, ra), episode=ep)
        cpr = self.clinic_time(ws // DAY - rng.randrange(0, 330))
        if cpr > ep.start:
            self._care_plan_review(cpr, ep)
            ep.__dict__ if False else None  # noqa: B018 - keeps slots happy for mypy
            self.last_cpr = cpr
        return ep

    last_cpr = 0

    def _planned_end(self, ep: _Episode, t: int) -> _Episode | None:
        """Planned discharge or transfer at the end of an episode's expected length."""
        if ep.transfer_to is not None:
            team, pathway = ep.transfer_to
            handover = self.clinic_time(t // DAY)
            self._close(ep, handover, "transferred", "other_team")
            new = self._refer(team, pathway, handover, wait=self.rng.uniform(0, 10))
            self.home_team, self.home_pathway = team, pathway
            return new
        when = self.clinic_time(t // DAY)
        self._discharge_bundle(ep, when, planned=True)
        self._close(ep, when, "recovered", "gp")
        self._after_gp_discharge(when, non_attendance=False)
        return None

    def _close(self, ep: _Episode, t: int, reason: str, destination: str, rationale: str | None = None) -> None:
        """End the key worker allocation, then the episode, at ``t``."""
        kept: list[list[Any]] = []
        for alloc in ep.allocations:
            if alloc[0] >= t:
                break
            alloc[1] = min(alloc[1], t)
            kept.append(alloc)
        ep.allocations = kept
        self._reviews(ep, t)
        for start, stop, staff in kept:
            self.add(
                {
                    "at": start,
                    "type": "keyworker_assigned",
                    "team": ep.team,
                    "staff": staff,
                    "by": self.ctx.manager[ep.team],
                }
            )
            self.add({"at": stop, "type": "keyworker_ended", "team": ep.team, "staff": staff})
        event: Event = {"at": t, "type": "episode_end", "team": ep.team, "reason": reason, "destination": destination}
        if rationale:
            event["override_rationale"] = rationale
        self.add(event)
        if ep in self.open_eps:
            self.open_eps.remove(ep)
        ep.planned_end = t
        ep.allocations = []

    def _flush_open(self) -> None:
        """Episodes still open at the end of the window: emit their allocations and reviews."""
        for ep in list(self.open_eps):
            self._reviews(ep, self.ctx.end)
            for start, stop, staff in ep.allocations:
                if start > self.ctx.end:
                    break
                self.add(
                    {
                        "at": start,
                        "type": "keyworker_assigned",
                        "team": ep.team,
                        "staff": staff,
                        "by": self.ctx.manager[ep.team],
                    }
                )
                if stop <= self.ctx.end:
                    self.add({"at": stop, "type": "keyworker_ended", "team": ep.team, "staff": staff})

    # -- stable stretches --------------------------------------------------------------

    def _stable(self, ep: _Episode, a: int, b: int, dna_mult: float = 1.0) -> int | None:
        """Planned contacts and depot doses in [a, b); returns a discharge time if discharged."""
        if self.med is not None and self.med.route == "depot":
            self._depot_doses(ep, a, b, refusing=False)
        return self._contacts(ep, a, b, dna_mult)

    def _contacts(self, ep: _Episode, a: int, b: int, dna_mult: float) -> int | None:
        ctx, rng = self.ctx, self.rng
        modes = _MODES_AO if ep.pathway == "assertive_outreach" else _MODES_COMMUNITY
        day = a // DAY + max(1, int(ep.interval * rng.uniform(0.3, 1.0)))
        last = a
        while True:
            t = self.clinic_time(day)
            if t >= b:
                return None
            mode = _weighted(rng, modes)
            if self.engaged:
                p_miss = min(0.6, self.p_dna * dna_mult)
                if rng.random() < T.DISENGAGE.value * dna_mult:
                    self.engaged = False
            else:
                p_miss = T.DNA_DISENGAGED.value
                if rng.random() < T.REENGAGE.value:
                    self.engaged = True
            r = rng.random()
            if r < p_miss:
                outcome = "no_access" if mode == "home_visit" else "dna"
            elif r < p_miss + T.CANCEL_PATIENT.value:
                outcome = "cancelled_by_patient"
            elif r < p_miss + T.CANCEL_PATIENT.value + T.CANCEL_PROVIDER.value:
                outcome = "cancelled_by_provider"
            elif mode == "face_to_face" and r < p_miss + 0.08:
                outcome = "late_not_seen"
            else:
                outcome = "attended"
            by = self.worker(ep, t)
            if rng.random() < T.BOOKED.value:
                booked = max(last + HOUR, t - int(rng.uniform(3, 14) * DAY))
                booked = self.later(booked, 0)
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
            self.add(
                {
                    "at": t,
                    "type": "contact",
                    "team": ep.team,
                    "outcome": outcome,
                    "mode": mode,
                    "planned": True,
                    "by": by,
                }
            )
            last = t
            if outcome == "attended":
                self.missed = 0
                ep.workflow = False
                day = t // DAY + max(1, round(ep.interval * rng.uniform(0.7, 1.3)))
                continue
            if outcome not in ("dna", "no_access"):
                day = t // DAY + rng.randint(2, 7)
                continue
            self.missed += 1
            if rng.random() < T.PHONE_AFTER_DNA.value:
                call = self.later(t, rng.uniform(2, 26) * HOUR)
                if call < b:
                    reached = rng.random() < (0.45 if self.engaged else 0.15)
                    self.add(
                        {
                            "at": call,
                            "type": "contact",
                            "team": ep.team,
                            "outcome": "attended" if reached else "no_access",
                            "mode": "phone",
                            "planned": False,
                            "by": by,
                        }
                    )
                    last = call
                    if reached:
                        self.missed = 0
            if self.missed >= 3 and not ep.workflow:
                ep.workflow = True
                if rng.random() < _DISCHARGE_DNA.get(ep.pathway, 0.0):
                    when = self.clinic_time(t // DAY + rng.randint(7, 28))
                    if when >= b:
                        return None
                    self.add(
                        {
                            "at": self.later(t, 3 * HOUR),
                            "type": "note",
                            "team": ep.team,
                            "by": by,
                            "text": "Opt-in letter sent: please contact the team within 14 days",
                        }
                    )
                    self._discharge_bundle(ep, when, planned=False)
                    dna = rng.random() < 0.7
                    rationale = None
                    if rng.random() < T.OVERRIDE_RECORDED.value:
                        rationale = "Consultant review: no current risk indicators; GP to re-refer if concerned"
                    self._close(ep, when, "non_attendance" if dna else "disengaged", "gp", rationale)
                    self._after_gp_discharge(when, non_attendance=True)
                    return when
                self.add(
                    {
                        "at": self.later(t, 2 * HOUR),
                        "type": "note",
                        "team": ep.team,
                        "by": by,
                        "text": rng.choice(T.DNA_NOTES),
                    }
                )
                if self.carer_registered and rng.random() < 0.5:
                    self.add(
                        {
                            "at": self.later(t, 26 * HOUR),
                            "type": "note",
                            "team": ep.team,
                            "by": by,
                            "text": f"Spoke with {self.carer} ({self.carer_relationship}) about missed appointments",
                        }
                    )
            day = t // DAY + rng.randint(3, 7)

    def _depot_doses(self, ep: _Episode, a: int, b: int, *, refusing: bool) -> None:
        med, rng = self.med, self.rng
        assert med is not None
        while med.next_due < b:
            due_day = max(med.next_due, a) // DAY
            r = rng.random()
            if r < T.DEPOT_LATE.value:
                offset = rng.randint(8, 20)
            elif r < T.DEPOT_LATE.value + 0.08:
                offset = rng.randint(4, 7)
            else:
                offset = rng.randint(-3, 3)
            t = self.clinic_time(due_day + offset)
            if t < a:
                t = self.clinic_time(a // DAY + 1)
            if t >= b:
                return
            by = self.worker(ep, t)
            if refusing or rng.random() < T.DEPOT_REFUSED.value:
                self.add({"at": t, "type": "depot_refused", "team": ep.team, "drug": med.drug, "by": by})
                self.refusals.append(t)
                self.triggers.append((t, "depot_refused"))
                self._maybe_capacity(ep, t)
                if refusing:
                    med.next_due = t + 7 * DAY
                    continue
                retry = self.clinic_time(t // DAY + rng.randint(3, 8))
                if retry < b and rng.random() < 0.75:
                    self.add({"at": retry, "type": "depot_given", "team": ep.team, "drug": med.drug, "by": by})
                    med.next_due = retry + med.interval * DAY
                else:
                    med.next_due = t + med.interval * DAY
                continue
            self.add({"at": t, "type": "depot_given", "team": ep.team, "drug": med.drug, "by": by})
            med.next_due = t + med.interval * DAY

    def _maybe_capacity(self, ep: _Episode, t: int) -> None:
        recent = [x for x in self.refusals if t - 90 * DAY <= x <= t]
        if len(recent) < 3 or any(t - 90 * DAY <= c <= t for c in self.capacity_done):
            return
        if self.rng.random() < T.CAPACITY_AFTER_REFUSALS.value:
            when = self.clinic_time(t // DAY + self.rng.randint(1, 14))
            self._capacity(when, ep.team, "antipsychotic medication")
        else:
            self.capacity_done.append(t)  # the moment passed; do not ask again in this window

    def _capacity(self, t: int, team: str, about: str) -> None:
        outcome = "lacks_capacity" if self.rng.random() < 0.35 else "has_capacity"
        self.capacity_done.append(t)
        self.add(
            {
                "at": t,
                "type": "capacity_assessment",
                "team": team,
                "by": self.ctx.consultant[team],
                "decision_about": about,
                "outcome": outcome,
            }
        )

    # -- medication --------------------------------------------------------------------

    def _start_medication(self, ep: _Episode, t: int, *, history: bool, depot: bool | None = None) -> None:
        """Prescribe (or re-prescribe) the regular medication and schedule its covert stop."""
        rng = self.rng
        group = self.group
        if group == "other" or (group == "pd" and rng.random() < 0.6):
            self.med = None
            return
        if group == "psychosis":
            if depot is None:
                share = T.DEPOT_PSYCHOSIS.value
                share = {"eip": share / 3, "assertive_outreach": share * 1.7}.get(ep.pathway, share * 1.05)
                depot = rng.random() < share
            if depot:
                drug, dose, interval = rng.choice(T.DEPOTS)
                med = _Medication(drug, "depot", dose, interval)
            elif ep.pathway == "assertive_outreach" and rng.random() < 0.3:
                med = _Medication(*T.CLOZAPINE, route="oral")
            else:
                med = _Medication(*rng.choice(T.ORAL_ANTIPSYCHOTICS), route="oral")
        elif group == "bipolar":
            med = _Medication(*rng.choice(T.MOOD_STABILISERS), route="oral")
        else:
            med = _Medication(*rng.choice(T.ANTIDEPRESSANTS), route="oral")
        start = t
        if history:  # a prescription from before the window
            start = max(ep.start + DAY, self.clinic_time(ep.start // DAY + rng.randrange(7, 60)))
            start = min(start, t - DAY)
        if self.med is not None and self.med.drug != med.drug and not self.stopped_recorded:
            self.add(
                {
                    "at": self.later(start, -5),
                    "type": "medication_stop",
                    "team": ep.team,
                    "by": self.ctx.consultant[ep.team],
                    "drug": self.med.drug,
                    "reason": "Switched",
                }
            )
        self.med = med
        self.stopped_recorded = False
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
                med.next_due = t + rng.randrange(0, med.interval) * DAY
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
                med.next_due = start + med.interval * DAY
        self._schedule_destabilisation(t)

    stopped_recorded = False

    def _schedule_destabilisation(self, t: int) -> None:
        """When the next relapse or crisis begins (``destab_at``) and peaks (``relapse_at``)."""
        rng = self.rng
        if self.group in ("psychosis", "bipolar"):
            if self.med is None:
                self.stop_at = t
            else:
                mean = T.STOP_POOR.value if self.poor_adherence else T.STOP_GOOD.value
                if self.med.route == "depot":
                    mean *= 2.5  # refusing an injection is visible; stopping tablets is not
                if self.cto_until > t:
                    mean *= 2
                self.stop_at = t + int(rng.expovariate(1 / mean) * DAY)
            after_stop = self.stop_at + int(self.days(T.RELAPSE_AFTER_STOP.value, 0.8) * DAY)
            breakthrough = t + int(rng.expovariate(T.RELAPSE_ON_MEDS.value) * 365 * DAY)
            if after_stop <= breakthrough:
                self.nonadherent_cycle = True
                self.destab_at, self.relapse_at = max(self.stop_at, t + DAY), after_stop
            else:
                self.nonadherent_cycle = False
                self.relapse_at = breakthrough
                self.destab_at = max(t + DAY, breakthrough - 14 * DAY)
        else:
            rate = {"pd": T.CRISIS_PD.value, "mood": T.CRISIS_MOOD.value}.get(self.group, 0.1)
            self.nonadherent_cycle = False
            self.relapse_at = t + DAY + int(rng.expovariate(rate) * 365 * DAY)
            self.destab_at = max(t + DAY, self.relapse_at - 10 * DAY)
        if self.quick_readmission:
            self.quick_readmission = False
            self.nonadherent_cycle = False
            self.relapse_at = t + int(rng.uniform(3, 28) * DAY)
            self.destab_at = max(t + DAY, self.relapse_at - 2 * DAY)

    # -- relapse and crisis ------------------------------------------------------------

    def _destabilise(self, ep: _Episode | None, t: int) -> tuple[int, _Episode | None]:
        """From the first sign (``t``) to the crisis and its resolution; returns when stable."""
        rng = self.rng
        crisis = max(self.relapse_at, t + DAY)
        team = ep.team if ep is not None else None
        nonadherence_signal = False
        if self.nonadherent_cycle and self.med is not None:
            nonadherence_signal = True
            if self.med.route == "depot" and ep is not None:
                self._depot_doses(ep, t, crisis, refusing=True)
                stop = self.clinic_time(crisis // DAY - rng.randint(1, 10))
                if stop > t:
                    self.add(
                        {
                            "at": stop,
                            "type": "medication_stop",
                            "team": ep.team,
                            "by": self.ctx.consultant[ep.team],
                            "drug": self.med.drug,
                            "reason": "Declining depot",
                        }
                    )
                    self.stopped_recorded = True
            else:
                detect = t + int(rng.uniform(14, 60) * DAY)
                if ep is not None and detect < crisis and rng.random() < T.EARLY_DETECTION.value:
                    detect = self.clinic_time(detect // DAY)
                    self._report_non_adherence(ep, detect)
                    self.add(
                        {
                            "at": detect,
                            "type": "medication_stop",
                            "team": ep.team,
                            "by": self.worker(ep, detect),
                            "drug": self.med.drug,
                            "reason": "Stopped taking it; says he no longer needs it"
                            if self.sex == "male"
                            else "Stopped taking it; says she no longer needs it",
                        }
                    )
                    self.stopped_recorded = True
                    if rng.random() < T.RESTART_AVERTS.value:
                        restart = self.clinic_time(detect // DAY + rng.randint(7, 21))
                        closed = self._contacts(ep, t, restart, 2.0)
                        if closed is not None:
                            return closed, None
                        self._start_medication(
                            ep, restart, history=False, depot=False if self.med.route == "oral" else None
                        )
                        return restart, ep
                else:
                    # The team only finds out afterwards: recorded at the crisis.
                    self.add(
                        {
                            "at": t,
                            "recorded": self.later(crisis, 6 * HOUR),
                            "type": "medication_stop",
                            "team": team or self.home_team,
                            "drug": self.med.drug,
                            "reason": "Stopped some weeks before relapse (reported on admission)",
                        }
                    )
                    self.stopped_recorded = True
        if ep is not None:
            closed = self._contacts(ep, t, crisis, 2.5)
            if closed is not None:
                ep = None
        # Signals in the days before the crisis.
        self._signals_before_crisis(ep, crisis)
        police = self._police(ep, crisis)
        return self._crisis(ep, crisis, police, nonadherence_signal)

    def _report_non_adherence(self, ep: _Episode, t: int) -> None:
        rng = self.rng
        source, detail = _weighted(
            rng,
            (
                (("family", "Family say tablets are not being taken"), 0.3),
                (("staff", "Tablets found unused at home visit"), 0.3),
                (("pharmacy", "Prescription not collected for six weeks"), 0.2),
                (("self", "Says he has stopped taking medication"), 0.2),
            ),
        )
        self.add(
            {
                "at": t,
                "type": "adherence_report",
                "team": ep.team,
                "status": "non_adherent",
                "source": source,
                "detail": detail,
                "by": self.worker(ep, t),
            }
        )
        self.refusals.append(t)
        self.triggers.append((t, "non_adherence"))
        self._risk(t, "non_adherence", "none", "family" if source == "family" else "record", detail, team=ep.team)
        if rng.random() < 0.5:
            later = self.clinic_time(t // DAY + rng.randint(7, 28))
            self.add(
                {
                    "at": later,
                    "type": "adherence_report",
                    "team": ep.team,
                    "status": rng.choice(("partial", "non_adherent")),
                    "source": rng.choice(("family", "staff", "self")),
                    "by": self.worker(ep, later),
                }
            )
            self.refusals.append(later)
        self._maybe_capacity(ep, t)

    def _signals_before_crisis(self, ep: _Episode | None, crisis: int) -> None:
        rng = self.rng
        team = ep.team if ep is not None else None
        psychotic = self.group in ("psychosis", "bipolar")
        if self.carer and rng.random() < T.FAMILY_CONCERN.value and team is not None and ep is not None:
            for _ in range(1 + (rng.random() < 0.3)):
                at = self.any_time(crisis // DAY - rng.randint(1, 18))
                if at < ep.start:
                    continue
                at = max(at, ep.start + HOUR)
                self._family_concern(ep, at)
        if psychotic:
            if self.violent and rng.random() < 0.6:
                cat = _weighted(rng, (("threats", 0.5), ("violence_to_others", 0.4), ("weapon", 0.1)))
                text = {
                    "threats": "Threatened neighbour",
                    "violence_to_others": "Pushed and punched his father",
                    "weapon": "Seen carrying a knife",
                }[cat]
                at = self.any_time(crisis // DAY - rng.randint(0, 10))
                source = "family" if rng.random() < 0.5 else "record"
                self._risk(
                    at,
                    cat,
                    rng.choice(("none", "minor", "minor", "serious")),
                    source,
                    text,
                    team=team,
                    lag=rng.uniform(0, 3) * DAY,
                )
            if rng.random() < 0.3:
                at = self.any_time(crisis // DAY - rng.randint(0, 14))
                self._risk(
                    at,
                    "self_neglect",
                    "minor",
                    "record" if team else "other",
                    "Not eating; flat in poor state",
                    team=team,
                )
        else:
            cat = "suicide_attempt" if rng.random() < 0.2 else "self_harm"
            text = "Overdose of paracetamol" if cat == "suicide_attempt" else "Cut arms after argument"
            self._risk(
                self.any_time(crisis // DAY),
                cat,
                rng.choice(("minor", "minor", "serious")),
                rng.choice(("self", "family", "other")),
                text,
                team=team,
                lag=rng.uniform(0, 2) * DAY,
            )
        if self.substance and rng.random() < 0.4:
            at = self.any_time(crisis // DAY - rng.randint(0, 20))
            self._risk(at, "substance_misuse", "none", "self", "Using cannabis daily", team=team)

    def _police(self, ep: _Episode | None, crisis: int) -> str | None:
        """Police involvement around the crisis; returns the kind, if any."""
        rng = self.rng
        if self.group not in ("psychosis", "bipolar"):
            return None
        p = T.POLICE_IN_RELAPSE.value + (0.35 if self.violent else 0.0) + (0.1 if ep is None else 0)
        if rng.random() >= p:
            return None
        kind = _weighted(
            rng, (("incident", 0.6), ("arrest", 0.2), ("warrant", 0.06), ("charge", 0.06), ("liaison_diversion", 0.08))
        )
        at = self.any_time(crisis // DAY - rng.randint(0, 6))
        violence = self.violent and rng.random() < 0.55
        weapon = violence and rng.random() < 0.12
        r = rng.random()
        lag = rng.uniform(2, 30) * HOUR if r < 0.3 else self.days(T.POLICE_LAG.value, 0.9) * DAY
        if kind == "warrant":
            lag = max(lag, rng.uniform(10, 60) * DAY)  # the inbox nobody read
        if r > 0.95:
            return kind  # never reaches the mental health team
        recorded = self.later(at, lag)
        event: Event = {
            "at": at,
            "recorded": recorded,
            "type": "partner_info",
            "agency": "police",
            "kind": kind,
            "violence": violence,
            "detail": rng.choice(T.POLICE_TEXTS[kind]),
        }
        if weapon:
            event["weapon"] = True
        self.add(event)
        self.triggers.append((recorded, "police"))
        if violence:
            self._risk(
                at,
                "weapon" if weapon else "violence_to_others",
                rng.choice(("minor", "serious")),
                "police",
                event["detail"],
                team=ep.team if ep else None,
                lag=lag,
            )
        if kind == "arrest" and rng.random() < 0.3:
            court = self.clinic_time(at // DAY + rng.randint(20, 90))
            self.add(
                {
                    "at": court,
                    "recorded": self.later(court, rng.uniform(0, 20) * DAY),
                    "type": "partner_info",
                    "agency": "court",
                    "kind": "court_date",
                    "violence": violence,
                    "detail": "Hearing listed at magistrates' court",
                }
            )
        return kind

    def _crisis(
        self, ep: _Episode | None, t: int, police: str | None, nonadherence: bool
    ) -> tuple[int, _Episode | None]:
        rng = self.rng
        psychotic = self.group in ("psychosis", "bipolar")
        r = rng.random()
        if self.cto_until > t and rng.random() < T.CTO_RECALL.value:
            self.add({"at": t, "type": "cto_recall", "reason": "Not taking medication; relapse signs"})
            return self._admit(ep, self.later(t, 4 * HOUR), nonadherence, police, recall=True)
        if psychotic:
            p_admit = T.ADMIT_ON_RELAPSE.value + (0.2 if police else 0.0) + (0.15 if ep is None else 0)
            if r < p_admit:
                return self._admit(ep, t, nonadherence, police)
            if r < p_admit + T.HOME_TREATMENT.value:
                return self._home_treatment(ep, t, nonadherence, police)
            # Managed by the community team: medication restarted, contact stepped up.
            if ep is None:
                return self._liaison(None, t)
            restart = self.clinic_time(t // DAY + rng.randint(0, 7))
            self._start_medication(ep, restart, history=False)
            return restart, ep
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
        rng, ctx = self.rng, self.ctx
        concern = self.add(
            {
                "at": at,
                "type": "family_concern",
                "team": ep.team,
                "from": self.carer,
                "channel": _weighted(rng, (("phone", 0.7), ("email", 0.15), ("in_person", 0.1), ("letter", 0.05))),
                "text": rng.choice(T.CONCERN_TEXTS),
            }
        )
        self.triggers.append((at, "family_concern"))
        r = rng.random()
        if r < T.CONCERN_NEVER.value:
            return
        day = at // DAY
        if r < T.CONCERN_NEVER.value + T.CONCERN_ON_TIME.value:
            # By the end of the next working day; most the same day.
            same = ctx.is_workday(day) and at % DAY < 16 * HOUR and rng.random() < 0.6
            reply_day = day if same else ctx.workday_on_or_after(day + 1)
            reply = reply_day * DAY + rng.randrange(max(at % DAY + 30, 540) if same else 540, 1020)
        else:
            reply = self.clinic_time(ctx.workday_on_or_after(day + 1) + rng.randint(1, 6))
        reply = max(reply, at + 15)
        self.add(
            {
                "at": reply,
                "type": "family_concern_response",
                "team": ep.team,
                "ref": concern,
                "by": self.worker(ep, reply),
                "text": rng.choice(T.RESPONSE_TEXTS),
            }
        )

    # -- acute care --------------------------------------------------------------------

    def _admit(
        self, ep: _Episode | None, t: int, nonadherence: bool, police: str | None, *, recall: bool = False
    ) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        ward = rng.choice(ctx.wards)
        if recall:
            legal = "03"
        else:
            legal = _weighted(
                rng, (("01", T.INFORMAL.value), ("02", T.S2.value), ("03", T.S3.value), ("10", T.S37.value))
            )
            if legal == "10" and police not in ("arrest", "charge", "warrant"):
                legal = "03"
            if self.group not in ("psychosis", "bipolar") and rng.random() < 0.6:
                legal = "01"
            if police and legal == "01" and rng.random() < 0.5:
                legal = "02"
        past_s3 = any(l in ("03", "10") for _, l, _ in self.admissions)
        self.admissions.append((t, legal, nonadherence))
        self.add({"at": t, "type": "admission", "ward": ward, "legal_status": legal})
        self.triggers.append((t, "admission"))
        if recall:
            self.add({"at": self.later(t, 2 * DAY), "type": "cto_end", "reason": "Revoked; detained under s3"})
            self.cto_until = 0
        los_median = {"01": T.LOS_INFORMAL.value, "02": T.LOS_S2.value}.get(legal, T.LOS_S3.value)
        los = max(2.0, self.days(los_median, 0.6))
        dis = self.clinic_time(t // DAY + int(los))
        if rng.random() < 0.12:  # discharges bunch before the weekend
            dis = self.clinic_time(dis // DAY + (4 - (dis // DAY - 1) % 7) % 7)
        current = legal
        if legal == "01" and rng.random() < T.INFORMAL_TO_S2.value and los > 4:
            current = "02"
            self.add(
                {
                    "at": self.any_time(t // DAY + rng.randint(1, min(10, int(los) - 2))),
                    "type": "legal_status_change",
                    "team": ward,
                    "code": "02",
                }
            )
        if current == "02" and los > 16 and rng.random() < T.S2_TO_S3.value:
            current = "03"
            self.add(
                {
                    "at": self.clinic_time(t // DAY + rng.randint(13, min(27, int(los) - 2))),
                    "type": "legal_status_change",
                    "team": ward,
                    "code": "03",
                }
            )
        if current != "01" and rng.random() < 0.2 and los > 8:
            current = "01"
            self.add(
                {
                    "at": self.clinic_time(dis // DAY - rng.randint(2, 5)),
                    "type": "legal_status_change",
                    "team": ward,
                    "code": "01",
                }
            )
        # Ward work.
        ward_staff = ctx.key_workers[ward]
        if rng.random() < 0.85:
            self._assessment(self.later(t, rng.uniform(0.3, 6) * DAY), ward, rng.choice(ward_staff))
        if ep is None and self.home_team:
            ref = self.later(t, rng.uniform(2, min(10, los - 1)) * DAY)
            ep = self._refer(self.home_team, self.home_pathway, ref, wait=0)
        if self.group != "other":
            self._restart_in_hospital(ep, ward, t, dis, nonadherence)
        if rng.random() < (0.3 if current != "01" else 0.1):
            self._capacity(self.clinic_time(t // DAY + rng.randint(2, 10)), ward, "treatment for mental disorder")
        if current != "01" and rng.random() < 0.05:
            self._risk(
                self.any_time(t // DAY + rng.randint(1, max(1, int(los) - 1))),
                "absconding",
                "none",
                "record",
                "Failed to return from escorted leave",
                team=ward,
            )
        cycle = self._in_relapse_cycle(t)
        if ep is not None:
            self._requests_on_admission(ep, ward, t, dis, cycle)
        if cycle:
            self._cycle_decisions(ward, t, dis)
        if legal == "02" and past_s3 and rng.random() < T.MDT_LEGAL.value:
            self.add(
                {
                    "at": self.clinic_time(t // DAY + rng.randint(1, 7)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": ctx.consultant[ward],
                    "topic": "legal_framework",
                    "decision": "Convert to s3 if treatment needed beyond 28 days",
                    "rationale": "Earlier admissions under s3; s2 alone closes off CTO and s117 aftercare",
                }
            )
        if ep is not None:  # care coordinator visits the ward
            visit = t // DAY + rng.randint(3, 12)
            while (vt := self.clinic_time(visit)) < dis:
                self.add(
                    {
                        "at": vt,
                        "type": "contact",
                        "team": ep.team,
                        "outcome": "attended",
                        "mode": "face_to_face",
                        "planned": True,
                        "by": self.worker(ep, vt),
                    }
                )
                visit += rng.randint(10, 21)
        if rng.random() < 0.85:
            self._assessment(
                self.clinic_time(dis // DAY - rng.randint(0, 10)), ward, rng.choice(ward_staff), predischarge=True
            )
        if ep is not None and rng.random() < 0.6:
            self._care_plan_review(self.clinic_time(dis // DAY - rng.randint(0, 5)), ep)
        return self._discharge_from_ward(ep, ward, dis, current)

    def _restart_in_hospital(self, ep: _Episode | None, ward: str, t: int, dis: int, nonadherence: bool) -> None:
        rng = self.rng
        stub = ep or _Episode(team=ward, pathway="inpatient", start=t)
        team_ep = _Episode(team=ward, pathway="inpatient", start=t, allocations=stub.allocations)
        depot = None
        if self.group == "psychosis" and nonadherence and (self.med is None or self.med.route == "oral"):
            depot = rng.random() < T.SWITCH_TO_DEPOT.value or self.decided_depot
        self.decided_depot = False
        if depot:
            when = self.clinic_time(t // DAY + rng.randint(5, 20))
            if when >= dis:
                when = self.later(dis, -3 * HOUR)
        else:
            when = self.later(t, rng.uniform(0.5, 4) * DAY)
        when = max(when, t + HOUR)
        self._start_medication(team_ep, when, history=False, depot=depot)

    decided_depot = False

    def _in_relapse_cycle(self, t: int) -> bool:
        recent = [a for a, _, nonadh in self.admissions if t - 730 * DAY <= a <= t and nonadh]
        return len(recent) >= 2

    def _requests_on_admission(self, ep: _Episode, ward: str, t: int, dis: int, cycle: bool) -> None:
        rng = self.rng
        p = 0.6 if (ep.pathway == "eip" and cycle) else (0.35 if cycle else 0.08)
        if rng.random() >= p:
            return
        ask = rng.choice(("cto", "depot")) if self.group == "psychosis" else "review"
        when = self.clinic_time(t // DAY + rng.randint(2, 10))
        detail = {
            "cto": "Please consider a CTO on discharge: third relapse after stopping medication",
            "depot": "Please consider depot: repeated covert non-adherence",
            "review": "Please review treatment plan before discharge",
        }[ask]
        self._cross_team(ep.team, ward, ask, when, detail)

    def _cross_team(self, from_team: str, to_team: str, ask: str, when: int, detail: str) -> Event:
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
        if r < T.REQUEST_NEVER.value:
            return request
        days = rng.uniform(0.5, 7) if r < T.REQUEST_NEVER.value + T.REQUEST_ON_TIME.value else rng.uniform(8, 30)
        answer = _weighted(rng, (("accepted", 0.5), ("declined", 0.35), ("other", 0.15)))
        rationale = {
            "accepted": "Agreed at ward round",
            "declined": "Not eligible: not detained under s3"
            if ask == "cto"
            else "Patient declines; will keep under review",
            "other": "Deferred to CPA meeting",
        }[answer]
        self.add(
            {
                "at": self.clinic_time((when + int(days * DAY)) // DAY),
                "type": "cross_team_response",
                "team": to_team,
                "by": self.ctx.consultant[to_team],
                "ref": request,
                "answer": answer,
                "rationale": rationale,
            }
        )
        request["_answer"] = answer
        return request

    def _cycle_decisions(self, ward: str, t: int, dis: int) -> None:
        rng, ctx = self.rng, self.ctx
        if rng.random() < T.MDT_DEPOT.value:
            depot = rng.random() < 0.55
            self.decided_depot = depot
            self.add(
                {
                    "at": self.clinic_time(t // DAY + rng.randint(3, 14)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": ctx.consultant[ward],
                    "topic": "depot",
                    "decision": "Start depot" if depot else "Continue oral medication",
                    "rationale": "Relapses follow stopping oral medication"
                    if depot
                    else "Patient strongly opposes injections; adherence support and family monitoring agreed",
                }
            )
        if rng.random() < T.MDT_CTO.value:
            self.add(
                {
                    "at": self.clinic_time(t // DAY + rng.randint(3, 14)),
                    "type": "mdt_decision",
                    "team": ward,
                    "by": ctx.consultant[ward],
                    "topic": "cto",
                    "decision": rng.choice(("Consider CTO on discharge if on s3", "CTO not indicated")),
                    "rationale": "Repeated relapse after stopping treatment in the community",
                }
            )

    def _discharge_from_ward(self, ep: _Episode | None, ward: str, dis: int, legal: str) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        day = dis // DAY
        weekend = (day - 1) % 7 >= 4 or not ctx.is_workday(day)
        p_crisis = T.CRISIS_ACCEPTS_WEEKEND.value if weekend else T.CRISIS_ACCEPTS.value
        crisis_accepted = rng.random() < p_crisis
        event: Event = {"at": dis, "type": "inpatient_discharge", "ward": ward, "crisis_team_accepted": crisis_accepted}
        if self.carer_registered:
            event["carer_informed"] = rng.random() < T.CARER_INFORMED.value
        self.add(event)
        self.triggers.append((dis, "inpatient_discharge"))
        if rng.random() < 0.8:
            self._gp_letter(self.later(dis, rng.uniform(1, 48) * HOUR), ward, complete=rng.random() < 0.35)
        if (
            legal in ("03", "10")
            and ep is not None
            and rng.random() < T.CTO_AFTER_S3.value + (0.15 if len(self.admissions) > 1 else 0)
        ):
            self._cto(ep, dis)
        crisis_ep = None
        if crisis_accepted:
            team = ctx.locality(ctx.crisis, self.cmht_index)
            crisis_ep = self._refer(team, "crisis", self.later(dis, 10), wait=0)
        # Follow-up within 72 hours, usually by the care coordinator, sometimes by crisis.
        follow = ep or crisis_ep
        if follow is not None:
            by_crisis = crisis_ep is not None and (ep is None or rng.random() < 0.5)
            f_ep = crisis_ep if by_crisis and crisis_ep is not None else follow
            if rng.random() < T.FOLLOW_UP_72H.value:
                at = self.later(dis, rng.uniform(3, 70) * HOUR)
            else:
                if rng.random() < 0.5:
                    miss = self.later(dis, rng.uniform(20, 68) * HOUR)
                    self.add(
                        {
                            "at": miss,
                            "type": "contact",
                            "team": f_ep.team,
                            "outcome": "no_access",
                            "mode": "home_visit",
                            "planned": True,
                            "by": self.worker(f_ep, miss),
                        }
                    )
                at = self.later(dis, rng.uniform(73, 14 * 24) * HOUR)
            self.add(
                {
                    "at": at,
                    "type": "contact",
                    "team": f_ep.team,
                    "outcome": "attended",
                    "mode": rng.choice(("home_visit", "home_visit", "phone")),
                    "planned": True,
                    "by": self.worker(f_ep, at),
                }
            )
            if ep is not None and rng.random() < T.RA_AFTER_TRIGGER.value:
                self._assessment(
                    self.clinic_time(dis // DAY + rng.randint(1, 7)), ep.team, self.worker(ep, dis), episode=ep
                )
        resume = dis + 3 * DAY
        if crisis_ep is not None:
            resume = self._crisis_contacts(
                crisis_ep, dis, rng.uniform(7, 21), outcome_reason="recovered", destination="other_team" if ep else "gp"
            )
        if rng.random() < T.READMIT_30D.value:
            self.quick_readmission = True
        self._schedule_destabilisation(resume)
        return resume, ep

    def _cto(self, ep: _Episode, dis: int) -> None:
        rng = self.rng
        at = self.later(dis, 5)
        expires = date.fromordinal(at // DAY + 182)
        self.add(
            {
                "at": at,
                "type": "cto_start",
                "team": ep.team,
                "expires": expires,
                "conditions": "Reside at home address; accept medication as prescribed; attend appointments",
                "by": self.ctx.consultant[ep.team],
            }
        )
        self.cto_until = at + 182 * DAY
        r = rng.random()
        if r < 0.5:
            self.add({"at": self.clinic_time(at // DAY + 182), "type": "cto_end", "reason": "Expired; not renewed"})
        elif r < 0.7:
            self.cto_until = self.clinic_time(at // DAY + rng.randint(60, 170))
            self.add({"at": self.cto_until, "type": "cto_end", "reason": "Discharged by responsible clinician"})
        else:
            renew = self.clinic_time(at // DAY + 182)
            self.add({"at": renew, "type": "cto_end", "reason": "Period ended; renewed"})
            self.add(
                {
                    "at": self.later(renew, 1),
                    "type": "cto_start",
                    "team": ep.team,
                    "expires": date.fromordinal(renew // DAY + 182),
                    "conditions": "As before",
                    "by": self.ctx.consultant[ep.team],
                }
            )
            self.cto_until = renew + 182 * DAY
            self.add({"at": self.clinic_time(renew // DAY + 182), "type": "cto_end", "reason": "Expired; not renewed"})

    def _home_treatment(
        self, ep: _Episode | None, t: int, nonadherence: bool, police: str | None
    ) -> tuple[int, _Episode | None]:
        ctx, rng = self.ctx, self.rng
        team = ctx.locality(ctx.crisis, self.cmht_index)
        if ep is not None and rng.random() < 0.5:
            self._cross_team(
                ep.team, team, "assessment", self.later(t, -2 * HOUR), "Relapse: please assess for home treatment"
            )
        crisis_ep = self._refer(team, "crisis", t, wait=0)
        if ep is None and self.home_team:
            pass  # a re-referral follows discharge from the crisis team (below)
        if rng.random() < HT_ESCALATE:
            admit = self.later(t, rng.uniform(3, 14) * DAY)
            self._crisis_contacts(
                crisis_ep, t, (admit - t) / DAY, outcome_reason="transferred", destination="other_team", until=admit
            )
            return self._admit(ep, self.later(admit, 30), nonadherence, police)
        if ep is not None and self.med is not None and nonadherence:
            self._start_medication(ep, self.clinic_time(t // DAY + rng.randint(0, 4)), history=False)
        resume = self._crisis_contacts(
            crisis_ep, t, rng.uniform(14, 42), outcome_reason="recovered", destination="other_team" if ep else "gp"
        )
        if ep is None and rng.random() < 0.5:
            ep = self._refer(self.home_team, self.home_pathway, self.later(resume, -DAY))
        self._schedule_destabilisation(resume)
        return max(resume, ep.start if ep else resume), ep

    def _crisis_contacts(
        self,
        ep: _Episode,
        t: int,
        length_days: float,
        *,
        outcome_reason: str,
        destination: str,
        until: int | None = None,
    ) -> int:
        rng = self.rng
        end = until if until is not None else self.clinic_time(t // DAY + max(1, int(length_days)))
        at = self.later(t, rng.uniform(1, 6) * HOUR)
        while at < end:
            mode = "home_visit" if rng.random() < 0.6 else "phone"
            r = rng.random()
            outcome = "attended" if r < 0.88 else ("no_access" if mode == "home_visit" else "dna")
            self.add(
                {
                    "at": at,
                    "type": "contact",
                    "team": ep.team,
                    "outcome": outcome,
                    "mode": mode,
                    "planned": True,
                    "by": self.worker(ep, at),
                }
            )
            at = self.any_time(at // DAY + rng.choice((1, 1, 2)))
            at = max(at, at - at % DAY + 8 * HOUR)
        close = max(end, at - DAY) if until is None else end
        close = max(close, t + HOUR)
        self._close(ep, close, outcome_reason, destination)
        return close

    def _liaison(self, ep: _Episode | None, t: int) -> tuple[int, _Episode | None]:
        """A&E presentation seen by liaison psychiatry."""
        ctx, rng = self.ctx, self.rng
        team = ctx.locality(ctx.liaison, self.cmht_index)
        at = self.any_time(t // DAY)
        liaison = self._refer(team, "liaison", at, wait=0)
        seen = self.later(liaison.start, rng.uniform(1, 5) * HOUR)
        self.add(
            {
                "at": seen,
                "type": "contact",
                "team": team,
                "outcome": "attended",
                "mode": "face_to_face",
                "planned": False,
                "by": self.worker(liaison, seen),
            }
        )
        cat = "suicide_attempt" if rng.random() < 0.25 else "self_harm"
        self._risk(
            self.later(at, -2 * HOUR),
            cat,
            rng.choice(("minor", "serious")),
            "other",
            "Attended emergency department after overdose"
            if cat == "suicide_attempt"
            else "Attended emergency department with self-inflicted cuts",
            team=team,
            lag=3 * HOUR,
        )
        self._assessment(self.later(seen, 30), team, self.worker(liaison, seen))
        close = self.later(seen, rng.uniform(2, 30) * HOUR)
        if ep is not None:
            self._close(liaison, close, "transferred", "other_team")
            self._schedule_destabilisation(close)
            return close + DAY, ep
        if rng.random() < 0.55 and self.home_team:
            req = self._cross_team(
                team, self.home_team, "assessment", self.later(seen, 60), "Seen in ED; please assess for secondary care"
            )
            self._close(liaison, close, "transferred", "other_team")
            if req.get("_answer") == "accepted":
                ep = self._refer(self.home_team, self.home_pathway, self.clinic_time(close // DAY + rng.randint(1, 10)))
                if self.med is None and self.group not in ("other",):
                    self._start_medication(ep, self.later(ep.start, 7 * DAY), history=False)
                self._schedule_destabilisation(ep.start)
                return ep.start, ep
        else:
            self._close(liaison, close, "other", "gp")
        self.last_discharge_dna = False
        self._schedule_destabilisation(close)
        return close + DAY, None

    def _first_contact_in_crisis(self, t: int) -> _Episode | None:
        """People whose first contact is the crisis team or liaison psychiatry."""
        rng = self.rng
        if self.entry == "liaison":
            resume, ep = self._liaison(None, t)
        else:
            team = self.ctx.locality(self.ctx.crisis, self.cmht_index)
            crisis_ep = self._refer(team, "crisis", t, wait=0)
            if self.group in ("psychosis", "bipolar", "mood") and rng.random() < 0.7:
                self._start_medication(crisis_ep, self.later(t, DAY), history=False)
            onward = rng.random() < 0.45
            resume = self._crisis_contacts(
                crisis_ep,
                t,
                rng.uniform(10, 42),
                outcome_reason="recovered" if not onward else "transferred",
                destination="other_team" if onward else "gp",
            )
            ep = None
            if onward:
                ep = self._refer(self.home_team, self.home_pathway, self.later(resume, -2 * HOUR))
                resume = ep.start
        self._resume_at = resume
        return ep

    # -- discharge to GP ----------------------------------------------------------------

    def _discharge_bundle(self, ep: _Episode, t: int, *, planned: bool) -> None:
        """What a team does before discharging someone to their GP (often not all of it)."""
        rng = self.rng
        if rng.random() < (0.8 if planned else 0.3):
            self._assessment(
                self.clinic_time(t // DAY - rng.randint(0, 12)),
                ep.team,
                self.worker(ep, t),
                episode=ep,
                predischarge=True,
            )
        if rng.random() < (0.6 if planned else 0.2):
            self._care_plan_review(self.clinic_time(t // DAY - rng.randint(0, 10)), ep)
        if rng.random() < (0.5 if planned else 0.4):
            self.add(
                {
                    "at": self.later(t, -3 * HOUR),
                    "type": "mdt_decision",
                    "team": ep.team,
                    "by": self.ctx.consultant[ep.team],
                    "topic": "discharge",
                    "decision": "Discharge to GP",
                    "rationale": "Stable and well; relapse plan shared with GP"
                    if planned
                    else "Not attending despite letters and visits",
                }
            )
        if rng.random() < 0.85:
            self._gp_letter(self.later(t, rng.uniform(1, 72) * HOUR), ep.team, complete=planned and rng.random() < 0.5)

    def _gp_letter(self, t: int, team: str, *, complete: bool) -> None:
        rng = self.rng
        if complete or rng.random() < T.GP_LETTER_COMPLETE.value:
            sections = list(T.GP_LETTER_SECTIONS)
        else:
            sections = [s for s in T.GP_LETTER_SECTIONS if rng.random() < 0.55]
        self.add(
            {"at": t, "type": "gp_letter_sent", "team": team, "by": self.ctx.consultant[team], "sections": sections}
        )

    def _after_gp_discharge(self, t: int, *, non_attendance: bool) -> None:
        """Medication often lapses after discharge; GP and police signals may follow."""
        rng = self.rng
        self.last_discharge_dna = non_attendance
        psychotic = self.group in ("psychosis", "bipolar")
        if psychotic and self.med is not None and non_attendance:
            self.stop_at = t + int(rng.uniform(0, 60) * DAY)
            self.nonadherent_cycle = True
            self.relapse_at = self.stop_at + int(self.days(T.RELAPSE_AFTER_STOP.value * 1.5, 0.7) * DAY)
            self.destab_at = self.relapse_at - 2 * DAY  # nobody is watching
        if rng.random() < (T.GP_SIGNAL.value if psychotic else 0.08):
            at = self.clinic_time(t // DAY + rng.randint(90, 270))
            kind = rng.choice(("no_contact", "prescription_not_collected"))
            detail = (
                "No contact with the practice since discharge"
                if kind == "no_contact"
                else "Repeat prescription not collected for three months"
            )
            self.add({"at": at, "type": "partner_info", "agency": "gp", "kind": kind, "detail": detail})

    # -- reviews -----------------------------------------------------------------------

    def _reviews(self, ep: _Episode, end: int) -> None:
        """Risk assessments and care plan reviews across an episode, and after its triggers."""
        if ep.pathway in ("crisis", "liaison"):
            if ep.pathway == "crisis" and self.rng.random() < 0.8:
                self._assessment(
                    self.later(ep.start, self.rng.uniform(1, 20) * HOUR), ep.team, self.worker(ep, ep.start), episode=ep
                )
            return
        rng = self.rng
        ws = self.ctx.window_start
        first = max(ep.start, ws)
        t = self.clinic_time(first // DAY + rng.randint(7, 35)) if ep.start >= ws else None
        if t is not None and t < end:
            self._assessment(t, ep.team, self.worker(ep, t), episode=ep)
        # Periodic reviews, measured from the last assessment in this episode.
        last = max(ep.ra_times) if ep.ra_times else first
        while True:
            nxt = self.clinic_time(last // DAY + int(self.days(T.RA_INTERVAL.value, 0.3)))
            if nxt >= end:
                break
            self._assessment(nxt, ep.team, self.worker(ep, nxt), episode=ep)
            last = nxt
        # After triggers recorded while the episode was open.
        for recorded, kind in self.triggers:
            if not (ep.start <= recorded < end) or kind in ("admission", "inpatient_discharge"):
                continue
            i = bisect_left(ep.ra_times, recorded)
            if i < len(ep.ra_times) and ep.ra_times[i] <= recorded + 7 * DAY:
                continue
            if kind == "police":
                if rng.random() < T.RA_AFTER_POLICE.value:
                    at = self.later(recorded, rng.uniform(2, 70) * HOUR)
                elif rng.random() < 0.5:
                    at = self.later(recorded, rng.uniform(4, 14) * DAY)
                else:
                    continue
            elif rng.random() < T.RA_AFTER_TRIGGER.value:
                at = self.clinic_time(recorded // DAY + rng.randint(0, 6))
            else:
                continue
            if at < end:
                self._assessment(at, ep.team, self.worker(ep, at), episode=ep)
        # Care plan reviews: soon after the start, then about yearly.
        if ep.start >= ws:
            cpr = self.clinic_time(ep.start // DAY + rng.randint(21, 70))
        else:
            cpr = self.clinic_time(max(self.last_cpr, ep.start) // DAY + int(self.days(T.CPR_INTERVAL.value, 0.2)))
        while cpr < end:
            self._care_plan_review(cpr, ep)
            cpr = self.clinic_time(cpr // DAY + int(self.days(T.CPR_INTERVAL.value, 0.2)))
        # Consultant outpatient review about twice a year.
        review = self.clinic_time(first // DAY + rng.randint(30, 180))
        while review < end:
            outcome = "attended" if rng.random() < 0.85 else "dna"
            self.add(
                {
                    "at": review,
                    "type": "contact",
                    "team": ep.team,
                    "outcome": outcome,
                    "mode": "face_to_face" if rng.random() < 0.8 else "video",
                    "planned": True,
                    "by": self.ctx.consultant[ep.team],
                }
            )
            review = self.clinic_time(review // DAY + rng.randint(150, 210))
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
        """A risk assessment; its factors are filled in at the end, from what was known then."""
        rng = self.rng
        event: Event = {
            "at": t,
            "type": "risk_assessment",
            "team": team,
            "by": by,
            "factors": None,
            "safety_plan": triage or predischarge or rng.random() < 0.9,
        }
        if not triage:
            event["formulation"] = _FORMULATION[self.group]
            event["next_review"] = date.fromordinal(t // DAY + (91 if self.violent else 182))
        self.add(event)
        if episode is not None:
            i = bisect_left(episode.ra_times, t)
            episode.ra_times.insert(i, t)

    def _care_plan_review(self, t: int, ep: _Episode) -> None:
        shared = self.carer_registered and self.carer_consent and self.rng.random() < 0.7
        self.add(
            {
                "at": t,
                "type": "care_plan_review",
                "team": ep.team,
                "by": self.worker(ep, t),
                "crisis_plan": self.rng.random() < 0.85,
                "shared_with_carer": shared,
            }
        )

    def _risk(
        self, at: int, category: str, harm: str, source: str, description: str, *, team: str | None, lag: float = 0.0
    ) -> Event:
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
        if self.rng.random() < T.ENTERED_IN_ERROR.value:
            self.add(
                {
                    "at": self.later(recorded, self.rng.uniform(1, 30) * DAY),
                    "type": "risk_event_entered_in_error",
                    "ref": event,
                    "reason": "Recorded in the wrong patient's record",
                }
            )
            event["_error"] = True
        return event

    # -- the end -------------------------------------------------------------------------

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
        to_dt = ctx.datetime
        for e in kept:
            e["at"] = to_dt(e["at"])
            if "recorded" in e:
                e["recorded"] = to_dt(e["recorded"])
            if "for" in e:
                e["for"] = to_dt(e["for"])
        for e in kept:
            if "ref" in e:
                e["ref"] = index[id(e["ref"])]
            e.pop("_answer", None)
            e.pop("_error", None)
        return PersonStory(patient=self.patient, events=list(kept))

    def _fill_factors(self, events: list[Event]) -> None:
        """Each assessment's factors from the risk history known at its time.

        Most assessments carry the history forward; some silently mark a known risk absent or
        not assessed (the CQC finding this product answers); a few downgrade with a rationale.
        """
        rng = self.rng
        history: list[tuple[int, str, int]] = []  # (recorded, category, error at)
        errors: dict[int, int] = {}
        for e in events:
            if e["type"] == "risk_event_entered_in_error":
                errors[id(e["ref"])] = e["at"]
        for e in self.risk_events:
            history.append((e.get("recorded", e["at"]), e["category"], errors.get(id(e), NEVER)))
        traits = set()
        if self.substance:
            traits.add("substance_misuse")
        if self.group == "pd":
            traits.add("self_harm")
        for e in events:
            if e["type"] != "risk_assessment":
                continue
            t = e["at"]
            known = {cat for rec, cat, err in history if rec <= t and err > t}
            factors = {}
            for cat in T.RISK_CATEGORIES:
                if cat in known or cat in traits:
                    factors[cat] = "present"
                elif cat in ("exploitation", "weapon", "absconding") and rng.random() < 0.25:
                    factors[cat] = "not_assessed"
                else:
                    factors[cat] = "absent"
            if known:
                r = rng.random()
                if r < T.RA_DOWNGRADE.value:
                    dropped = rng.choice(sorted(known))
                    factors[dropped] = "absent" if rng.random() < 0.6 else "not_assessed"
                elif r < T.RA_DOWNGRADE.value + 0.04:
                    dropped = rng.choice(sorted(known))
                    factors[dropped] = "absent"
                    e["rationale"] = f"No {dropped.replace('_', ' ')} for over two years; reviewed with MDT"
                elif r < 0.3:
                    e["rationale"] = "History reviewed with the person and their family"
            e["factors"] = factors


HT_ESCALATE = T.HT_ESCALATES.value


def _at(event: Event) -> int:
    at: int = event["at"]
    return at


# ---------------------------------------------------------------------------------------
# Public entry points


def generate_story(
    trust: TrustPlan, *, seed: int, index: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> PersonStory:
    """The story of person ``index``: the same whatever else is generated alongside it."""
    return _Life(_context(trust, seed, until, years), index).story()


def generate_stories(
    trust: TrustPlan, *, seed: int, patients: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> Iterator[PersonStory]:
    """Stories of people 0 .. patients-1, in order. Any slice can be made alone with
    :func:`generate_story_range`, so chunks can be generated in parallel."""
    return generate_story_range(trust, seed=seed, start=0, stop=patients, until=until, years=years)


def generate_story_range(
    trust: TrustPlan, *, seed: int, start: int, stop: int, until: date = DEFAULT_UNTIL, years: int = 3
) -> Iterator[PersonStory]:
    ctx = _context(trust, seed, until, years)
    for index in range(start, stop):
        yield _Life(ctx, index).story()


_CONTEXTS: dict[tuple[int, int, date, int], tuple[TrustPlan, _Trust]] = {}


def _context(trust: TrustPlan, seed: int, until: date, years: int) -> _Trust:
    # Keyed by identity: hashing a large TrustPlan for every story would be slow.
    key = (id(trust), seed, until, years)
    cached = _CONTEXTS.get(key)
    if cached is not None and cached[0] is trust:
        return cached[1]
    ctx = _Trust(trust, seed=seed, until=until, years=years)
    if len(_CONTEXTS) > 8:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (trust, ctx)
    return ctx
