"""The learning-review pack in the app: only safety leads prepare it; the period is checked; the summary lists the
rule whose finding was open; the pack document is the same HTML as the command line's, under a policy that lets no
script run; third parties can be withheld; the PDF downloads."""

from __future__ import annotations

from fastapi.testclient import TestClient

from safetynet.web.pages.review import PACK_POLICY
from tests.web.conftest import sign_in
from tests.web.world import OTHER

PERIOD = "from=2021-01-01&to=2021-04-02"


def test_a_safety_lead_sees_the_missed_opportunities_and_links_to_the_pack(client: TestClient) -> None:
    sign_in(client, "dana")
    form = client.get(f"/people/{OTHER}/review")
    assert form.status_code == 200
    assert "First day of the review period" in form.text
    shown = client.get(f"/people/{OTHER}/review?{PERIOD}")
    assert shown.status_code == 200, shown.text
    assert "Missed opportunities, 01 Jan 2021 to 02 Apr 2021" in shown.text
    assert "SN01" in shown.text  # the family concern answered late in March, and the one open now
    link = f"/people/{OTHER}/review/pack.pdf?{PERIOD}&redact=false".replace("&", "&amp;")
    assert link in shown.text


def test_only_safety_leads_prepare_a_pack(client: TestClient) -> None:
    sign_in(client, "chris")
    for path in (f"/people/{OTHER}/review", f"/people/{OTHER}/review/pack.html?{PERIOD}"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "prepare a learning-review pack" in refused.text or "review.read" in refused.text


def test_a_bad_period_gets_the_error_summary_with_the_fields_kept(client: TestClient) -> None:
    sign_in(client, "dana")
    shown = client.get(f"/people/{OTHER}/review?from=2021-02-30&to=2021-01-01")
    assert shown.status_code == 400
    assert "There is a problem" in shown.text
    assert "must be a real date" in shown.text
    assert 'value="2021-02-30"' in shown.text
    backwards = client.get(f"/people/{OTHER}/review?from=2021-03-01&to=2021-01-01")
    assert "on or after the first day" in backwards.text
    assert client.get(f"/people/{OTHER}/review/pack.html?from=2021-03-01").status_code == 400


def test_someone_not_in_the_record_is_not_found(client: TestClient) -> None:
    sign_in(client, "dana")
    assert client.get("/people/9990000026/review", headers={"accept": "text/html"}).status_code == 404


def test_the_pack_document_runs_no_script_and_can_withhold_third_parties(client: TestClient) -> None:
    sign_in(client, "dana")
    whole = client.get(f"/people/{OTHER}/review/pack.html?{PERIOD}")
    assert whole.status_code == 200
    assert whole.headers["content-security-policy"] == PACK_POLICY
    assert "script-src" not in PACK_POLICY  # default-src 'none': no script at all
    assert "Dee Placeholder" in whole.text
    withheld = client.get(f"/people/{OTHER}/review/pack.html?{PERIOD}&redact=true")
    assert withheld.status_code == 200
    assert "Dee Placeholder" not in withheld.text


def test_the_pack_downloads_as_pdf(client: TestClient) -> None:
    sign_in(client, "dana")
    pdf = client.get(f"/people/{OTHER}/review/pack.pdf?{PERIOD}")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
