"""A national synthetic population, generated fast: vectorised numpy straight to Parquet in the extract schema.

Not the synthetic trust's stories (``safetynet.synth``), which go through the record: this is a population for the
national tier, its tests and benchmarks, seeded and deterministic. Rates are round illustrative figures, not
estimates of any real service. Every table is one Parquet file in the output directory, with the period's calendar
and a ``manifest.json`` like an extract's (provider ``NATIONAL``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from safetynet.oversight import schema

COMMUNITY = ("cmht", "cmht", "cmht", "eip", "assertive_outreach", "crisis")
WARDS = 2
STAFF_PER_TEAM = 8
ROLES = ("key_worker",) * 6 + ("consultant", "team_manager")
CODES = np.array(["5", "3", "2", "4", "7", "6"])
CODE_P = np.array([0.78, 0.10, 0.05, 0.04, 0.01, 0.02])
HISTORY_DAYS = 460


@dataclass(frozen=True)
class NationalResult:
    directory: Path
    providers: int
    people: int
    rows: dict[str, int]
    bytes: int


def generate(
    out: Path,
    *,
    providers: int,
    patients: int,
    period: str,
    seed: int = 7,
    contacts_per_person: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> NationalResult:
    import pyarrow as pa
    import pyarrow.parquet as pq

    say = progress or (lambda _: None)
    first, last = schema.parse_period(period)
    end = schema.day_number(last)
    start = end - HISTORY_DAYS
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}

    codes = np.array([f"N{i:04d}" for i in range(providers)])
    teams_per = len(COMMUNITY) + WARDS
    team_provider = np.repeat(np.arange(providers), teams_per)
    team_kind = np.tile(np.arange(teams_per), providers)
    pathways = np.array([*COMMUNITY, *(["inpatient"] * WARDS)])
    team_ids = np.array([f"{codes[p]}-T{k}" for p, k in zip(team_provider, team_kind, strict=True)])

    def write(name: str, columns: dict[str, Any]) -> None:
        table = pa.table(columns).cast(schema.arrow_schema(name))
        pq.write_table(table, out / f"{name}.parquet")
        rows[name] = table.num_rows
        say(f"{name}: {table.num_rows:,} rows")

    write(
        "teams",
        {
            "provider": codes[team_provider],
            "team": team_ids,
            "team_name": np.char.add("Team ", team_ids),
            "pathway": pathways[team_kind],
        },
    )
    staff_team = np.repeat(np.arange(len(team_ids)), STAFF_PER_TEAM)
    staff_ids = np.char.add("S", np.arange(len(staff_team)).astype(str))
    write(
        "staff",
        {
            "provider": codes[team_provider[staff_team]],
            "staff": staff_ids,
            "team": team_ids[staff_team],
            "role": np.array(ROLES)[np.tile(np.arange(STAFF_PER_TEAM), len(team_ids))],
        },
    )

    # people: a provider, a community team, an age band; a few died
    n = patients
    person = np.char.add("P", np.arange(n).astype(str))
    provider = rng.integers(0, providers, n)
    community = rng.integers(0, len(COMMUNITY), n)
    team = provider * teams_per + community
    bands = np.array(["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"])
    died = rng.random(n) < 0.004
    died_day = np.where(died, rng.integers(start, end + 1, n), -1)
    write(
        "people",
        {
            "person": person,
            "provider": codes[provider],
            "age_band": bands[rng.choice(8, n, p=[0.04, 0.14, 0.22, 0.19, 0.17, 0.13, 0.07, 0.04])],
            "died_day": pa.array(died_day, mask=~died),
        },
    )

    # episodes and referrals: one community episode each; 20% ended
    ep_start = end - rng.integers(30, 3 * 365, n)
    ended = (rng.random(n) < 0.2) | died
    ep_end = np.where(died, died_day, np.minimum(ep_start + rng.integers(20, 700, n), end))
    ended &= ep_end > ep_start
    reasons = np.array(["recovered", "non_attendance", "disengaged", "moved_away", "transferred", "other"])
    reason = np.where(died, "died", reasons[rng.choice(6, n, p=[0.55, 0.08, 0.05, 0.1, 0.12, 0.1])])
    write(
        "episodes",
        {
            "person": person,
            "provider": codes[provider],
            "episode": np.char.add("E", person),
            "team": team_ids[team],
            "pathway": pathways[community],
            "start_day": ep_start,
            "end_day": pa.array(ep_end, mask=~ended),
            "discharge_reason": pa.array(reason, mask=~ended),
        },
    )
    rerefer = ended & (rng.random(n) < 0.15)
    ref_person = np.concatenate([np.arange(n), np.flatnonzero(rerefer)])
    ref_day = np.concatenate([ep_start - rng.integers(0, 60, n), ep_end[rerefer] + rng.integers(1, 300, rerefer.sum())])
    status = np.array(["accepted", "received", "declined"])[rng.choice(3, len(ref_person), p=[0.8, 0.15, 0.05])]
    write(
        "referrals",
        {
            "person": person[ref_person],
            "provider": codes[provider[ref_person]],
            "referral": np.char.add("R", np.arange(len(ref_person)).astype(str)),
            "team": team_ids[team[ref_person]],
            "referred_day": ref_day,
            "status": status,
        },
    )

    # key workers: 92% allocated, some allocations ended
    allocated = rng.random(n) < 0.92
    idx = np.flatnonzero(allocated)
    kw_start = ep_start[idx] + rng.integers(0, 25, len(idx))
    kw_ended = rng.random(len(idx)) < 0.1
    kw_end = np.minimum(kw_start + rng.integers(10, 400, len(idx)), end)
    staff_pick = team[idx] * STAFF_PER_TEAM + rng.integers(0, 6, len(idx))
    write(
        "key_workers",
        {
            "person": person[idx],
            "provider": codes[provider[idx]],
            "allocation": np.char.add("K", person[idx]),
            "episode": np.char.add("E", person[idx]),
            "staff": staff_ids[staff_pick],
            "start_day": kw_start,
            "end_day": pa.array(kw_end, mask=~kw_ended),
        },
    )

    # contacts: Poisson per person over the history window
    say("contacts: generating")
    counts = rng.poisson(contacts_per_person, n)
    who = np.repeat(np.arange(n), counts)
    m = len(who)
    lo = np.maximum(ep_start[who], start)
    day = lo + (rng.random(m) * (end + 1 - lo)).astype(np.int64)
    write(
        "contacts",
        {
            "person": person[who],
            "provider": codes[provider[who]],
            "contact": np.char.add("C", np.arange(m).astype(str)) if m < 5_000_000 else _ids("C", m),
            "team": team_ids[team[who]],
            "staff": staff_ids[team[who] * STAFF_PER_TEAM + rng.integers(0, 6, m)],
            "day": day,
            "attend_code": CODES[rng.choice(len(CODES), m, p=CODE_P)],
            "direct": rng.random(m) < 0.95,
        },
    )

    # admissions: 6% admitted once in the window, a fifth of them again
    adm = np.flatnonzero(rng.random(n) < 0.06)
    again = adm[rng.random(len(adm)) < 0.2]
    a_person = np.concatenate([adm, again])
    a_day = np.concatenate([rng.integers(start, end - 10, len(adm)), np.zeros(len(again), dtype=np.int64)])
    stay = rng.integers(3, 60, len(a_person))
    first_discharge = a_day[: len(adm)] + stay[: len(adm)]
    lookup = dict(zip(adm.tolist(), first_discharge.tolist(), strict=True))
    a_day[len(adm) :] = [lookup[p] + int(g) for p, g in zip(again, rng.integers(1, 120, len(again)), strict=True)]
    disch = a_day + stay
    is_disch = disch <= end
    ward = provider[a_person] * teams_per + len(COMMUNITY) + rng.integers(0, WARDS, len(a_person))
    write(
        "admissions",
        {
            "person": person[a_person],
            "provider": codes[provider[a_person]],
            "admission": np.char.add("A", np.arange(len(a_person)).astype(str)),
            "ward": team_ids[ward],
            "admitted_day": a_day,
            "discharged_day": pa.array(disch, mask=~is_disch),
            "adult_acute": np.ones(len(a_person), dtype=bool),
            "legal_status": np.array(["01", "02", "03"])[rng.choice(3, len(a_person), p=[0.5, 0.3, 0.2])],
        },
    )
    # follow-up contacts after most discharges, so MHS80 is realistic
    follow = np.flatnonzero(is_disch & (rng.random(len(a_person)) < 0.75))
    extra = {
        "person": person[a_person[follow]],
        "provider": codes[provider[a_person[follow]]],
        "contact": np.char.add("F", np.arange(len(follow)).astype(str)),
        "team": team_ids[team[a_person[follow]]],
        "staff": staff_ids[team[a_person[follow]] * STAFF_PER_TEAM],
        "day": disch[follow] + rng.integers(1, 6, len(follow)),
        "attend_code": np.full(len(follow), "5"),
        "direct": np.ones(len(follow), dtype=bool),
    }
    _append(out / "contacts.parquet", "contacts", extra)
    rows["contacts"] += len(follow)

    # depots: 8% on a depot, doses every interval with jitter, 95% given
    dep = np.flatnonzero(rng.random(n) < 0.08)
    interval = np.array([14, 28])[rng.integers(0, 2, len(dep))]
    d_start = np.maximum(ep_start[dep], start - 60)
    write(
        "depot_prescriptions",
        {
            "person": person[dep],
            "provider": codes[provider[dep]],
            "prescription": np.char.add("D", person[dep]),
            "team": team_ids[team[dep]],
            "start_day": d_start,
            "stop_day": pa.array(np.zeros(len(dep), dtype=np.int64), mask=np.ones(len(dep), dtype=bool)),
            "interval_days": interval,
        },
    )
    n_doses = (end - d_start) // interval
    dose_of = np.repeat(np.arange(len(dep)), n_doses)
    k = np.arange(len(dose_of)) - np.repeat(np.cumsum(n_doses) - n_doses, n_doses)
    jitter = rng.choice([0, 0, 0, 2, 5, 10], len(dose_of))
    write(
        "depot_doses",
        {
            "person": person[dep[dose_of]],
            "provider": codes[provider[dep[dose_of]]],
            "dose": np.char.add("G", np.arange(len(dose_of)).astype(str)),
            "prescription": np.char.add("D", person[dep[dose_of]]),
            "day": d_start[dose_of] + k * interval[dose_of] + jitter,
            "given": rng.random(len(dose_of)) < 0.95,
        },
    )

    # family concerns and responses
    fc = np.flatnonzero(rng.random(n) < 0.05)
    fc_day = rng.integers(start, end + 1, len(fc))
    write(
        "family_concerns",
        {
            "person": person[fc],
            "provider": codes[provider[fc]],
            "concern": np.char.add("Q", np.arange(len(fc)).astype(str)),
            "team": team_ids[team[fc]],
            "raised_day": fc_day,
        },
    )
    answered = np.flatnonzero(rng.random(len(fc)) < 0.85)
    write(
        "concern_responses",
        {
            "person": person[fc[answered]],
            "provider": codes[provider[fc[answered]]],
            "response": np.char.add("A", np.arange(len(answered)).astype(str)),
            "concern": np.char.add("Q", answered.astype(str)),
            "day": fc_day[answered] + rng.choice([0, 1, 1, 2, 4], len(answered)),
        },
    )

    # risk reviews and care plan reviews
    for name, prefix, mean in (("risk_reviews", "V", 1.5), ("care_plan_reviews", "W", 0.8)):
        c = rng.poisson(mean, n)
        w = np.repeat(np.arange(n), c)
        columns: dict[str, Any] = {
            "person": person[w],
            "provider": codes[provider[w]],
            "review": np.char.add(prefix, np.arange(len(w)).astype(str)),
            "team": team_ids[team[w]],
            "day": rng.integers(start - 200, end + 1, len(w)),
        }
        if name == "risk_reviews":
            columns["formulation"] = rng.random(len(w)) < 0.85
            columns["safety_plan"] = rng.random(len(w)) < 0.8
        write(name, columns)

    # tasks
    c = rng.poisson(0.4, n)
    w = np.repeat(np.arange(n), c)
    created = rng.integers(start, end + 1, len(w))
    closed = created + rng.integers(0, 40, len(w))
    is_closed = (rng.random(len(w)) < 0.85) & (closed <= end)
    write(
        "tasks",
        {
            "person": person[w],
            "provider": codes[provider[w]],
            "task": np.char.add("T", np.arange(len(w)).astype(str)),
            "team": team_ids[team[w]],
            "staff": staff_ids[team[w] * STAFF_PER_TEAM + rng.integers(0, 6, len(w))],
            "rule": np.char.add("SN", np.char.zfill(rng.integers(1, 20, len(w)).astype(str), 2)),
            "created_day": created,
            "due_day": created + rng.integers(1, 8, len(w)),
            "closed_day": pa.array(closed, mask=~is_closed),
        },
    )
    pq.write_table(schema.calendar_arrow(first, last), out / "calendar.parquet")
    manifest = {
        "schema_version": schema.SCHEMA_VERSION,
        "provider": "NATIONAL",
        "providers": providers,
        "period": period,
        "seed": seed,
        "tables": {name: {"file": f"{name}.parquet", "rows": count} for name, count in rows.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in out.glob("*.parquet"))
    return NationalResult(out, providers, n, rows, size)


def _ids(prefix: str, count: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(prefix, pa.array(np.arange(count)).cast(pa.string()), "")


def _append(path: Path, name: str, columns: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    existing = pq.read_table(path)
    extra = pa.table(columns).cast(schema.arrow_schema(name))
    pq.write_table(pa.concat_tables([existing, extra]), path)


def split_extracts(directory: Path, period: str, out: Path, now: Any) -> list[Path]:
    """One provider extract per provider (``national.write_directory``: Parquet and a manifest each, under
    ``out/<ODS code>``) from a national population that ``generate`` wrote into ``directory``, so that it can be
    loaded as providers send theirs (``safetynet national ingest``)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from safetynet.oversight.national import NATIONAL_TABLES, write_directory

    first, last = schema.parse_period(period)
    tables = {name: pq.read_table(directory / f"{name}.parquet") for name in NATIONAL_TABLES}
    codes = sorted(set(tables["teams"].column("provider").to_pylist()))
    written = []
    for code in codes:
        mine = {name: table.filter(pc.equal(table.column("provider"), code)) for name, table in tables.items()}
        mine["calendar"] = schema.calendar_arrow(first, last)
        as_known_at = f"{last.isoformat()}T23:59:59+00:00"
        written.append(write_directory(out / code, code, period, as_known_at, mine, now).directory)
    return written
