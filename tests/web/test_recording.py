"""The recording forms through the app (TestClient): for every kind of fact, a valid form writes exactly one fact
(read back through the record service) and redirects to the person page with a success banner; a bad one comes back
with the NHS error summary, every answer kept and nothing written; a form without its CSRF token is refused. The risk
assessment asks for a rationale when it drops a risk the history holds (R17), naming that history."""
# ruff: noqa: F811  (the fixtures imported from recording_world are, by design, the tests' parameters)

from __future__ import annotations

import html as htmlmod
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.facts import ClinicalFact
from safetynet.record.chart import chart
from safetynet.record.patients import service as patients
from safetynet.record.risk.models import RiskCategory
from safetynet.tasks import service as tasks
from safetynet.web.pages.recording import FORMS, Widget
from tests.web.conftest import csrf_from, sign_in
from tests.web.recording_world import (  # noqa: F401  (fixtures)
    NOW,
    OUTSIDER,
    RISKY,
    RecordingWorld,
    recording_app,
    recording_client,
    recording_world,
)

# Where each kind of fact lands in the person's chart.
SECTIONS = {
    "contact": "contacts",
    "appointment": "appointments",
    "family-concern": "family_concerns",
    "family-concern-response": "family_concern_responses",
    "risk-event": "risk_events",
    "risk-assessment": "risk_assessments",
    "depot": "depot_administrations",
    "adherence": "adherence_reports",
    "partner-information": "partner_information",
    "cross-team-request": "cross_team_requests",
    "cross-team-response": "cross_team_responses",
    "mdt-decision": "mdt_decisions",
    "capacity": "capacity_assessments",
    "care-plan-review": "care_plan_reviews",
    "key-worker": "key_workers",
}
ALL_PRESENT = {f"factors-{c}": "present" for c in RiskCategory}

# A complete, valid answer to each form (choices from the record are read from the form itself: see ``_answers``).
VALID: dict[str, dict[str, str]] = {
    "contact": {"planned": "yes", "outcome": "no_access", "mode": "home_visit", "note": "No answer; card left"},
    "appointment": {
        "mode": "face_to_face",
        "due_at-day": "6",
        "due_at-month": "4",
        "due_at-year": "2021",
        "due_at-time": "10:30",
    },
    "family-concern": {
        "raised_by": "Dee Placeholder (sister)",
        "channel": "phone",
        "text": "He has not slept and is talking about the neighbour again",
    },
    "family-concern-response": {"concern_fact_id": "?", "text": "Called her back: duty doctor visiting this morning"},
    "risk-event": {
        "category": "weapon",
        "harm": "none",
        "source": "family",
        "description": "His sister found a kitchen knife under his pillow",
    },
    "risk-assessment": ALL_PRESENT
    | {
        "safety_plan": "yes",
        "formulation": "Relapse after stopping medication",
        "next_review-day": "9",
        "next_review-month": "4",
        "next_review-year": "2021",
    },
    "depot": {"drug": "?", "outcome": "refused", "note": "Declined today; will return on Tuesday"},
    "adherence": {"status": "non_adherent", "source": "family", "detail": "Tablets found unused in a drawer"},
    "partner-information": {
        "agency": "police",
        "kind": "warrant",
        "violence": "no",
        "weapon": "no",
        "detail": "Warrant issued for failing to appear at court",
        "sharing_decision": "pending",
    },
    "cross-team-request": {
        "team_id": "?",
        "to_team_id": "?",
        "ask": "cto",
        "detail": "Please consider a CTO after his third admission",
    },
    "cross-team-response": {
        "request_fact_id": "?",
        "answer": "declined",
        "rationale": "Not detained under section 3, so a CTO is not available; depot offered",
    },
    "mdt-decision": {
        "topic": "depot",
        "decision": "Offer a depot",
        "rationale": "Repeated relapse off oral tablets",
        "participants": "Dr Robin Second, consultant\nChris Taylor, key worker",
    },
    "capacity": {"decision_about": "Whether to accept depot medication", "outcome": "has_capacity"},
    "care-plan-review": {"crisis_plan": "yes", "shared_with_carer": "no", "summary": "Crisis plan updated"},
    "key-worker": {"episode_fact_id": "?", "staff_id": "?"},
}


def moment(name: str, at: datetime) -> dict[str, str]:
    local = at.astimezone(LONDON)
    return {
        f"{name}-day": str(local.day),
        f"{name}-month": str(local.month),
        f"{name}-year": str(local.year),
        f"{name}-time": f"{local:%H:%M}",
    }


def options(page: str, name: str) -> list[str]:
    """The values a form offers for ``name``: its radios, or its select's options (blank left out)."""
    radios = re.findall(rf'name="{name}" type="radio" value="([^"]*)"', page)
    if radios:
        return radios
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v] if select else []


