"""The chronology page through the app (TestClient): every kind of fact with the safety net overlaid, the record as
known at a past moment (marked, later facts hidden), filters by kind and order, bad input, and who may see it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import sign_in
from tests.web.gates_people import CHRONO

pytest_plugins = ("tests.web.gates_world",)  # the world, its app, client and browser page

PAGE = f"/people/{CHRONO}/chronology"
POLICE = "threatened his neighbour with a bottle"
BANNER = "You are viewing the record as it was known at"


def _rows(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1].split(">", 1)[1].split("</tbody>", 1)[0] if "<tbody" in html else ""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>")[:-1]]


def test_the_chronology_shows_every_kind_of_fact_with_findings_and_tasks_overlaid(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    page = gates_client.get(PAGE)
    assert page.status_code == 200
    assert "Jordan Chronology" in page.text
    assert BANNER not in page.text
    rows = _rows(page.text)
    text = " ".join(rows)
    for expected in (
        "Episode of care started with CMHT North",
        "Concern from Dee Placeholder (sister)",
        POLICE,
        "Admitted to Willow Ward",
        "SN01 opened",  # the safety net's finding, overlaid
        "SN08 opened",
    ):
        assert expected in text, expected
    # Newest first by default; each row says when it happened and when it was recorded (the police: a day late).
    assert "SN19 opened" in rows[0]  # January 2022: a year without a care plan review
    first = next(i for i, r in enumerate(rows) if "Episode of care started" in r)
    assert next(i for i, r in enumerate(rows) if "Learning review opened" in r) < first
    police = next(r for r in rows if POLICE in r and "Police information" in r)
    assert "04 Apr 2021 22:10" in police
    assert "05 Apr 2021 08:30" in police
    assert "1 day late" in police
    assert '<table class="nhsuk-table' in page.text
    assert '<th scope="col"' in page.text


def test_as_known_at_a_past_moment_hides_what_was_recorded_later_and_says_so(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    before = gates_client.get(
        PAGE,
        params={
            "known_at": "2021-04-05T08:00",
            "filtered": "1",
            "order": "oldest",
            "kind": ["contacts", "partners", "family", "legal", "risk"],
            "overlay": ["findings"],
        },
    )
    assert before.status_code == 200
    assert f"{BANNER} 05 Apr 2021 08:00" in before.text
    assert POLICE not in before.text  # recorded at 08:30, about a night earlier: not known yet
    assert "Admitted to Willow Ward" not in before.text
    assert "Concern from Dee Placeholder (sister)" in before.text
    after = gates_client.get(PAGE, params={"known_at": "2021-04-05T08:30"})
    assert POLICE in after.text
    assert f"{BANNER} 05 Apr 2021 08:30" in after.text


def test_filters_keep_only_the_ticked_kinds_and_the_order_chosen(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    page = gates_client.get(PAGE, params={"filtered": "1", "kind": "partners", "order": "oldest"})
    rows = _rows(page.text)
    assert rows
    assert all("Partner information" in r for r in rows)
    assert "SN08" not in page.text.split("<tbody", 1)[1]  # overlays unticked: no findings
    assert 'value="partners" checked' in page.text or re.search(r'value="partners"[^>]*checked', page.text)
    oldest = gates_client.get(PAGE, params={"filtered": "1", "kind": "contacts", "order": "oldest"})
    newest = gates_client.get(PAGE, params={"filtered": "1", "kind": "contacts", "order": "newest"})
    assert _rows(oldest.text) == list(reversed(_rows(newest.text)))


def test_a_bad_or_future_moment_shows_the_error_summary_and_keeps_the_field(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    for value, message in (
        ("last Tuesday", "Enter the moment as a date and time"),
        ("2030-01-01T09:00", "must be now or in the past"),
        ("2019-01-01T09:00", "Nothing was known about this person then"),
    ):
        refused = gates_client.get(PAGE, params={"known_at": value, "filtered": "1", "kind": "risk"})
        assert refused.status_code == 400
        assert "There is a problem" in refused.text
        assert message in refused.text
        assert 'href="#known_at"' in refused.text
        assert f'value="{value}"' in refused.text
        assert "<tbody" not in refused.text  # no timeline that could be taken for the moment asked
        assert refused.text.count("<title>Error:") == 1 or "Error: Chronology" in refused.text


def test_an_unknown_person_is_not_found_and_an_administrator_is_refused(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    assert gates_client.get("/people/9990000026/chronology", headers={"accept": "text/html"}).status_code == 404
    gates_client.cookies.clear()
    sign_in(gates_client, "adam")
    refused = gates_client.get(PAGE)
    assert refused.status_code == 403
    assert "Jordan Chronology" not in refused.text
    gates_client.cookies.clear()
    assert gates_client.get(PAGE).headers["location"] == f"/sign-in?next={PAGE}"


def test_the_person_page_links_to_the_chronology(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    assert f'href="{PAGE}"' in gates_client.get(f"/people/{CHRONO}").text


def test_a_period_keeps_only_what_happened_in_it_and_bad_dates_are_refused(gates_client: TestClient) -> None:
    sign_in(gates_client, "chris")
    page = gates_client.get(PAGE, params={"start": "2021-04-04", "end": "2021-04-05"})
    assert page.status_code == 200
    text = " ".join(_rows(page.text))
    assert POLICE in text  # happened on Sunday 4 April
    assert "Admitted to Willow Ward" in text  # Monday 5 April
    assert "Concern from Dee Placeholder (sister)" not in text  # Thursday 1 April
    assert "from 04 Apr 2021 to 05 Apr 2021" in page.text
    for params, field, message in (
        ({"start": "the fourth"}, "start", "Enter the from date as a date"),
        ({"start": "2021-04-05", "end": "2021-04-04"}, "end", "must be the same as or after the from date"),
    ):
        refused = gates_client.get(PAGE, params=params)
        assert refused.status_code == 400
        assert f'href="#{field}"' in refused.text
        assert message in refused.text
