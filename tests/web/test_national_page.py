"""The national dashboard over HTTP: with nothing loaded it says how extracts arrive; with five providers' extracts
it draws the funnel of a proportion across providers (an accessible SVG, a table and CSV, all under disclosure
control), names the provider outside the 99.8% limits, hides a provider with small numbers from the picture but
keeps it in the limits; who may see it; bad choices refused clearly."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet import migrations
from safetynet.access import accounts
from safetynet.core.clock import FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.oversight import national
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.conftest import Databases
from tests.oversight.tiny import d, tables
from tests.web.conftest import browser_page, serving, sign_in
from tests.web.test_browser import serious_violations
from tests.web.test_browser import sign_in as browser_sign_in

PASSWORD = "a synthetic password 4 tests"
NOW = datetime(2024, 4, 2, 9, tzinfo=UTC)
PERIOD = "2024-03"
# Provider -> (contacts, of which not attended): about 15% everywhere but RE5 (40%); RS1 has too few contacts to show.
PROVIDERS = {
    "RA1": (400, 60),
    "RB2": (300, 42),
    "RC3": (500, 80),
    "RD4": (350, 50),
    "RF6": (450, 70),
    "RG7": (380, 55),
    "RH8": (420, 66),
    "RJ9": (310, 45),
    "RE5": (400, 160),
    "RS1": (5, 1),
}
SHOWN = sorted(set(PROVIDERS) - {"RS1"})


def _extract(directory: Path, provider: str, contacts: int, not_attended: int) -> Path:
    rows = tables(
        PERIOD,
        contacts=[
            {
                "person": f"{provider}-p{i % 40}",
                "contact": f"{provider}-c{i}",
                "team": "t",
                "day": d(f"2024-03-{1 + i % 28:02d}"),
                "attend_code": "3" if i < not_attended else "5",
                "direct": True,
                "provider": provider,
            }
            for i in range(contacts)
        ],
        people=[{"person": f"{provider}-p{i}", "age_band": "25-34", "provider": provider} for i in range(40)],
    )
    national.write_directory(directory, provider, PERIOD, "2024-03-31T23:59:59+01:00", rows, NOW)
    return directory


def _with_accounts(databases: Databases, **roles: Role) -> str:
    """A new trust database with one member of staff and account per username, in the role given."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, Actor("Set-up", Role.ADMINISTRATOR), FixedClock(NOW))
            for username, role in roles.items():
                staff = org.create_staff(ctx, StaffIn(name=f"Test {username}", role=role))
                accounts.create(ctx, staff_id=staff.id, username=username, password=PASSWORD)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def national_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("national")
    db = base / "national.duckdb"
    for provider, (contacts, missed) in PROVIDERS.items():
        national.ingest(_extract(base / provider, provider, contacts, missed), db, NOW)
    return db


