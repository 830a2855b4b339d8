"""Table tests for the indicators on tiny hand-built extracts: what counts, what does not, and the boundaries."""

from __future__ import annotations

from typing import Any

from tests.oversight.tiny import WARD, d, results

TEAM = "team-a"


def _discharge(day: str, **extra: Any) -> dict[str, Any]:
    return {
        "person": "p1",
        "admission": "a1",
        "ward": WARD,
        "admitted_day": d("2024-02-01"),
        "discharged_day": d(day),
        "adult_acute": True,
    } | extra


def _contact(day: str, code: str = "5", direct: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "person": "p1",
        "contact": f"c{day}{code}",
        "team": TEAM,
        "day": d(day),
        "attend_code": code,
        "direct": direct,
    } | extra


# --- MHS78 / MHS79 / MHS80 -----------------------------------------------------------------------------------------


def test_a_discharge_followed_up_on_the_third_day_after_counts_in_mhs79() -> None:
    found = results("2024-03", "MHS80", admissions=[_discharge("2024-03-10")], contacts=[_contact("2024-03-13")])
    assert found == {(WARD, "2024-03"): (1, 1)}


def test_a_contact_on_the_fourth_day_or_on_the_day_of_discharge_is_not_a_follow_up() -> None:
    found = results(
        "2024-03",
        "MHS80",
        admissions=[_discharge("2024-03-10")],
        contacts=[_contact("2024-03-10"), _contact("2024-03-14")],
    )
    assert found == {(WARD, "2024-03"): (0, 1)}


def test_dna_text_and_another_providers_contacts_do_not_follow_up() -> None:
    found = results(
        "2024-03",
        "MHS80",
        admissions=[_discharge("2024-03-10")],
        contacts=[
            _contact("2024-03-11", "3"),
            _contact("2024-03-11", direct=False),
            _contact("2024-03-12", provider="RYY"),
        ],
    )
    assert found == {(WARD, "2024-03"): (0, 1)}


def test_a_readmission_within_three_days_is_a_follow_up() -> None:
    again = _discharge("2024-03-20", admission="a2", admitted_day=d("2024-03-12"))
    found = results("2024-03", "MHS79", admissions=[_discharge("2024-03-10"), again])
    assert found[(WARD, "2024-03")] == (1, None)


def test_the_reporting_window_is_moved_back_four_days() -> None:
    # March's window is 26 February .. 27 March: a discharge on 27 March counts in March, on 28 March in April.
    rows = [
        _discharge("2024-02-26"),
        _discharge("2024-03-27", admission="a2"),
        _discharge("2024-03-28", admission="a3"),
        _discharge("2024-02-25", admission="a4"),
    ]
    assert results("2024-03", "MHS78", admissions=rows) == {(WARD, "2024-03"): (2, None)}
    assert results("2024-04", "MHS78", admissions=rows) == {(WARD, "2024-04"): (1, None)}


def test_people_who_died_within_three_days_and_non_acute_beds_are_not_eligible() -> None:
    rows = [
        _discharge("2024-03-10"),
        _discharge("2024-03-11", person="p2", admission="a2"),
        _discharge("2024-03-12", person="p3", admission="a3", adult_acute=False),
    ]
    people = [{"person": "p1", "died_day": d("2024-03-13")}, {"person": "p2", "died_day": d("2024-03-15")}]
    assert results("2024-03", "MHS78", admissions=rows, people=people) == {(WARD, "2024-03"): (1, None)}


def test_seven_day_follow_up_counts_a_contact_on_the_seventh_day() -> None:
    found = results("2024-03", "FUP07", admissions=[_discharge("2024-03-10")], contacts=[_contact("2024-03-17")])
    assert found == {(WARD, "2024-03"): (1, 1)}
    found = results("2024-03", "FUP07", admissions=[_discharge("2024-03-10")], contacts=[_contact("2024-03-18")])
    assert found == {(WARD, "2024-03"): (0, 1)}


# --- key workers ---------------------------------------------------------------------------------------------------


def _episode(start: str, end: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "person": "p1",
        "episode": "e1",
        "team": TEAM,
        "pathway": "cmht",
        "start_day": d(start),
        "end_day": d(end) if end else None,
    } | extra


