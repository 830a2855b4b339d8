"""The synthetic trust model: deterministic, consistent stories in the scenario vocabulary, at realistic rates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import nhs_number
import pytest
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context, Role
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.models import Pathway
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import model
from safetynet.synth import model_tables as tables
from safetynet.synth.model_summary import summarise

SEED = 11
PEOPLE = 2000
DOC = Path(__file__).parents[2] / "docs" / "synthetic-data.md"
COMMUNITY = {"eip", "cmht", "assertive_outreach", "crisis", "liaison"}
REF_TARGETS = {
    "risk_event_entered_in_error": "risk_event",
    "family_concern_response": "family_concern",
    "cross_team_response": "cross_team_request",
}


@pytest.fixture(scope="module")
def plan() -> model.TrustPlan:
    return model.plan_trust(seed=SEED, patients=PEOPLE)


@pytest.fixture(scope="module")
def stories(plan: model.TrustPlan) -> list[model.PersonStory]:
    return list(model.generate_stories(plan, seed=SEED, patients=PEOPLE))


def _recorded(event: dict[str, object]) -> datetime:
    moment = event.get("recorded", event["at"])
    assert isinstance(moment, datetime)
    return moment


def _at(event: dict[str, object]) -> datetime:
    moment = event["at"]
    assert isinstance(moment, datetime)
    return moment


# --- determinism ----------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_trust_and_the_same_stories() -> None:
    first = model.plan_trust(seed=3, patients=300)
    second = model.plan_trust(seed=3, patients=300)
    assert first == second
    assert list(model.generate_stories(first, seed=3, patients=300)) == list(
        model.generate_stories(second, seed=3, patients=300)
    )


def test_a_different_seed_gives_a_different_trust_and_different_people() -> None:
    one = model.plan_trust(seed=1, patients=300)
    two = model.plan_trust(seed=2, patients=300)
    assert one.staff != two.staff
    a = next(iter(model.generate_stories(one, seed=1, patients=1)))
    b = next(iter(model.generate_stories(two, seed=2, patients=1)))
    assert a.patient != b.patient


def test_any_person_or_chunk_comes_out_the_same_as_in_the_whole_run(
    plan: model.TrustPlan, stories: list[model.PersonStory]
) -> None:
    assert model.generate_story(plan, seed=SEED, index=137) == stories[137]
    chunk = list(model.generate_story_range(plan, seed=SEED, start=400, stop=430))
    assert chunk == stories[400:430]
    assert list(model.generate_stories(plan, seed=SEED, patients=25)) == stories[:25]


# --- people ---------------------------------------------------------------------------------------------------


def test_nhs_numbers_are_valid_synthetic_and_unique_across_the_run(stories: list[model.PersonStory]) -> None:
    numbers = [str(s.patient["nhs_number"]) for s in stories]
    assert len(set(numbers)) == len(numbers)
    assert all(nhs_number.is_valid(n, for_region=nhs_number.REGION_SYNTHETIC) for n in numbers)


def test_the_nhs_number_map_stays_one_to_one_far_beyond_a_normal_run() -> None:
    numbers = {model.nhs_number_for(5, i) for i in range(150_000)}
    assert len(numbers) == 150_000
    assert all(nhs_number.is_valid(model.nhs_number_for(5, i)) for i in range(0, 150_000, 997))


def test_each_person_has_a_name_a_birth_date_a_sex_and_a_fictional_gp_practice(
    stories: list[model.PersonStory],
) -> None:
    for story in stories[:300]:
        p = story.patient
        assert re.fullmatch(r"[A-Z][\w'-]+ [A-Z][\w' -]+", str(p["name"]))
        assert isinstance(p["born"], date)
        assert date(1930, 1, 1) < p["born"] < date(2012, 1, 1)
        assert p["sex"] in ("male", "female", "other", "unknown")
        assert re.fullmatch(r"Y\d{5}", str(p["gp_practice"]))


# --- the trust ------------------------------------------------------------------------------------------------


def test_the_trust_has_every_kind_of_team_with_a_cmht_for_about_every_400_people(plan: model.TrustPlan) -> None:
    kinds = Counter(t.pathway for t in plan.teams)
    assert kinds["cmht"] == PEOPLE // 400
    assert kinds["inpatient"] >= 2
    for pathway in ("eip", "assertive_outreach", "crisis", "liaison"):
        assert kinds[pathway] >= 1
    assert set(kinds) == set(model.PATHWAYS)
    assert len({t.name for t in plan.teams}) == len(plan.teams)
    assert re.fullmatch(r"R9[A-Z]", plan.ods_code)
    assert plan.name.endswith("NHS Foundation Trust")


def test_a_small_trust_still_has_two_cmhts_and_two_wards() -> None:
    small = model.plan_trust(seed=1, patients=50)
    kinds = Counter(t.pathway for t in small.teams)
    assert kinds["cmht"] == 2
    assert kinds["inpatient"] == 2


def test_fewer_people_per_cmht_makes_more_smaller_cmhts_with_key_workers_to_match() -> None:
    usual = model.plan_trust(seed=1, patients=30_000)
    large = model.plan_trust(seed=1, patients=30_000, people_per_cmht=1500)

    def cmhts(plan: model.TrustPlan) -> list[str]:
        return [t.name for t in plan.teams if t.pathway == "cmht"]

    assert len(cmhts(usual)) == 75
    assert len(cmhts(large)) == 20

    def key_workers(plan: model.TrustPlan) -> int:
        names = set(cmhts(plan))
        return sum(1 for s in plan.staff if s.role == "key_worker" and s.team in names)

    # The same people need about the same care coordinators, however the teams are cut.
    assert abs(key_workers(large) - key_workers(usual)) <= len(cmhts(usual))
    with pytest.raises(ValueError, match="people_per_cmht"):
        model.plan_trust(seed=1, patients=100, people_per_cmht=0)


def test_every_team_has_a_consultant_and_a_manager_and_the_trust_one_safety_lead(plan: model.TrustPlan) -> None:
    roles = Counter((s.team, s.role) for s in plan.staff)
    for team in plan.teams:
        assert roles[(team.name, "consultant")] == 1
        assert roles[(team.name, "team_manager")] == 1
        assert roles[(team.name, "key_worker")] >= 2
    assert sum(1 for s in plan.staff if s.role == "safety_lead") == 1
    assert {s.role for s in plan.staff} == set(model.ROLES)
    assert len({s.name for s in plan.staff}) == len(plan.staff)
    assert {s.team for s in plan.staff} <= {t.name for t in plan.teams}


def test_every_team_ward_and_staff_member_named_in_a_story_is_in_the_plan(
    plan: model.TrustPlan, stories: list[model.PersonStory]
) -> None:
    teams = {t.name for t in plan.teams}
    wards = {t.name for t in plan.teams if t.pathway == "inpatient"}
    staff = {s.name for s in plan.staff}
    for story in stories:
        for e in story.events:
            for key in ("team", "from_team", "to_team"):
                if key in e:
                    assert e[key] in teams, (key, e)
            if "ward" in e:
                assert e["ward"] in wards, e
            for key in ("by", "staff"):
                if key in e:
                    assert e[key] in staff, (key, e)


# --- the vocabulary -------------------------------------------------------------------------------------------


def test_every_event_type_of_the_scenario_format_appears_in_a_2000_person_run(
    stories: list[model.PersonStory],
) -> None:
    seen = {str(e["type"]) for s in stories for e in s.events}
    assert seen == set(fmt.EVENT_TYPES)
    routes = {e["route"] for s in stories for e in s.events if e["type"] == "medication_start"}
    assert routes == {"oral", "depot"}


def test_every_story_parses_as_a_scenario_with_no_unknown_keys(stories: list[model.PersonStory]) -> None:
    for n, story in enumerate(stories[:400]):
        fmt.parse({"id": f"synth-{n}", "title": "synthetic", "patient": story.patient, "events": story.events})


def test_legal_status_codes_are_england_codes_with_s2_more_common_than_s3(stories: list[model.PersonStory]) -> None:
    codes = Counter(e["legal_status"] for s in stories for e in s.events if e["type"] == "admission")
    changes = {e["code"] for s in stories for e in s.events if e["type"] == "legal_status_change"}
    assert set(codes) <= {"01", "02", "03", "10"}
    assert changes <= {"01", "02", "03"}
    assert codes["02"] > codes["03"] > codes["10"] > 0


# --- time -----------------------------------------------------------------------------------------------------


def test_events_are_in_order_in_london_time_and_never_recorded_before_they_happened(
    stories: list[model.PersonStory],
) -> None:
    late = 0
    for story in stories:
        moments = [_at(e) for e in story.events]
        assert moments == sorted(moments)
        for e in story.events:
            assert _at(e).tzinfo == LONDON
            assert _recorded(e) >= _at(e)
            assert _at(e).hour != 1  # never in the hour that is ambiguous or missing at the clock changes
            late += _recorded(e) - _at(e) > timedelta(days=7)
    assert late > 0  # police and family information arrives late


def test_stories_never_go_past_until_even_with_another_window() -> None:
    until = date(2024, 6, 30)
    plan = model.plan_trust(seed=4, patients=300)
    for story in model.generate_stories(plan, seed=4, patients=300, until=until, years=2):
        for e in story.events:
            assert _at(e).date() <= until
            assert _recorded(e).date() <= until
        assert story.events
        assert any(_at(e).date() >= date(2022, 6, 30) for e in story.events)


def test_police_information_often_reaches_the_team_days_or_weeks_after_it_happened(
    stories: list[model.PersonStory],
) -> None:
    delays = [
        (_recorded(e) - _at(e)).days
        for s in stories
        for e in s.events
        if e["type"] == "partner_info" and e["agency"] == "police"
    ]
    assert delays
    assert sum(d >= 7 for d in delays) / len(delays) > 0.3
    assert max(delays) >= 21


# --- consistency, as the record will check it -----------------------------------------------------------------


def test_refs_point_back_to_earlier_events_of_the_right_type(stories: list[model.PersonStory]) -> None:
    for story in stories:
        for i, e in enumerate(story.events):
            if "ref" not in e:
                continue
            ref = e["ref"]
            assert isinstance(ref, int)
            assert 0 <= ref < i
            target = story.events[ref]
            assert target["type"] == REF_TARGETS[str(e["type"])]
            assert _recorded(target) <= _recorded(e)


def test_contacts_bookings_and_key_workers_fall_inside_open_episodes_of_their_team(
    stories: list[model.PersonStory],
) -> None:
    for story in stories:
        open_teams: set[str] = set()
        for e in story.events:
            kind, team = e["type"], e.get("team")
            if kind == "episode_start":
                assert team not in open_teams, "an episode with this team is already open"
                open_teams.add(str(team))
            elif kind == "episode_end":
                assert team in open_teams
                open_teams.discard(str(team))
            elif kind in ("contact", "appointment_booked", "keyworker_assigned"):
                assert team in open_teams, (story.patient["nhs_number"], e)


def test_episodes_end_with_a_reason_and_destination_and_some_end_for_non_attendance(
    stories: list[model.PersonStory],
) -> None:
    ends = [e for s in stories for e in s.events if e["type"] == "episode_end"]
    reasons = Counter(str(e["reason"]) for e in ends)
    assert {"recovered", "non_attendance", "disengaged", "transferred", "moved_away", "died"} <= set(reasons)
    assert all(e["destination"] in ("gp", "other_team", "none") for e in ends)
    assert all(e["destination"] == "gp" for e in ends if e["reason"] == "non_attendance")


def _replay(events: list[dict[str, object]]) -> None:
    """Apply events in the order the record does (recorded, then position) and check what the record checks."""
    order = sorted(range(len(events)), key=lambda i: (_recorded(events[i]), i))
    prescribed: dict[str, str] = {}
    admitted = False
    cto = False
    for i in order:
        e = events[i]
        kind = e["type"]
        if kind == "medication_start":
            assert e["drug"] not in prescribed, f"event {i}: {e['drug']} already prescribed"
            prescribed[str(e["drug"])] = str(e["route"])
        elif kind == "medication_stop":
            assert prescribed.pop(str(e["drug"]), None) is not None, f"event {i}: stopping what is not prescribed"
        elif kind in ("depot_given", "depot_refused"):
            assert prescribed.get(str(e["drug"])) == "depot", f"event {i}: no active depot of {e['drug']}"
        elif kind == "admission":
            assert not admitted, f"event {i}: already an inpatient"
            admitted = True
        elif kind == "inpatient_discharge":
            assert admitted, f"event {i}: not an inpatient"
            admitted = False
        elif kind == "cto_start":
            assert not cto, f"event {i}: a CTO is already in force"
            cto = True
        elif kind in ("cto_recall", "cto_end"):
            assert cto, f"event {i}: no CTO in force"
            cto = kind == "cto_recall"


def test_prescriptions_depots_admissions_and_ctos_are_valid_in_the_order_the_record_applies_them(
    stories: list[model.PersonStory],
) -> None:
    for story in stories:
        _replay(story.events)


def test_key_workers_are_usually_named_within_a_week_but_not_always(stories: list[model.PersonStory]) -> None:
    summary = summarise(stories, until=model.DEFAULT_UNTIL)
    assert 0.05 < summary["community_episodes_without_key_worker_at_7_days"] < 0.3


def test_a_sample_of_stories_loads_into_the_record_without_a_single_refusal(
    session: Session, plan: model.TrustPlan, stories: list[model.PersonStory]
) -> None:
    ctx = Context(session, loader.LOADER, FixedClock(datetime(2010, 1, 1, tzinfo=LONDON)), SeededIds("synth"))
    organisation = org.create_organisation(ctx, OrganisationIn(ods_code=plan.ods_code, name=plan.name))
    session.flush()
    for team in plan.teams:
        org.create_team(ctx, organisation, TeamIn(name=team.name, pathway=Pathway(team.pathway)))
    session.flush()
    for member in plan.staff:
        org.create_staff(ctx, StaffIn(name=member.name, role=Role(member.role), team=member.team))
    session.flush()
    eventful = sorted(stories[25:], key=lambda s: -len(s.events))[:15] + stories[:25]
    for n, story in enumerate(eventful):
        scenario = fmt.parse({"id": f"s{n}", "title": "synthetic", "patient": story.patient, "events": story.events})
        loaded = loader.load(session, scenario, ids=SeededIds(n))
        assert len(loaded.fact_ids) == len(story.events)


# --- the stories the safety net exists for --------------------------------------------------------------------


def test_relapse_cycles_run_from_stopping_medication_to_admission_and_follow_up(
    stories: list[model.PersonStory],
) -> None:
    cycles = 0
    for story in stories:
        events = story.events
        stops = [_at(e) for e in events if e["type"] == "medication_stop" and "relapse" in str(e.get("reason", ""))]
        admissions = [_at(e) for e in events if e["type"] == "admission"]
        cycles += sum(1 for s in stops if any(s < a <= s + timedelta(days=180) for a in admissions))
    assert cycles >= 20


def test_the_failures_the_safety_net_must_catch_all_occur(stories: list[model.PersonStory]) -> None:
    found: Counter[str] = Counter()
    for story in stories:
        events = story.events
        answered = {e["ref"] for e in events if e["type"] in ("family_concern_response", "cross_team_response")}
        past_s3 = False
        for i, e in enumerate(events):
            kind = e["type"]
            if kind == "family_concern" and i not in answered:
                found["family concern never answered"] += 1
            if kind == "cross_team_request" and i not in answered:
                found["cross-team request never answered"] += 1
            if kind == "admission":
                if e["legal_status"] == "02" and past_s3:
                    found["s2 after an earlier s3"] += 1
                past_s3 = past_s3 or e["legal_status"] in ("03", "10")
            if kind == "inpatient_discharge" and _at(e).weekday() >= 4 and e.get("crisis_team_accepted") is False:
                found["Friday or weekend discharge without crisis cover"] += 1
            if kind == "inpatient_discharge" and e.get("carer_informed") is False:
                found["carer not informed of discharge"] += 1
            if kind == "risk_assessment" and "rationale" not in e:
                factors = e["factors"]
                assert isinstance(factors, dict)
                history = {x["category"] for x in events[:i] if x["type"] == "risk_event" and _recorded(x) <= _at(e)}
                if any(factors[c] != "present" for c in history):
                    found["risk dropped from an assessment without rationale"] += 1
            if kind == "depot_refused":
                found["depot refused"] += 1
            if kind == "gp_letter_sent" and len(e["sections"]) < 6:  # type: ignore[arg-type]
                found["GP letter missing sections"] += 1
            if kind == "partner_info" and e["agency"] == "gp":
                found["GP signal after discharge"] += 1
            if kind == "partner_info" and e["kind"] == "warrant":
                found["warrant"] += 1
    for finding in (
        "family concern never answered",
        "cross-team request never answered",
        "s2 after an earlier s3",
        "Friday or weekend discharge without crisis cover",
        "carer not informed of discharge",
        "risk dropped from an assessment without rationale",
        "depot refused",
        "GP letter missing sections",
        "GP signal after discharge",
        "warrant",
    ):
        assert found[finding] > 0, finding


# --- rates ----------------------------------------------------------------------------------------------------


def test_rates_fall_in_plausible_bands(stories: list[model.PersonStory]) -> None:
    s: dict[str, Any] = summarise(stories, until=model.DEFAULT_UNTIL)
    assert 0.08 <= s["planned_contacts_missed (dna or no_access)"] <= 0.16
    assert 0.70 <= s["discharges_followed_up_in_72h"] <= 0.88
    assert 0.03 <= s["readmitted_within_30_days"] <= 0.14
    assert 0.45 <= s["admissions_detained"] <= 0.70
    assert s["admissions_s2"] > s["admissions_s3"]
    assert 0.10 <= s["cto_per_s3_discharge"] <= 0.45
    assert 0.18 <= s["psychosis_antipsychotic_depot_mid_window"] <= 0.40
    assert 0.35 <= s["psychosis_people_with_non_adherence"] <= 0.75
    assert 0.70 <= s["family_concerns_answered_by_next_working_day"] <= 0.92
    caseload = s["caseload_per_key_worker_mid_window"]
    assert 20 <= caseload["cmht"]["mean"] <= 38
    assert 8 <= caseload["eip"]["mean"] <= 22


# --- documentation --------------------------------------------------------------------------------------------


def test_every_model_parameter_is_in_the_documentation_with_its_value() -> None:
    text = DOC.read_text()
    for rate in tables.RATES:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{rate.name}` |")), None)
        assert row is not None, f"{rate.name} is not documented"
        assert f"{rate.value:g}" in row, f"{rate.name}: documented value differs from {rate.value:g}"


def test_the_default_window_is_fixed_so_output_never_depends_on_today() -> None:
    assert date(2026, 10, 31) == model.DEFAULT_UNTIL
    plan = model.plan_trust(seed=1, patients=20)
    last = max(_at(e) for s in model.generate_stories(plan, seed=1, patients=20) for e in s.events)
    assert last <= datetime.combine(model.DEFAULT_UNTIL, time(23, 59), tzinfo=LONDON)