def _answers(client: TestClient, kind: str, nhs: str = RISKY) -> tuple[str, dict[str, str]]:
    """The form page and a valid answer to it (the record's choices picked from the page)."""
    page = client.get(f"/people/{nhs}/record/{kind}")
    assert page.status_code == 200, page.text
    answers = moment("occurred_at", NOW - timedelta(hours=1)) | dict(VALID[kind])
    for name, value in list(answers.items()):
        if value == "?":
            offered = options(page.text, name)
            assert offered, f"{kind}: the form offers no {name}"
            answers[name] = offered[-1] if name == "to_team_id" else offered[0]
    if kind == "cross-team-request":  # from CMHT North to another team
        answers["to_team_id"] = next(v for v in options(page.text, "to_team_id") if v != answers["team_id"])
    return page.text, answers | {"csrf_token": csrf_from(page.text)}


def _facts(world: RecordingWorld, section: str, nhs: str = RISKY) -> dict[str, ClinicalFact]:
    """The person's facts of one kind, read through the record's chart service."""
    engine = make_engine(world.url)
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Recording test reader", Role.SYSTEM), FixedClock(NOW), audit_reads=False)
        found = {f.fact_id: f for f in chart(ctx, nhs).sections[section]}
        for fact in found.values():
            session.expunge(fact)
    engine.dispose()
    return found