@pytest.fixture(scope="module")
def site(databases: Databases, national_db: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    url = _with_accounts(databases, analyst=Role.NATIONAL_ANALYST, lead=Role.SAFETY_LEAD)

    def app(db: Path) -> object:
        return create_app(
            WebSettings(database_url=url, secret_key="k" * 32, secure_cookies=False, national_database=str(db))
        )

    empty = tmp_path_factory.mktemp("empty") / "national.duckdb"
    return SimpleNamespace(loaded=app(national_db), empty=app(empty))


@pytest.fixture
def client(site: SimpleNamespace) -> Iterator[TestClient]:
    with TestClient(site.loaded, follow_redirects=False) as made:
        sign_in(made, "analyst", PASSWORD)
        yield made


def test_with_nothing_loaded_the_page_says_how_extracts_arrive(site: SimpleNamespace) -> None:
    with TestClient(site.empty, follow_redirects=False) as client:
        landed = sign_in(client, "analyst", PASSWORD)
        assert landed.headers["location"] == "/national"  # the analyst's home
        page = client.get("/national")
        assert page.status_code == 200
        assert "No provider extracts are loaded yet" in page.text


def test_the_funnel_names_the_outlier_and_hides_small_numbers(client: TestClient) -> None:
    page = client.get("/national", params={"period": PERIOD, "indicator": "DNA01"})
    assert page.status_code == 200
    svg = re.search(r'<figure class="nhsuk-u-margin-0 sn-chart">(<svg.*?</svg>)', page.text, re.S)
    assert svg
    assert 'role="img"' in svg.group(1)
    assert "RE5" in svg.group(1)  # outliers are named on the chart
    funnel = page.text[: page.text.index("<h2>Extracts loaded</h2>")]  # the list of extracts names every sender
    assert "RS1" not in funnel  # small numbers: in the limits, never shown or named
    assert "1 provider with 1 to 7 in a count is counted in the limits" in page.text
    callout = re.search(r"Outside the 99.8% limits.*?</ul>", page.text, re.S)
    assert callout
    assert "RE5: above 99.8%" in callout.group(0)
    assert "RA1" not in callout.group(0)
    table = re.search(r'<table class="nhsuk-table" id="providers">.*?</table>', page.text, re.S)
    assert table
    assert re.findall(r'<td class="nhsuk-table__cell">(R[A-Z]\d)</td>', table.group(0)) == SHOWN
    assert ">40.0%<" in table.group(0)  # RE5: 160 of 400


def test_the_csv_is_under_disclosure_control(client: TestClient) -> None:
    download = client.get("/national/funnel.csv", params={"period": PERIOD, "indicator": "DNA01"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(download.text))}
    assert sorted(rows) == SHOWN
    assert rows["RB2"]["numerator"] == "40"  # 42 rounded to the nearest 5
    assert rows["RB2"]["denominator"] == "300"
    assert all(int(r["numerator"]) % 5 == 0 and int(r["denominator"]) % 5 == 0 for r in rows.values())
    assert rows["RE5"]["position"] == "above 99.8%"


def test_bad_choices_are_refused_clearly(client: TestClient) -> None:
    assert client.get("/national", params={"period": "2023-01"}).status_code == 404
    wrong = client.get("/national", params={"period": PERIOD, "indicator": "NOPE"})
    assert wrong.status_code == 404
    assert "No proportion indicator" in wrong.text
    count = client.get("/national", params={"period": PERIOD, "indicator": "MHS78"})  # a count, not a proportion
    assert count.status_code == 404
    assert "No proportion indicator" in count.text
    missing = client.get("/national/funnel.csv", params={"period": "2023-01", "indicator": "DNA01"})
    assert missing.status_code == 404


def test_only_national_analysts_see_the_national_tier(site: SimpleNamespace) -> None:
    with TestClient(site.loaded, follow_redirects=False) as client:
        assert client.get("/national").status_code in (303, 401)
        sign_in(client, "lead", PASSWORD)
        assert client.get("/national").status_code == 403
        assert client.get("/national/funnel.csv", params={"period": PERIOD, "indicator": "DNA01"}).status_code == 403


def test_in_the_browser_an_analyst_chooses_a_funnel_and_axe_finds_nothing_serious(
    site: SimpleNamespace, browser: Any
) -> None:
    with serving(site.loaded) as url, browser_page(browser, url) as page:
        browser_sign_in(page, "analyst", PASSWORD)
        page.get_by_role("heading", name="National oversight", level=1).wait_for()
        page.get_by_label("Indicator").select_option("DNA01")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("img", name=re.compile("DNA01 Did-not-attend rate by provider")).wait_for()
        assert serious_violations(page) == []


def test_without_published_files_the_page_says_how_to_load_them(client: TestClient) -> None:
    page = client.get("/national/published")
    assert page.status_code == 200
    assert "No published files are loaded yet" in page.text
    assert 'href="/national/published"' not in client.get("/national").text


def test_the_published_mrs01b_funnel_names_the_providers_the_command_names(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.oversight.test_published import PUBLISHED

    if not PUBLISHED.is_dir() or not list(PUBLISHED.glob("*.csv")):
        pytest.skip(f"NHS England's published MHSDS files are not at {PUBLISHED}")
    from safetynet.oversight.published import funnel_report, import_published, proportion

    db = tmp_path_factory.mktemp("published") / "national.duckdb"
    import_published(PUBLISHED, db)
    waits = funnel_report(proportion(db, "MRS01b", "2024-06"))  # 4-week waits: some outside 95%, none 99.8%
    wider = funnel_report(proportion(db, "MRS02b", "2024-06"))  # providers outside 99.8% too
    assert waits["outside_95"]
    assert wider["outside_998"]
    url = _with_accounts(databases, analyst=Role.NATIONAL_ANALYST)
    settings = WebSettings(database_url=url, secret_key="k" * 32, secure_cookies=False, national_database=str(db))
    with TestClient(create_app(settings), follow_redirects=False) as client:
        sign_in(client, "analyst", PASSWORD)
        assert 'href="/national/published"' in client.get("/national").text
        page = client.get("/national/published", params={"period": "2024-06", "measure": "MRS01b"})
        assert page.status_code == 200
        assert "England's published figure 5.79%" in page.text
        assert "Outside the 99.8% limits" not in page.text
        for unit in waits["outside_95"]:
            assert re.search(
                rf"<td[^>]*>{unit['code']} [^<]*</td>(?:\s*<td[^>]*>[^<]*</td>){{5}}\s*<td[^>]*>{unit['position']}<",
                page.text,
            )
        rows = list(
            csv.DictReader(
                io.StringIO(
                    client.get("/national/published.csv", params={"period": "2024-06", "measure": "MRS01b"}).text
                )
            )
        )
        assert [r["code"] for r in rows] == [u["code"] for u in waits["units"]]
        page = client.get("/national/published", params={"period": "2024-06", "measure": "MRS02b"})
        callout = re.search(r"Outside the 99.8% limits.*?</ul>", page.text, re.S)
        assert callout
        assert set(re.findall(r"<li>(\w+) ", callout.group(0))) == {o["code"] for o in wider["outside_998"]}
        assert client.get("/national/published", params={"period": "2024-06", "measure": "NOPE"}).status_code == 404
