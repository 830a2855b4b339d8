"""The recording forms in a real browser (Debian's Chromium through Playwright, the app under uvicorn on loopback):
a clinician records a risk assessment marking violence absent for a person with violence history, is asked for a
rationale naming that history, gives one, and the assessment is saved; and axe-core finds no serious or critical
accessibility violation on any recording form, blank or with its errors."""
# ruff: noqa: F811  (the fixtures imported from recording_world are, by design, the tests' parameters)

from __future__ import annotations

from typing import Any

import pytest

from safetynet.record.risk.models import RiskCategory
from safetynet.web.pages.recording import FORMS
from tests.web.recording_world import (  # noqa: F401  (fixtures)
    RISKY,
    RecordingWorld,
    recording_app,
    recording_page,
    recording_url,
    recording_world,
)
from tests.web.test_browser import serious_violations, sign_in
from tests.web.test_recording import _facts

pytestmark = pytest.mark.slow

RATIONALE = "No violence since November; settled on depot; his sister agrees he is calm. Reviewed with Dr Second."


def test_a_clinician_marking_violence_absent_against_its_history_is_asked_for_a_rationale(
    recording_page: Any, recording_world: RecordingWorld
) -> None:
    page = recording_page
    sign_in(page, "chris")
    page.goto(f"/people/{RISKY}")
    page.get_by_text("Record in Sam Recording's record").click()
    page.get_by_role("link", name="Risk assessment", exact=True).click()
    page.get_by_role("heading", name="Risk assessment", level=1).wait_for()
    history = page.locator("#risk-history").locator("xpath=..")
    assert "Punched a stranger at a bus stop" in history.inner_text()
    for category in RiskCategory:
        group = page.get_by_role("group", name=category.replace("_", " ").capitalize(), exact=True)
        group.get_by_label("Absent" if category == RiskCategory.VIOLENCE_TO_OTHERS else "Present").check()
    page.get_by_role("group", name="Is there a safety plan, made with the person?").get_by_label("Yes").check()
    page.get_by_label("Formulation").fill("Relapses after stopping tablets; early signs are poor sleep")
    before = _facts(recording_world, "risk_assessments")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the assessment").click()

    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert page.title().startswith("Error:")
    assert (
        "Violence to others is marked absent but the risk history holds 1 event (02 Nov 2020, source police, "
        "serious harm)" in summary.inner_text()
    )
    assert _facts(recording_world, "risk_assessments").keys() == before.keys()  # nothing written
    assert serious_violations(page) == []
    # Everything given is still there; the link in the summary goes to the rationale.
    violence = page.get_by_role("group", name="Violence to others", exact=True)
    assert violence.get_by_label("Absent").is_checked()
    assert page.get_by_label("Formulation").input_value().startswith("Relapses after stopping tablets")
    summary.get_by_role("link", name="Violence to others is marked absent").click()
    assert page.evaluate("document.activeElement.id") == "rationale"  # the NHS error summary moves focus there
    page.get_by_label("Rationale").fill(RATIONALE)
    with page.expect_navigation():
        page.get_by_role("button", name="Save the assessment").click()

    page.locator(".nhsuk-notification-banner--success").get_by_text("Risk assessment recorded.").wait_for()
    assert page.url.endswith(f"/people/{RISKY}?recorded=risk-assessment")
    after = _facts(recording_world, "risk_assessments")
    (saved,) = [after[i] for i in after.keys() - before.keys()]
    assert saved.factors["violence_to_others"] == "absent"  # type: ignore[attr-defined]
    assert saved.rationale == RATIONALE  # type: ignore[attr-defined]
    assert "violence to others: absent" in page.locator("main").inner_text()  # the summary shows the new one


def test_every_recording_form_has_no_serious_or_critical_accessibility_violations(recording_page: Any) -> None:
    page = recording_page
    sign_in(page, "chris")
    found: dict[str, list[str]] = {}
    page.goto(f"/people/{RISKY}?recorded=contact")  # the person page with its success banner and Record list
    found["person, after recording"] = serious_violations(page)
    for kind in FORMS:
        page.goto(f"/people/{RISKY}/record/{kind}")
        page.get_by_role("heading", name=FORMS[kind].title, level=1).wait_for()
        found[kind] = serious_violations(page)
        with page.expect_navigation():
            page.locator("#record-form button[type=submit]").click()  # sent as it stands: its errors come back
        page.locator(".nhsuk-error-summary").wait_for()
        found[f"{kind} with errors"] = serious_violations(page)
    assert {name: v for name, v in found.items() if v} == {}