def _as_posted(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(value)
    return value


def kept(page: str, name: str, value: str) -> bool:
    """Is ``value`` still the answer to ``name`` on the re-rendered form (typed, ticked or selected)?"""
    text = htmlmod.escape(value, quote=True)
    return bool(
        re.search(rf'name="{re.escape(name)}" type="radio" value="{re.escape(text)}"[^>]*checked', page)
        or re.search(rf'<option value="{re.escape(text)}" selected', page)
        or re.search(rf'name="{re.escape(name)}"[^>]*value="{re.escape(text)}"', page)
        or re.search(rf'name="{re.escape(name)}"[^>]*>{re.escape(text)}</textarea>', page, re.S)
        or re.search(rf'name="{re.escape(name)}"[^>]*>\s*{re.escape(text)}\s*</textarea>', page, re.S)
    )


@pytest.mark.parametrize("kind", list(FORMS))
def test_a_valid_form_writes_exactly_one_fact_and_redirects_to_the_person_with_a_banner(
    recording_client: TestClient, recording_world: RecordingWorld, kind: str
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, kind)
    before = _facts(recording_world, SECTIONS[kind])
    saved = recording_client.post(f"/people/{RISKY}/record/{kind}", data=answers)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/people/{RISKY}?recorded={kind}"
    after = _facts(recording_world, SECTIONS[kind])
    new = [after[i] for i in after.keys() - before.keys()]
    assert len(new) == 1, f"{kind}: {len(new)} new facts"
    fact = new[0]
    assert fact.occurred_at == NOW - timedelta(hours=1)
    assert fact.recorded_at == NOW  # the clock's, never the form's
    for name, value in answers.items():
        if name in fact.clinical_fields() and name not in ("team_id",):
            assert _as_posted(fact.clinical_fields()[name]) == value, f"{kind}.{name}"
    person = recording_client.get(saved.headers["location"])
    assert "nhsuk-notification-banner--success" in person.text
    assert f"{FORMS[kind].title} recorded." in person.text


@pytest.mark.parametrize("kind", list(FORMS))
def test_an_incomplete_form_comes_back_with_the_error_summary_answers_kept_and_nothing_written(
    recording_client: TestClient, recording_world: RecordingWorld, kind: str
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, kind)
    form = FORMS[kind]
    dropped = next(f for f in form.fields if f.required and f.widget not in (Widget.MOMENT, Widget.FACTORS))
    answers.pop(dropped.name)
    before = _facts(recording_world, SECTIONS[kind])
    refused = recording_client.post(f"/people/{RISKY}/record/{kind}", data=answers)
    assert refused.status_code == 422
    page = refused.text
    assert "There is a problem" in page
    assert "<title>Error: " in page
    assert f'href="#{dropped.anchor}"' in page  # the summary links to the question
    assert htmlmod.escape(dropped.missing, quote=False) in page or dropped.missing.replace("'", "&#39;") in page
    for name, value in answers.items():
        if name != "csrf_token" and value:
            assert kept(page, name, value), f"{kind}: {name}={value!r} was not kept"
    assert _facts(recording_world, SECTIONS[kind]).keys() == before.keys()


@pytest.mark.parametrize("kind", list(FORMS))
def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_written(
    recording_client: TestClient, recording_world: RecordingWorld, kind: str
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, kind)
    answers.pop("csrf_token")
    before = _facts(recording_world, SECTIONS[kind])
    refused = recording_client.post(f"/people/{RISKY}/record/{kind}", data=answers)
    assert refused.status_code == 403
    assert "This form could not be accepted" in refused.text
    assert _facts(recording_world, SECTIONS[kind]).keys() == before.keys()


def test_an_empty_form_reports_every_problem_at_once(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    page = recording_client.get(f"/people/{RISKY}/record/partner-information")
    refused = recording_client.post(
        f"/people/{RISKY}/record/partner-information", data={"csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 422
    summary = refused.text.split('class="nhsuk-error-summary', 1)[1].split("</div>", 2)[1]
    for message in (
        "Enter when it happened",
        "Select the agency",
        "Select the kind of information",
        "Answer yes or no: Did it involve violence?",
        "Enter the detail",
    ):
        assert htmlmod.escape(message, quote=False).replace("'", "&#39;") in refused.text, message
    assert summary


def test_a_moment_in_the_future_or_not_a_date_is_refused(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "adherence")
    future = recording_client.post(
        f"/people/{RISKY}/record/adherence", data=answers | moment("occurred_at", NOW + timedelta(days=1))
    )
    assert future.status_code == 422
    assert "When it was reported cannot be in the future" in future.text
    nonsense = recording_client.post(
        f"/people/{RISKY}/record/adherence", data=answers | {"occurred_at-day": "31", "occurred_at-month": "2"}
    )
    assert nonsense.status_code == 422
    assert "When it was reported must be a real date" in nonsense.text
    assert kept(nonsense.text, "occurred_at-day", "31")


def test_a_service_problem_is_shown_on_its_question_and_nothing_is_written(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "partner-information")
    before = _facts(recording_world, "partner_information")
    refused = recording_client.post(
        f"/people/{RISKY}/record/partner-information", data=answers | {"sharing_decision": "shared"}
    )
    assert refused.status_code == 422
    assert "Sharing needs a recorded lawful basis" in refused.text  # the record service's own check
    assert 'href="#lawful_basis"' in refused.text
    assert _facts(recording_world, "partner_information").keys() == before.keys()


def test_a_choice_that_is_not_in_the_record_is_refused(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "key-worker")
    before = _facts(recording_world, "key_workers")
    refused = recording_client.post(
        f"/people/{RISKY}/record/key-worker", data=answers | {"staff_id": "not-a-member-of-staff"}
    )
    assert refused.status_code == 422
    assert "Select the new key worker" in refused.text
    assert _facts(recording_world, "key_workers").keys() == before.keys()


def test_a_response_recorded_here_closes_the_concerns_safety_net_task_in_the_same_unit_of_work(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "family-concern-response")
    concern = answers["concern_fact_id"]
    assert concern in _live_sn01_keys(recording_world)  # SN01: a concern owed a response
    saved = recording_client.post(f"/people/{RISKY}/record/family-concern-response", data=answers)
    assert saved.status_code == 303
    assert concern not in _live_sn01_keys(recording_world)  # closed when the response committed


def _live_sn01_keys(world: RecordingWorld) -> set[str]:
    engine = make_engine(world.url)
    with unit_of_work(engine) as session:
        ctx = Context(session, Actor("Recording test reader", Role.SYSTEM), FixedClock(NOW), audit_reads=False)
        patient = patients.get(ctx, RISKY)
        keys = {t.finding_key for t in tasks.live_tasks(ctx, patient.id) if t.rule_id == "SN01"}
    engine.dispose()
    return keys


# The risk assessment: the history beside the form, and a rationale for dropping it (R1, R17) ---------------------


def test_the_risk_assessment_shows_the_whole_risk_history_beside_the_form(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    page = recording_client.get(f"/people/{RISKY}/record/risk-assessment").text
    history = page.split('id="risk-history"', 1)[1]
    assert "02 Nov 2020" in history
    assert "violence to others" in history
    assert "Harm: serious. Source: police." in history
    assert "<del>" in history  # entered in error: struck through, with the reason
    assert "Cut his arm" in history
    assert "Entered in error: Recorded on the wrong person&#39;s record" in history
    # Each kind of risk names its history beside its question.
    assert "Risk history: 1 event, most recent 02 Nov 2020 (serious harm, source police)" in page
    assert not re.search(r"\b(low|medium|high) risk\b", page, re.I)  # never a risk level (NICE NG225)


def test_marking_violence_absent_against_its_history_asks_for_a_rationale_naming_it(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "risk-assessment")
    answers |= {"factors-violence_to_others": "absent", "rationale": ""}
    before = _facts(recording_world, "risk_assessments")
    refused = recording_client.post(f"/people/{RISKY}/record/risk-assessment", data=answers)
    assert refused.status_code == 422
    message = (
        "Violence to others is marked absent but the risk history holds 1 event (02 Nov 2020, source police, "
        "serious harm). Write the rationale for this, or mark it present"
    )
    assert message in refused.text
    assert 'href="#rationale"' in refused.text
    assert kept(refused.text, "factors-violence_to_others", "absent")
    assert kept(refused.text, "formulation", "Relapse after stopping medication")
    assert _facts(recording_world, "risk_assessments").keys() == before.keys()

    rationale = "No violence for five months, on depot, sister reports him calm; reviewed with Dr Second"
    saved = recording_client.post(f"/people/{RISKY}/record/risk-assessment", data=answers | {"rationale": rationale})
    assert saved.status_code == 303
    after = _facts(recording_world, "risk_assessments")
    (new,) = [after[i] for i in after.keys() - before.keys()]
    assert new.factors["violence_to_others"] == "absent"  # type: ignore[attr-defined]
    assert new.rationale == rationale  # type: ignore[attr-defined]


def test_not_assessed_counts_as_dropping_the_history_and_an_error_entry_does_not(
    recording_client: TestClient,
) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "risk-assessment")
    not_assessed = recording_client.post(
        f"/people/{RISKY}/record/risk-assessment", data=answers | {"factors-violence_to_others": "not_assessed"}
    )
    assert not_assessed.status_code == 422
    assert "Violence to others is marked not assessed but the risk history holds 1 event" in not_assessed.text
    # Self-harm's only event was entered in error: marking it absent needs no rationale (as SN04 leaves it out).
    saved = recording_client.post(
        f"/people/{RISKY}/record/risk-assessment", data=answers | {"factors-self_harm": "absent"}
    )
    assert saved.status_code == 303


def test_every_kind_of_risk_must_be_answered(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    _, answers = _answers(recording_client, "risk-assessment")
    answers.pop("factors-weapon")
    refused = recording_client.post(f"/people/{RISKY}/record/risk-assessment", data=answers)
    assert refused.status_code == 422
    assert "Select present, absent or not assessed for weapon" in refused.text
    assert 'href="#factors-weapon"' in refused.text


# The person page, and who may record --------------------------------------------------------------------------------


def test_the_person_page_lists_every_recording_form(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    page = recording_client.get(f"/people/{RISKY}").text
    for kind, form in FORMS.items():
        assert f'href="/people/{RISKY}/record/{kind}">{form.title}</a>' in page
    assert "nhsuk-notification-banner" not in page
    assert "nhsuk-notification-banner" not in recording_client.get(f"/people/{RISKY}?recorded=nonsense").text


def test_forms_for_unknown_kinds_or_people_are_not_found(recording_client: TestClient) -> None:
    sign_in(recording_client, "chris")
    assert recording_client.get(f"/people/{RISKY}/record/diagnosis", headers={"accept": "text/html"}).status_code == 404
    assert recording_client.get("/people/9993000027/record/contact", headers={"accept": "text/html"}).status_code == 404


def test_recording_needs_a_clinical_role_and_signing_in(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    assert recording_client.get(f"/people/{RISKY}/record/contact").headers["location"] == (
        f"/sign-in?next=/people/{RISKY}/record/contact"
    )
    sign_in(recording_client, "ada")
    refused = recording_client.get(f"/people/{RISKY}/record/contact")
    assert refused.status_code == 403
    assert "Sam Recording" not in refused.text


def test_a_person_not_on_the_clinicians_caseload_is_guarded_as_their_record_is(
    recording_client: TestClient, recording_world: RecordingWorld
) -> None:
    """Chris Taylor (CMHT North) and Alex Elsewhere (EIP only). Recording is guarded exactly as reading their record
    is: today ``requires`` checks the role only, so both are open; once it weighs relationships (the access work),
    both are refused and nothing is written. Either way the two agree."""
    sign_in(recording_client, "chris")
    summary = recording_client.get(f"/people/{OUTSIDER}")
    form = recording_client.get(f"/people/{OUTSIDER}/record/adherence")
    assert form.status_code == summary.status_code
    token = csrf_from(recording_client.get("/").text)
    before = _facts(recording_world, "adherence_reports", OUTSIDER)
    answers = moment("occurred_at", NOW - timedelta(hours=1)) | VALID["adherence"] | {"csrf_token": token}
    posted = recording_client.post(f"/people/{OUTSIDER}/record/adherence", data=answers)
    written = len(_facts(recording_world, "adherence_reports", OUTSIDER)) - len(before)
    if summary.status_code == 200:
        assert posted.status_code == 303
        assert written == 1
    else:
        assert summary.status_code == 403
        assert posted.status_code == 403
        assert written == 0
