"""What a set of generated stories looks like, measured from the events alone.

Used by the tests (rough rate bands) and by docs/synthetic-data.md (the realised rates next to the parameters).
It reads only the scenario-format events, as the record would: no peeking at the model's hidden state.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from safetynet.synth import model_tables as tables
from safetynet.synth.model import LONDON, PersonStory

_COMMUNITY = frozenset({"eip", "cmht", "assertive_outreach"})
_DIRECT = frozenset({"face_to_face", "home_visit", "video", "phone"})
_PSYCHOSIS = ("F20", "F22", "F23", "F25", "F29")
_ANTIPSYCHOTICS = frozenset(
    {d for d, _ in tables.ORAL_ANTIPSYCHOTICS} | {d for d, _, _ in tables.DEPOTS} | {tables.CLOZAPINE[0]}
)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else float("nan")


def summarise(stories: Iterable[PersonStory], *, until: date, years: int = 3) -> dict[str, Any]:
    """Realised rates over ``stories`` (all generated with the same ``until`` and ``years``)."""
    end = datetime.combine(until, time(23, 59), tzinfo=LONDON)
    window_start = end - timedelta(days=round(365.25 * years))
    middle = end - timedelta(days=365 * years / 2)
    counts: Counter[str] = Counter()
    planned = missed = attended = 0
    admissions = detained = s2 = s3 = 0
    discharges_72h = followed_72h = discharges_30d = readmitted = 0
    s3_discharges = ctos = 0
    concerns = answered_in_time = 0
    episodes_checked = without_key_worker = 0
    community_ends: Counter[str] = Counter()
    police_delays: list[float] = []
    caseloads: Counter[tuple[str, str]] = Counter()  # (pathway, key worker)
    psychosis_people = psychosis_nonadherent = 0
    on_antipsychotic = on_depot = 0
    people = 0
    for story in stories:
        people += 1
        events = story.events
        counts.update(str(e["type"]) for e in events)
        pathways: dict[str, str] = {}
        legal: str | None = None
        admitted: list[datetime] = []
        discharged: list[tuple[datetime, str | None]] = []
        active: dict[str, str] = {}  # drug -> route, as at the middle of the window
        nonadherent = False
        psychosis = False
        for index, e in enumerate(events):
            kind, at = e["type"], e["at"]
            assert isinstance(at, datetime)
            if kind == "episode_start":
                pathways[str(e["team"])] = str(e["pathway"])
                if e["pathway"] in _COMMUNITY and at <= end - timedelta(days=8):
                    episodes_checked += 1
                    if not _key_worker_within(events, index, str(e["team"]), at + timedelta(days=7)):
                        without_key_worker += 1
            elif kind == "episode_end" and pathways.get(str(e["team"])) in _COMMUNITY:
                community_ends[str(e["reason"])] += 1
            elif kind == "contact" and e.get("planned", True):
                planned += 1
                missed += e["outcome"] in ("dna", "no_access")
                attended += e["outcome"] == "attended"
            elif kind == "admission":
                admissions += 1
                legal = str(e["legal_status"])
                detained += legal != "01"
                s2 += legal == "02"
                s3 += legal == "03"
                admitted.append(at)
            elif kind == "legal_status_change":
                legal = str(e["code"])
            elif kind == "inpatient_discharge":
                discharged.append((at, legal))
                if legal in ("03", "10"):
                    s3_discharges += 1
                if window_start <= at <= end - timedelta(hours=72):
                    discharges_72h += 1
                    followed_72h += _followed_up(events, index, at)
            elif kind == "cto_start" and e.get("conditions") != "As before":
                ctos += 1
            elif kind == "family_concern":
                concerns += 1
                answered_in_time += _answered_by_next_working_day(events, index, at)
            elif kind == "partner_info" and e["agency"] == "police":
                recorded = e.get("recorded", at)
                assert isinstance(recorded, datetime)
                police_delays.append((recorded - at).total_seconds() / 86400)
            elif kind == "keyworker_assigned" and at <= middle and pathways.get(str(e["team"])) in _COMMUNITY:
                if not _ended_before(events, index, middle):
                    caseloads[(pathways[str(e["team"])], str(e["staff"]))] += 1
            elif kind == "diagnosis" and str(e["code"]).startswith(_PSYCHOSIS):
                psychosis = True
            elif kind in ("adherence_report", "depot_refused") and e.get("status", "non_adherent") != "adherent":
                nonadherent = True
            if kind == "medication_start" and at <= middle:
                active[str(e["drug"])] = str(e["route"])
            elif kind == "medication_stop" and at <= middle:
                active.pop(str(e["drug"]), None)
                nonadherent = nonadherent or "stopped" in str(e.get("reason", "")).lower()
        for at, _ in discharged:
            if window_start <= at <= end - timedelta(days=30):
                discharges_30d += 1
                readmitted += any(at < a <= at + timedelta(days=30) for a in admitted)
        if psychosis:
            psychosis_people += 1
            psychosis_nonadherent += nonadherent
            antipsychotics = {d: r for d, r in active.items() if d in _ANTIPSYCHOTICS}
            if antipsychotics:
                on_antipsychotic += 1
                on_depot += "depot" in antipsychotics.values()
    loads: dict[str, list[int]] = {}
    for (pathway, _), load in caseloads.items():
        loads.setdefault(pathway, []).append(load)
    return {
        "people": people,
        "events_per_person": round(sum(counts.values()) / max(people, 1), 1),
        "event_counts": dict(sorted(counts.items())),
        "planned_contacts": planned,
        "planned_contacts_missed (dna or no_access)": _share(missed, planned),
        "planned_contacts_attended": _share(attended, planned),
        "admissions_per_100_people_per_year": round(100 * admissions / max(people, 1) / years, 1),
        "admissions_detained": _share(detained, admissions),
        "admissions_s2": _share(s2, admissions),
        "admissions_s3": _share(s3, admissions),
        "discharges_followed_up_in_72h": _share(followed_72h, discharges_72h),
        "readmitted_within_30_days": _share(readmitted, discharges_30d),
        "cto_per_s3_discharge": _share(ctos, s3_discharges),
        "family_concerns_answered_by_next_working_day": _share(answered_in_time, concerns),
        "community_episodes_without_key_worker_at_7_days": _share(without_key_worker, episodes_checked),
        "community_discharges_by_reason": {k: _share(v, community_ends.total()) for k, v in community_ends.items()},
        "police_information_delay_days_median": round(statistics.median(police_delays), 1) if police_delays else None,
        "caseload_per_key_worker_mid_window": {
            pathway: {"mean": round(statistics.fmean(values), 1), "max": max(values)}
            for pathway, values in sorted(loads.items())
        },
        "psychosis_people_with_non_adherence": _share(psychosis_nonadherent, psychosis_people),
        "psychosis_antipsychotic_depot_mid_window": _share(on_depot, on_antipsychotic),
    }


def _key_worker_within(events: list[dict[str, object]], start: int, team: str, by: datetime) -> bool:
    for e in events[start:]:
        at = e["at"]
        assert isinstance(at, datetime)
        if at > by:
            return False
        if e["type"] == "keyworker_assigned" and e["team"] == team:
            return True
        if e["type"] == "episode_end" and e["team"] == team:
            return True  # a short episode: nothing to allocate
    return False


def _followed_up(events: list[dict[str, object]], start: int, discharged: datetime) -> bool:
    for e in events[start + 1 :]:
        at = e["at"]
        assert isinstance(at, datetime)
        if at > discharged + timedelta(hours=72):
            return False
        if e["type"] == "contact" and e["outcome"] == "attended" and e["mode"] in _DIRECT:
            return True
    return False


def _answered_by_next_working_day(events: list[dict[str, object]], index: int, raised: datetime) -> bool:
    """Answered by the end of the next weekday (bank holidays ignored here; the rule engine handles them)."""
    due = raised.date() + timedelta(days=1)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    deadline = datetime.combine(due, time(23, 59), tzinfo=LONDON)
    for e in events[index + 1 :]:
        if e["type"] == "family_concern_response" and e.get("ref") == index:
            at = e["at"]
            assert isinstance(at, datetime)
            return at <= deadline
    return False


def _ended_before(events: list[dict[str, object]], start: int, moment: datetime) -> bool:
    staff, team = events[start]["staff"], events[start]["team"]
    for e in events[start + 1 :]:
        at = e["at"]
        assert isinstance(at, datetime)
        if at > moment:
            return False
        if e["type"] in ("keyworker_ended", "episode_end") and e["team"] == team and e.get("staff", staff) == staff:
            return True
    return False