def test_open_episodes_with_a_current_key_worker_at_month_end() -> None:
    episodes = [
        _episode("2024-01-01"),
        _episode("2024-01-01", person="p2", episode="e2"),
        _episode("2024-01-01", "2024-03-31", person="p3", episode="e3"),
    ]
    allocations = [
        {"person": "p1", "allocation": "k1", "episode": "e1", "staff": "s1", "start_day": d("2024-01-02")},
        {
            "person": "p2",
            "allocation": "k2",
            "episode": "e2",
            "staff": "s1",
            "start_day": d("2024-01-02"),
            "end_day": d("2024-03-31"),
        },
    ]
    assert results("2024-03", "KW01", episodes=episodes, key_workers=allocations) == {(TEAM, "2024-03"): (1, 2)}
    # KW02: p2 has been unallocated since 31 March, which is the month's last day: 0 days.
    assert results("2024-03", "KW02", episodes=episodes, key_workers=allocations) == {(TEAM, "2024-03"): (0, 1)}
    assert results("2024-04", "KW02", episodes=episodes, key_workers=allocations) == {(TEAM, "2024-04"): (30, 1)}


def test_wards_are_not_community_episodes() -> None:
    assert results("2024-03", "KW01", episodes=[_episode("2024-01-01", pathway="inpatient")]) == {}


# --- reviews -------------------------------------------------------------------------------------------------------


def test_smi_caseload_risk_review_needs_formulation_and_safety_plan_within_182_days() -> None:
    episodes = [
        _episode("2023-01-01"),
        _episode("2023-01-01", person="p2", episode="e2"),
        _episode("2023-01-01", person="p3", episode="e3"),
    ]
    reviews = [
        {
            "person": "p1",
            "review": "r1",
            "team": TEAM,
            "day": d("2024-03-31") - 181,
            "formulation": True,
            "safety_plan": True,
        },
        {
            "person": "p2",
            "review": "r2",
            "team": TEAM,
            "day": d("2024-03-31") - 182,
            "formulation": True,
            "safety_plan": True,
        },
        {
            "person": "p3",
            "review": "r3",
            "team": TEAM,
            "day": d("2024-03-20"),
            "formulation": True,
            "safety_plan": False,
        },
    ]
    assert results("2024-03", "SMI01", episodes=episodes, risk_reviews=reviews) == {(TEAM, "2024-03"): (1, 3)}


def test_care_plan_reviewed_within_a_year() -> None:
    episodes = [_episode("2022-01-01"), _episode("2022-01-01", person="p2", episode="e2")]
    reviews = [
        {"person": "p1", "review": "c1", "team": TEAM, "day": d("2024-03-31") - 364},
        {"person": "p2", "review": "c2", "team": TEAM, "day": d("2024-03-31") - 365},
    ]
    assert results("2024-03", "CPR01", episodes=episodes, care_plan_reviews=reviews) == {(TEAM, "2024-03"): (1, 2)}


# --- contacts, discharges, concerns, depots, tasks -----------------------------------------------------------------


def test_dna_rate_counts_code_3_over_codes_3_5_6_7() -> None:
    contacts = [
        _contact("2024-03-01", "3"),
        _contact("2024-03-02", "5"),
        _contact("2024-03-03", "6"),
        _contact("2024-03-04", "7"),
        _contact("2024-03-05", "2"),
        _contact("2024-03-06", "4"),
        _contact("2024-04-01", "3"),
    ]
    assert results("2024-03", "DNA01", contacts=contacts) == {(TEAM, "2024-03"): (1, 4)}


def test_discharges_for_non_attendance_or_disengagement() -> None:
    episodes = [
        _episode("2023-01-01", "2024-03-05", discharge_reason="non_attendance"),
        _episode("2023-01-01", "2024-03-06", person="p2", episode="e2", discharge_reason="disengaged"),
        _episode("2023-01-01", "2024-03-07", person="p3", episode="e3", discharge_reason="recovered"),
    ]
    assert results("2024-03", "DIS01", episodes=episodes) == {(TEAM, "2024-03"): (2, 3)}


def test_family_concern_answered_by_the_end_of_the_next_working_day_skipping_easter() -> None:
    # Maundy Thursday 28 March 2024: the next working day is Tuesday 2 April (Good Friday, Easter Monday).
    concerns = [
        {"person": "p1", "concern": "q1", "team": TEAM, "raised_day": d("2024-03-28")},
        {"person": "p1", "concern": "q2", "team": TEAM, "raised_day": d("2024-03-28")},
    ]
    responses = [
        {"person": "p1", "response": "a1", "concern": "q1", "day": d("2024-04-02")},
        {"person": "p1", "response": "a2", "concern": "q2", "day": d("2024-04-03")},
    ]
    found = results("2024-04", "FAM01", family_concerns=concerns, concern_responses=responses)
    assert found == {(TEAM, "2024-04"): (1, 2)}
    assert results("2024-03", "FAM01", family_concerns=concerns, concern_responses=responses) == {}


