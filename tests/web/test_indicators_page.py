"""The trust indicators dashboard over HTTP: before any run it says how to compute the figures; after a refresh,
every indicator's verdict for the trust and for one team, one indicator's SPC chart (an accessible SVG) with its
table alternative and the same figures as CSV, all matching a trend computed straight from the record; who may
see it; unknown indicators and teams refused clearly."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet import migrations
from safetynet.access import accounts
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.oversight import figures
from safetynet.oversight.trend import monthly
from safetynet.record.org import service as org
from safetynet.record.org.models import Staff
from safetynet.record.org.schemas import StaffIn
from safetynet.synth import trust
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.web.conftest import browser_page, serving, sign_in
from tests.web.test_browser import serious_violations
from tests.web.test_browser import sign_in as browser_sign_in

pytestmark = pytest.mark.slow
PASSWORD = "a synthetic password 4 tests"
NOW = datetime(2025, 1, 15, 9, 0, tzinfo=LONDON)  # so the figures are 2023-01 to 2024-12
ADMIN = Actor(name="Test set-up", role=Role.ADMINISTRATOR, purpose="test set-up")


def _accounts(url: str, clock: FixedClock) -> None:
    """A safety lead and a key worker from the trust (or new ones on an empty database), and a national analyst."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, ADMIN, clock)
            people = {}
            for username, role in (("lead", Role.SAFETY_LEAD), ("worker", Role.KEY_WORKER)):
                found = session.scalars(select(Staff).where(Staff.role == role)).first()
                people[username] = found or org.create_staff(ctx, StaffIn(name=f"Test {username}", role=role))
            people["analyst"] = org.create_staff(ctx, StaffIn(name="Robin Analyst", role=Role.NATIONAL_ANALYST))
            for username, staff in people.items():
                accounts.create(ctx, staff_id=staff.id, username=username, password=PASSWORD)
    finally:
        engine.dispose()


def _app(url: str, clock: FixedClock) -> Any:
    return create_app(WebSettings(database_url=url, secret_key="k" * 32, secure_cookies=False, clock=clock))


@pytest.fixture(scope="module")
def dashboard(databases: Databases) -> SimpleNamespace:
    """A 150-person synthetic trust whose figures have been computed (2023-01 to 2024-12)."""
    url = databases.new_url()
    migrations.upgrade(url)
    clock = FixedClock(NOW)
    engine = make_engine(url)
    try:
        trust.build(engine, patients=150, seed=5, workers=0)
        with unit_of_work(engine) as session:
            figures.refresh(Context(session, ADMIN, clock), url)
    finally:
        engine.dispose()
    _accounts(url, clock)
    return SimpleNamespace(url=url, app=_app(url, clock), clock=clock)


@pytest.fixture
def client(dashboard: SimpleNamespace) -> Iterator[TestClient]:
    with TestClient(dashboard.app, follow_redirects=False) as made:
        yield made


def test_before_any_run_the_page_says_how_to_compute_the_figures(databases: Databases) -> None:
    url = databases.new_url()
    migrations.upgrade(url)
    clock = FixedClock(NOW)
    _accounts(url, clock)
    with TestClient(_app(url, clock), follow_redirects=False) as client:
        sign_in(client, "lead", PASSWORD)
        page = client.get("/trust/indicators")
        assert page.status_code == 200
        assert "have not been computed yet" in page.text
        assert "safetynet indicators refresh" in page.text
        assert client.get("/trust/indicators/DNA01").headers["location"] == "/trust/indicators"
        assert client.get("/trust/indicators/DNA01.csv").status_code == 404


def test_the_overview_gives_every_indicator_its_verdict(client: TestClient, dashboard: SimpleNamespace) -> None:
    sign_in(client, "lead", PASSWORD)
    page = client.get("/trust/indicators")
    assert page.status_code == 200
    assert "2023-01 to 2024-12" in page.text
    assert 'href="/trust/indicators"' in page.text  # the navigation entry, current
    rows = re.findall(r'<a href="/trust/indicators/([A-Z0-9]+)">', page.text)
    assert len(rows) == len(figures.catalogue())
    dna = re.search(r"DNA01 [^<]*</a></td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([\d.]+%)", page.text)
    assert dna
    trend = monthly(dashboard.url, "DNA01", "2023-01", "2024-12")
    assert dna.group(1) == f"{trend.values[-1]:.2f}%"


