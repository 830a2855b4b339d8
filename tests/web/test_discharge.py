"""The guided discharge through the app (TestClient): the gates' answer with reasons, evidence and sources; a
senior's override where the rule allows it (and nobody else's); the GP letter drafted, checked and sent; the
follow-up booked with the discharge; bad input refused with nothing written; roles without the action refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.record.careplans.models import GpHandoverLetter
from safetynet.record.contacts.models import Appointment
from safetynet.record.episodes.models import Episode
from safetynet.record.patients.models import Patient
from tests.web.conftest import csrf_from, sign_in
from tests.web.gates_people import BLOCKED, CHRONO, DISCHARGED, WARD_PERSON, GatesWorld

pytest_plugins = ("tests.web.gates_world",)  # the world, its app, client and browser page

NON_ATTENDANCE = {"discharge_from": "", "reason": "non_attendance", "destination": "gp", "step": "check"}


def _count(world: GatesWorld, model: Any, number: str, *where: Any) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        pid = connection.execute(select(Patient.id).where(Patient.nhs_number == number)).scalar_one()
        found = connection.execute(
            select(func.count()).select_from(model).where(model.patient_id == pid, *where)
        ).scalar_one()
    engine.dispose()
    return int(found)


def _team_option(html: str) -> str:
    start = html.index('value="team:') + len('value="')
    return html[start : html.index('"', start)]


def _start(client: TestClient, number: str) -> tuple[str, str]:
    """The discharge page: its CSRF token and the value of the team option."""
    page = client.get(f"/people/{number}/discharge")
    assert page.status_code == 200
    return csrf_from(page.text), _team_option(page.text)


def test_a_team_manager_asking_to_discharge_for_non_attendance_is_blocked_with_reasons_and_evidence(
    gates_client: TestClient, gates_world: GatesWorld
) -> None:
    sign_in(gates_client, "pam")
    token, team = _start(gates_client, BLOCKED)
    episodes = _count(gates_world, Episode, BLOCKED)
    checked = gates_client.post(
        f"/people/{BLOCKED}/discharge", data=NON_ATTENDANCE | {"discharge_from": team, "csrf_token": token}
    )
    assert checked.status_code == 200
    html = checked.text
    assert "Blocked" in html
    assert "Nothing has been recorded" in html
    assert "SN03: Discharge for non-attendance" in html
    assert "non-attendance is never a reason to discharge" in html
    assert "Disengagement (SN02) is open" in html or "disengagement (SN02) is open" in html
    assert "NHS England letter to ICBs" in html  # the source it answers
    assert "recorded 14 Mar 2022" in html  # SN02's evidence: the missed appointments, with dates
    assert "SN16: Discharge without a current plan" in html
    assert "GP handover letter lacks: relapse_signature, legal_history, route_back" in html
    assert "Draft the GP handover letter" in html
    assert "Check again with my override" in html  # a team manager may override SN03 (the rulebook allows it)
    assert "Discharge and book the follow-up" not in html
    assert _count(gates_world, Episode, BLOCKED) == episodes  # nothing written


def test_a_key_worker_is_not_offered_an_override_and_their_rationale_is_refused(
    gates_client: TestClient, gates_world: GatesWorld
) -> None:
    sign_in(gates_client, "jo")
    token, team = _start(gates_client, WARD_PERSON)
    checked = gates_client.post(
        f"/people/{WARD_PERSON}/discharge", data=NON_ATTENDANCE | {"discharge_from": team, "csrf_token": token}
    )
    assert "Check again with my override" not in checked.text
    assert "Only a consultant or a team manager may override this" in checked.text
    refused = gates_client.post(
        f"/people/{WARD_PERSON}/discharge",
        data=NON_ATTENDANCE
        | {"discharge_from": team, "csrf_token": token, "override_rationale": "He does not want the service"},
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert "Only a consultant or team manager may override a discharge gate" in refused.text
    assert "He does not want the service" in refused.text  # kept


def test_bad_input_shows_the_error_summary_with_fields_kept_and_writes_nothing(
    gates_client: TestClient, gates_world: GatesWorld
) -> None:
    sign_in(gates_client, "pam")
    token, team = _start(gates_client, BLOCKED)
    before = _count(gates_world, AuditEvent, BLOCKED, AuditEvent.entity == "discharge_check")
    nothing = gates_client.post(f"/people/{BLOCKED}/discharge", data={"step": "check", "csrf_token": token})
    assert nothing.status_code == 400
    assert 'href="#discharge_from"' in nothing.text
    assert "Error: Discharge" in nothing.text
    half = gates_client.post(
        f"/people/{BLOCKED}/discharge",
        data={"step": "check", "csrf_token": token, "discharge_from": team, "reason": "bored", "carer_informed": "yes"},
    )
    assert half.status_code == 400
    assert "Choose the reason for the discharge" in half.text
    assert "Choose where the person is being discharged to" in half.text
    assert f'value="{team}" checked' in half.text.replace("\n", " ") or "checked" in half.text
    unknown = gates_client.post(
        f"/people/{BLOCKED}/discharge", data={"step": "check", "csrf_token": token, "discharge_from": "team:nope"}
    )
    assert "Choose what the person is being discharged from" in unknown.text
    assert _count(gates_world, AuditEvent, BLOCKED, AuditEvent.entity == "discharge_check") == before


def test_a_ward_discharge_on_a_friday_is_blocked_by_gates_no_one_may_override(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    page = gates_client.get(f"/people/{CHRONO}/discharge")
    assert 'value="ward"' in page.text
    checked = gates_client.post(
        f"/people/{CHRONO}/discharge",
        data={"step": "check", "discharge_from": "ward", "csrf_token": csrf_from(page.text)},
    )
    html = checked.text
    assert "SN14" in html
    assert "A Friday discharge needs the crisis team" in html
    assert "SN15" in html
    assert "Dee Placeholder (sister)" in html
    assert "No one can override this gate." in html
    assert "Check again with my override" not in html  # nothing here a senior may override


def test_the_full_path_letter_sent_override_given_follow_up_booked_and_discharge_recorded(
    gates_client: TestClient, gates_world: GatesWorld
) -> None:
    sign_in(gates_client, "pam")
    token, team = _start(gates_client, DISCHARGED)
    choices = {"discharge_from": team, "reason": "non_attendance", "destination": "gp"}
    # The GP letter, drafted from the record: the violence history is there to check.
    draft = gates_client.get(f"/people/{DISCHARGED}/discharge/gp-letter", params=choices)
    assert draft.status_code == 200
    assert "Pushed his father over" in draft.text
    sections = {
        f"section_{key}": f"{key} text checked by the team"
        for key in ("violence_history", "non_adherence", "relapse_signature", "legal_history", "what_to_do")
    }
    letters = _count(gates_world, GpHandoverLetter, DISCHARGED)
    short = gates_client.post(
        f"/people/{DISCHARGED}/discharge/gp-letter", data=choices | sections | {"csrf_token": token}
    )
    assert short.status_code == 400
    assert 'href="#section_route_back"' in short.text
    assert "violence_history text checked by the team" in short.text  # kept
    assert _count(gates_world, GpHandoverLetter, DISCHARGED) == letters
    sent = gates_client.post(
        f"/people/{DISCHARGED}/discharge/gp-letter",
        data=choices | sections | {"section_route_back": "Phone EIP directly", "csrf_token": token},
    )
    assert sent.status_code == 303
    assert _count(gates_world, GpHandoverLetter, DISCHARGED) == letters + 1
    back = gates_client.get(sent.headers["location"])
    assert "GP handover letter sent" in back.text
    assert "SN16" not in back.text  # the letter cleared it
    assert "SN03" in back.text  # non-attendance still blocks
    # The team manager's override turns SN03 into a warning.
    rationale = "Clear capacitous refusal of the service; GP and father told of relapse signs"
    overridden = gates_client.post(
        f"/people/{DISCHARGED}/discharge",
        data=choices | {"step": "check", "override_rationale": rationale, "csrf_token": token},
    )
    assert "Allowed with warnings" in overridden.text
    assert "Overridden by a team manager" in overridden.text
    assert "Discharge and book the follow-up" in overridden.text
    # Bad follow-up: error summary, nothing written.
    for when, message in (("", "Enter the date and time"), ("2022-03-20T10:00", "must be after now")):
        refused = gates_client.post(
            f"/people/{DISCHARGED}/discharge",
            data=choices
            | {"step": "discharge", "override_rationale": rationale, "follow_up_at": when, "csrf_token": token},
        )
        assert refused.status_code == 400
        assert message in refused.text
        assert "Choose how the follow-up contact will be made" in refused.text
    assert _count(gates_world, Appointment, DISCHARGED) == 0
    done = gates_client.post(
        f"/people/{DISCHARGED}/discharge",
        data=choices
        | {
            "step": "discharge",
            "override_rationale": rationale,
            "follow_up_at": "2022-04-01T10:00",
            "follow_up_mode": "home_visit",
            "csrf_token": token,
        },
    )
    assert done.status_code == 200
    assert "Discharge recorded" in done.text
    assert "01 Apr 2022 10:00" in done.text
    assert _count(gates_world, Appointment, DISCHARGED) == 1
    assert _count(gates_world, Episode, DISCHARGED, Episode.override_rationale == rationale) == 1
    assert _count(gates_world, AuditEvent, DISCHARGED, AuditEvent.action == "gate_override") == 1
    again = gates_client.post(  # the same form sent twice: no episode left to end, so refused, nothing written
        f"/people/{DISCHARGED}/discharge",
        data=choices
        | {
            "step": "discharge",
            "override_rationale": rationale,
            "follow_up_at": "2022-04-01T10:00",
            "follow_up_mode": "home_visit",
            "csrf_token": token,
        },
    )
    assert again.status_code in (400, 403)
    assert _count(gates_world, Appointment, DISCHARGED) == 1


def test_roles_without_the_action_and_strangers_are_refused(gates_client: TestClient, gates_world: GatesWorld) -> None:
    path = f"/people/{BLOCKED}/discharge"
    assert gates_client.get(path).headers["location"] == f"/sign-in?next={path}"
    sign_in(gates_client, "adam")
    for refused in (gates_client.get(path), gates_client.get(path + "/gp-letter")):
        assert refused.status_code == 403
        assert "Casey Blocked" not in refused.text
    token = csrf_from(gates_client.get("/sign-in").text) if False else ""
    assert gates_client.post(path, data=NON_ATTENDANCE | {"csrf_token": token}).status_code == 403
    gates_client.cookies.clear()
    sign_in(gates_client, "pam")
    assert gates_client.post(path, data={"step": "check"}).status_code == 403  # no CSRF token: refused