def test_depot_given_within_seven_days_of_due_is_on_time() -> None:
    prescriptions = [
        {"person": "p1", "prescription": "x1", "team": TEAM, "start_day": d("2024-01-01"), "interval_days": 14}
    ]
    doses = [
        {"person": "p1", "dose": "g1", "prescription": "x1", "day": d("2024-02-20"), "given": True},
        {"person": "p1", "dose": "g2", "prescription": "x1", "day": d("2024-03-12"), "given": True},
        {"person": "p1", "dose": "g3", "prescription": "x1", "day": d("2024-03-20"), "given": False},
    ]
    # g1 due 5 March, window closes 12 March: g2 on 12 March is on time. g2 due 26 March, closes 2 April (April).
    found = results("2024-03", "DEP01", depot_prescriptions=prescriptions, depot_doses=doses)
    assert found == {(TEAM, "2024-03"): (1, 1)}
    found = results("2024-04", "DEP01", depot_prescriptions=prescriptions, depot_doses=doses)
    assert found == {(TEAM, "2024-04"): (0, 1)}


def test_tasks_overdue_and_alert_burden() -> None:
    tasks = [
        {
            "person": "p1",
            "task": "t1",
            "team": TEAM,
            "rule": "SN02",
            "created_day": d("2024-03-01"),
            "due_day": d("2024-03-31"),
        },
        {
            "person": "p1",
            "task": "t2",
            "team": TEAM,
            "rule": "SN02",
            "created_day": d("2024-03-01"),
            "due_day": d("2024-04-01"),
        },
        {
            "person": "p1",
            "task": "t3",
            "team": TEAM,
            "rule": "SN01",
            "created_day": d("2024-03-01"),
            "due_day": d("2024-03-02"),
            "closed_day": d("2024-03-02"),
        },
    ]
    staff = [
        {"staff": "s1", "team": TEAM, "role": "key_worker"},
        {"staff": "s2", "team": TEAM, "role": "consultant"},
        {"staff": "s3", "team": TEAM, "role": "team_manager"},
    ]
    assert results("2024-03", "TSK01", tasks=tasks) == {(TEAM, "2024-03"): (1, 2)}
    assert results("2024-03", "TSK02", tasks=tasks, staff=staff) == {(TEAM, "2024-03"): (3, 2)}
    assert results("2024-04", "TSK02", tasks=tasks, staff=staff) == {(TEAM, "2024-04"): (0, 2)}


# --- readmission, re-referral, waiting -----------------------------------------------------------------------------


def test_readmission_within_30_days_at_any_provider() -> None:
    rows = [
        _discharge("2024-02-10"),
        _discharge("2024-04-01", admission="a2", admitted_day=d("2024-03-11"), provider="RYY", ward="w9"),
    ]
    found = results("2024-03", "RAD30", admissions=rows)
    assert found == {(WARD, "2024-03"): (1, 1)}
    rows[1]["admitted_day"] = d("2024-03-12")
    assert results("2024-03", "RAD30", admissions=rows) == {(WARD, "2024-03"): (0, 1)}


def test_re_referral_within_182_days_of_discharge() -> None:
    end = d("2024-03-15") - 182
    episodes = [
        {
            "person": "p1",
            "episode": "e1",
            "team": TEAM,
            "pathway": "cmht",
            "start_day": end - 100,
            "end_day": end,
            "discharge_reason": "recovered",
        }
    ]
    referrals = [{"person": "p1", "referral": "r1", "team": TEAM, "referred_day": end + 182, "status": "accepted"}]
    assert results("2024-03", "RRF01", episodes=episodes, referrals=referrals) == {(TEAM, "2024-03"): (1, 1)}
    referrals[0]["referred_day"] = end + 183
    assert results("2024-03", "RRF01", episodes=episodes, referrals=referrals) == {(TEAM, "2024-03"): (0, 1)}


def test_waiting_for_a_second_contact_more_than_four_weeks() -> None:
    teams = [{"team": TEAM, "team_name": "A", "pathway": "cmht"}]
    referrals = [
        {"person": "p1", "referral": "r1", "team": TEAM, "referred_day": d("2024-03-02"), "status": "accepted"},
        {"person": "p2", "referral": "r2", "team": TEAM, "referred_day": d("2024-03-03"), "status": "accepted"},
        {"person": "p3", "referral": "r3", "team": TEAM, "referred_day": d("2024-02-01"), "status": "accepted"},
        {"person": "p4", "referral": "r4", "team": TEAM, "referred_day": d("2024-02-01"), "status": "declined"},
    ]
    contacts = [
        _contact("2024-03-05", person="p3"),
        _contact("2024-03-20", person="p3"),  # p3: clock stopped
        _contact("2024-03-05", person="p1"),
    ]  # p1: one contact, still waiting
    found = results("2024-03", "WAIT01", teams=teams, referrals=referrals, contacts=contacts)
    # p1 waited 29 days by 31 March (> 28), p2 28 days (not more than 4 weeks).
    assert found == {(TEAM, "2024-03"): (1, 2)}
