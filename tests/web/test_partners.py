"""The partner channels through the app (TestClient): a GP practice sees only letters to it and shares with it, and
reports about its registered patients only; a police liaison officer submits intelligence matched to exactly one
person and sees only what was shared with their force; bad input comes back with the error summary and writes
nothing; refusals are audited; other roles cannot use the channels."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from safetynet.audit.models import AuditEvent
from safetynet.record.partners.models import PartnerInformation
from safetynet.tasks.models import Task
from tests.web.channels_people import (
    ELSEWHERE,
    FORCE,
    LETTER_BODY,
    OTHER_FORCE_SHARE,
    OTHER_LETTER_BODY,
    POLICE_SHARE,
    PRACTICE_SHARE,
    REGISTERED,
    SCOPED,
    TWIN_A,
    UNKNOWN,
    ChannelsWorld,
)
from tests.web.conftest import csrf_from, sign_in

pytest_plugins = ("tests.web.channels_world",)  # the world, its app, client and browser page

GP_REPORT = {
    "nhs_number": "",
    "kind": "prescription_not_collected",
    "occurred_on": "2021-03-31",
    "detail": "Repeat prescription for risperidone not collected since 1 March",
}
INTELLIGENCE = {
    "nhs_number": "",
    "name": "",
    "born": "",
    "kind": "warrant",
    "occurred_on": "2021-03-30",
    "occurred_time": "14:00",
    "detail": "Warrant issued for failing to appear at magistrates' court",
    "lawful_basis": ["crime_and_disorder_act_s115", "uk_gdpr_6_1_e", "uk_gdpr_9_2_g"],
}


def _post(client: TestClient, data: dict[str, Any]) -> Any:
    form = client.get("/partners/report")
    assert form.status_code == 200
    return client.post("/partners/report", data=data | {"csrf_token": csrf_from(form.text)})


def _partner_info(world: ChannelsWorld, number: str) -> int:
    return world.count(PartnerInformation, PartnerInformation.patient_id == world.patient_ids[number])


def test_a_practice_sees_letters_to_its_registered_patients_and_what_was_shared_with_it_only(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "gwen")
    page = channels_client.get("/partners")
    assert page.status_code == 200
    assert "Jordan Practice" in page.text
    assert "999 300 0019" in page.text
    assert "Route back: call CMHT North the same day." in page.text
    assert OTHER_LETTER_BODY not in page.text
    assert "Robin Elsewhere" not in page.text
    assert PRACTICE_SHARE in page.text
    assert "UK GDPR Article 9(2)(h): health or social care" in page.text
    assert POLICE_SHARE not in page.text
    assert OTHER_FORCE_SHARE not in page.text
    assert channels_world.count(
        AuditEvent,
        AuditEvent.action == "read",
        AuditEvent.entity == "gp_handover_letters",
        AuditEvent.patient_id == channels_world.patient_ids[REGISTERED],
    )
    assert LETTER_BODY.split("\n")[0] in page.text


def test_a_practice_reports_prescriptions_not_collected_and_the_team_sees_it_with_its_lawful_basis(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "gwen")
    before = _partner_info(channels_world, SCOPED)
    sent = _post(channels_client, GP_REPORT | {"nhs_number": "999 300 0051"})
    assert sent.status_code == 303
    location = sent.headers["location"]
    reference = re.fullmatch(r"/partners\?received=(PI-[0-9A-F]{4}-[0-9A-F]{4})", location)
    assert reference, location
    assert reference.group(1) in channels_client.get(location).text
    assert _partner_info(channels_world, SCOPED) == before + 1
    (row,) = channels_world.rows(
        PartnerInformation,
        PartnerInformation.patient_id == channels_world.patient_ids[SCOPED],
        PartnerInformation.kind == "prescription_not_collected",
    )
    assert (row.agency, row.sharing_decision, row.lawful_basis) == ("gp", "shared", "uk_gdpr_6_1_e,uk_gdpr_9_2_h")
    assert "Dr Gwen Practice, practice Y00004" in row.note
    assert row.fact_id.replace("-", "").upper().startswith(reference.group(1)[3:].replace("-", ""))
    channels_client.post("/sign-out", data={"csrf_token": csrf_from(channels_client.get("/partners").text)})
    sign_in(channels_client, "chris")
    person = channels_client.get(f"/people/{SCOPED}")
    assert "Repeat prescription for risperidone not collected since 1 March" in person.text


def test_a_practice_cannot_report_on_a_patient_of_another_practice_or_an_unknown_number_and_is_told_alike(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "gwen")
    refusals = channels_world.count(AuditEvent, AuditEvent.action == "partner_submit_refused")
    before = _partner_info(channels_world, ELSEWHERE)
    other = _post(channels_client, GP_REPORT | {"nhs_number": ELSEWHERE})
    unknown = _post(channels_client, GP_REPORT | {"nhs_number": UNKNOWN})
    for refused in (other, unknown):
        assert refused.status_code == 403
        assert "does not match a patient registered with your practice" in refused.text
        assert 'href="#nhs_number"' in refused.text
        assert "Robin Elsewhere" not in refused.text
    assert other.text.replace(ELSEWHERE, UNKNOWN) == unknown.text.replace(
        csrf_from(unknown.text),
        csrf_from(other.text),
    )  # the same answer: a practice cannot learn who else the service knows
    assert _partner_info(channels_world, ELSEWHERE) == before
    assert channels_world.count(AuditEvent, AuditEvent.action == "partner_submit_refused") == refusals + 2


def test_a_practice_report_with_bad_input_shows_the_error_summary_keeps_the_fields_and_writes_nothing(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "gwen")
    before = channels_world.count(PartnerInformation)
    refused = _post(
        channels_client, {"nhs_number": REGISTERED, "kind": "", "occurred_on": "2099-01-01", "detail": "  "}
    )
    assert refused.status_code == 400
    text = refused.text
    assert "There is a problem" in text
    for field in ("kind", "occurred_on", "detail"):
        assert f'href="#{field}"' in text
    assert "Error: Report to the mental health team" in text
    assert f'value="{REGISTERED}"' in text
    malformed = _post(channels_client, GP_REPORT | {"nhs_number": "123"})
    assert malformed.status_code == 400
    assert 'href="#nhs_number"' in malformed.text
    assert channels_world.count(PartnerInformation) == before


def test_the_police_submit_a_warrant_by_nhs_number_and_the_safety_net_asks_for_a_risk_review(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "morgan")
    sent = _post(channels_client, INTELLIGENCE | {"nhs_number": REGISTERED, "weapon": "yes"})
    assert sent.status_code == 303, sent.text
    rows = channels_world.rows(
        PartnerInformation,
        PartnerInformation.patient_id == channels_world.patient_ids[REGISTERED],
        PartnerInformation.kind == "warrant",
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row.agency, row.weapon, row.sharing_decision) == ("police", True, "shared")
    assert row.lawful_basis == "crime_and_disorder_act_s115,uk_gdpr_6_1_e,uk_gdpr_9_2_g"
    assert "matched by NHS number" in row.note
    assert FORCE in row.note
    assert channels_world.count(
        Task,
        Task.rule_id == "SN08",
        Task.patient_id == channels_world.patient_ids[REGISTERED],
        Task.closed_at.is_(None),
    )
    assert channels_world.count(
        AuditEvent,
        AuditEvent.action == "create",
        AuditEvent.entity == "partner_information",
        AuditEvent.actor_name == "PC Morgan Liaison",
    )


def test_the_police_match_by_name_and_date_of_birth_only_to_exactly_one_person(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "morgan")
    unique = _post(
        channels_client, INTELLIGENCE | {"name": "  casey   SCOPED ", "born": "1998-11-03", "kind": "arrest"}
    )
    assert unique.status_code == 303
    assert channels_world.count(
        PartnerInformation,
        PartnerInformation.patient_id == channels_world.patient_ids[SCOPED],
        PartnerInformation.kind == "arrest",
    )
    before = channels_world.count(PartnerInformation)
    unmatched = channels_world.count(AuditEvent, AuditEvent.action == "partner_submit_unmatched")
    for data in (
        INTELLIGENCE | {"name": "Alex Twin", "born": "1998-11-03"},  # two people: never a best guess
        INTELLIGENCE | {"name": "Casey Scoped", "born": "1998-11-04"},  # a day out
        INTELLIGENCE | {"name": "Casey Scopes", "born": "1998-11-03"},  # no fuzzy matching
        INTELLIGENCE | {"nhs_number": TWIN_A, "name": "Casey Scoped"},  # the number and the name disagree
        INTELLIGENCE | {"nhs_number": UNKNOWN},
    ):
        refused = _post(channels_client, data)
        assert refused.status_code == 422, data
        assert "could not match these details to exactly one person" in refused.text
        assert "Alex Twin" not in refused.text.replace('value="Alex Twin"', "")
    assert channels_world.count(PartnerInformation) == before
    assert channels_world.count(AuditEvent, AuditEvent.action == "partner_submit_unmatched") == unmatched + 5


def test_police_intelligence_with_bad_input_shows_the_error_summary_and_writes_nothing(
    channels_client: TestClient, channels_world: ChannelsWorld
) -> None:
    sign_in(channels_client, "morgan")
    before = channels_world.count(PartnerInformation)
    refused = _post(
        channels_client,
        {"name": "Casey Scoped", "born": "03/11/1998", "kind": "burglary", "occurred_on": "", "occurred_time": "25:99"},
    )
    assert refused.status_code == 400
    text = refused.text
    for field in ("born", "kind", "occurred_on", "detail", "lawful_basis"):
        assert f'href="#{field}"' in text, field
    assert 'value="Casey Scoped"' in text
    only_article_6 = _post(
        channels_client, INTELLIGENCE | {"nhs_number": REGISTERED, "lawful_basis": ["uk_gdpr_6_1_e"]}
    )
    assert only_article_6.status_code == 400
    assert "Article 9 condition" in only_article_6.text
    nobody = _post(channels_client, INTELLIGENCE)
    assert "Enter the NHS number, or the person&#39;s full name and date of birth" in nobody.text
    assert channels_world.count(PartnerInformation) == before


def test_the_police_see_only_what_was_shared_with_their_force(channels_client: TestClient) -> None:
    sign_in(channels_client, "morgan")
    page = channels_client.get("/partners")
    assert page.status_code == 200
    assert POLICE_SHARE in page.text
    assert "Crime and Disorder Act 1998, section 115" in page.text
    assert OTHER_FORCE_SHARE not in page.text
    assert PRACTICE_SHARE not in page.text
    assert "Handover letters" not in page.text
    assert LETTER_BODY.split("\n")[0] not in page.text
    assert channels_client.get(f"/people/{REGISTERED}").status_code == 403


def test_other_roles_cannot_use_the_partner_channels_and_partners_cannot_open_records(
    channels_client: TestClient,
) -> None:
    sign_in(channels_client, "chris")
    assert channels_client.get("/partners").status_code == 403
    assert channels_client.get("/partners/report").status_code == 403
    channels_client.cookies.clear()
    sign_in(channels_client, "dee")
    assert channels_client.get("/partners").status_code == 403
    channels_client.cookies.clear()
    sign_in(channels_client, "gwen")
    assert channels_client.get(f"/people/{REGISTERED}").status_code == 403
    assert channels_client.get("/family").status_code == 403
    assert channels_client.post("/partners/report", data=GP_REPORT | {"nhs_number": REGISTERED}).status_code == 403