def test_one_indicator_chart_table_and_csv_match_the_record(client: TestClient, dashboard: SimpleNamespace) -> None:
    sign_in(client, "lead", PASSWORD)
    expected = monthly(dashboard.url, "DNA01", "2023-01", "2024-12")
    page = client.get("/trust/indicators/DNA01")
    assert page.status_code == 200
    svg = re.search(r"<figure class=\"nhsuk-u-margin-0 sn-chart\">(<svg.*?</svg>)", page.text, re.S)
    assert svg
    assert 'role="img"' in svg.group(1)
    assert "aria-labelledby" in svg.group(1)
    assert svg.group(1).count("<title>") >= 1 + len(expected.values)  # the chart's, and one per point
    assert re.search(r">\d+(\.\d+)?%</text>", svg.group(1))  # the axis reads 15%, not "15percent"
    assert "percent<" not in svg.group(1)
    assert f"{len(expected.values)} points from" in page.text  # the description in words
    table = re.search(r"<table.*?</table>", page.text, re.S)
    assert table
    assert len(re.findall(r"<tr><td>", table.group(0))) == len(expected.values)
    download = client.get("/trust/indicators/DNA01.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["month"] for r in rows] == expected.months
    assert [int(r["numerator"]) for r in rows] == expected.numerators
    assert [float(r["value"]) for r in rows] == pytest.approx(expected.values, abs=1e-4)
    mean = expected.chart.points[-1].mean
    assert float(rows[-1]["mean"]) == pytest.approx(mean, abs=1e-4)


def test_one_team(client: TestClient, dashboard: SimpleNamespace) -> None:
    sign_in(client, "lead", PASSWORD)
    page = client.get("/trust/indicators")
    options = re.findall(r'<option value="([0-9a-f-]{36})"\s*>([^<]+)</option>', page.text)
    assert options
    team_id, name = options[0]
    expected = monthly(dashboard.url, "DNA01", "2023-01", "2024-12", team=team_id)
    team_page = client.get("/trust/indicators", params={"team": team_id})
    assert f"Trust indicators: {name}" in team_page.text
    assert f'href="/trust/indicators/DNA01?team={team_id}"' in team_page.text
    rows = list(csv.DictReader(io.StringIO(client.get("/trust/indicators/DNA01.csv", params={"team": team_id}).text)))
    assert {r["team"] for r in rows} == {name}
    assert [int(r["numerator"]) for r in rows] == expected.numerators


def test_unknown_indicators_and_teams_are_refused_clearly(client: TestClient) -> None:
    sign_in(client, "lead", PASSWORD)
    missing = client.get("/trust/indicators/NOPE01")
    assert missing.status_code == 404
    assert "No indicator" in missing.text
    assert client.get("/trust/indicators/NOPE01.csv").status_code == 404
    team = client.get("/trust/indicators", params={"team": "not-a-team"})
    assert team.status_code == 404
    assert "No team" in team.text


def test_who_may_see_the_trust_indicators(client: TestClient) -> None:
    assert client.get("/trust/indicators").status_code in (303, 401)  # signed out: to sign in
    sign_in(client, "worker", PASSWORD)
    assert client.get("/trust/indicators").status_code == 403
    assert client.get("/trust/indicators/DNA01.csv").status_code == 403
    client.cookies.clear()
    sign_in(client, "analyst", PASSWORD)
    assert client.get("/trust/indicators").status_code == 403  # the national tier sees extracts, not the trust


def test_in_the_browser_a_safety_lead_reads_a_chart_and_axe_finds_nothing_serious(
    dashboard: SimpleNamespace, browser: Any
) -> None:
    with serving(dashboard.app) as url, browser_page(browser, url) as page:
        browser_sign_in(page, "lead", PASSWORD)
        page.get_by_role("link", name="Indicators").first.click()
        page.get_by_role("heading", name="Trust indicators", level=1).wait_for()
        found = {"overview": serious_violations(page)}
        page.get_by_role("link", name="DNA01 Did-not-attend rate").click()
        page.get_by_role("heading", name="DNA01 Did-not-attend rate", level=1).wait_for()
        chart = page.get_by_role("img", name=re.compile("DNA01 Did-not-attend rate: the whole trust"))
        assert chart.is_visible()
        found["indicator"] = serious_violations(page)
        page.get_by_label("Figures for").select_option(index=1)
        page.get_by_role("button", name="Show").click()
        page.get_by_role("img", name=re.compile("DNA01 Did-not-attend rate: team ")).wait_for()
        assert "team=" in page.url
        found["one team"] = serious_violations(page)
    assert {name: v for name, v in found.items() if v} == {}
