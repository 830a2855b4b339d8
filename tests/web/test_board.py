# ruff: noqa: F811  (the fixtures imported from board_fixtures are, by design, the tests' parameters)
"""The team board over HTTP (TestClient): the right people in the right places, counts that match the tasks, the
unallocated with their waiting times, confirming a zone (and refusing a bad one), and who may see it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.record.zoning.models import ZoneAssignment
from safetynet.tasks.models import Task, TaskStatus
from tests.web.board_fixtures import board, board_app, board_client, board_world_built, signed_in  # noqa: F401
from tests.web.board_world import NOW, PEOPLE, BoardWorld


def _scalar(world: BoardWorld, stmt: object) -> object:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        found = connection.execute(stmt).scalar_one()  # type: ignore[call-overload]
    engine.dispose()
    return found


def _section(html: str, anchor: str) -> str:
    """The page from the heading with ``id=anchor`` to the next h2."""
    start = html.index(f'id="{anchor}"')
    end = html.find("<h2", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_board_redirects_to_the_signed_in_managers_team(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "tara")
    answer = board_client.get("/board")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/teams/{board.team_id}/board"


def test_a_key_worker_may_not_see_the_team_board(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "kim")
    refused = board_client.get(f"/teams/{board.team_id}/board")
    assert refused.status_code == 403
    assert "You do not have access to this" in refused.text
    assert "Avery Boardtest" not in refused.text
    assert board_client.get("/board").status_code == 403
    assert 'href="/board"' not in board_client.get("/").text  # nor offered it in the navigation


def test_the_zoning_board_shows_the_suggestion_with_its_reasons_beside_the_confirmed_zone(
    board_client: TestClient, board: BoardWorld
) -> None:
    signed_in(board_client, "tara")
    page = board_client.get(f"/teams/{board.team_id}/board?zones=all")
    assert page.status_code == 200
    zoning = _section(page.text, "zoning")
    avery = re.search(rf'<tr class="nhsuk-table__row" id="zone-{PEOPLE["Avery Boardtest"]}">(.*?)</tr>', zoning, re.S)
    assert avery, "Avery is on the zoning board"
    assert "Red" in avery.group(1)
    assert "SN01 overdue" in avery.group(1)  # the reason: the family concern nobody answered
    assert "Not set" in avery.group(1)
    blake = re.search(rf'id="zone-{PEOPLE["Blake Boardtest"]}">(.*?)</tr>', zoning, re.S)
    assert blake
    assert "Settled; seen weekly" in blake.group(1)  # confirmed green by the team, with its rationale
    assert "Gale Boardtest" not in zoning  # another team's
    assert "Eden Boardtest" not in zoning  # waiting, not on the caseload
    # Red first.
    assert zoning.index(f'id="zone-{PEOPLE["Avery Boardtest"]}"') < zoning.index(
        f'id="zone-{PEOPLE["Blake Boardtest"]}"'
    )


def test_unallocated_people_are_listed_with_how_long_they_have_waited(
    board_client: TestClient, board: BoardWorld
) -> None:
    signed_in(board_client, "tara")
    unallocated = _section(board_client.get(f"/teams/{board.team_id}/board").text, "unallocated")
    rows = re.findall(
        r"<tr class=\"nhsuk-table__row\">\s*<td[^>]*><a href=\"/people/(\d+)\">([^<]+)</a>.*?numeric\">(\d+)</td>",
        unallocated,
        re.S,
    )
    assert [(name, int(days)) for _, name, days in rows] == [("Casey Boardtest", 40), ("Drew Boardtest", 10)]


def test_overdue_tasks_are_grouped_by_owner_and_match_the_tasks(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "tara")
    page = board_client.get(f"/teams/{board.team_id}/board").text
    overdue = _section(page, "overdue")
    live = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED)
    expected = _scalar(
        board,
        select(func.count())
        .select_from(Task)
        .where(Task.team_id == board.team_id, Task.closed_at.is_(None), Task.status.in_(live), Task.due_at < NOW),
    )
    assert expected, "the world has overdue tasks on the team"
    assert f"{expected} overdue task" in page  # the lede's count
    owners = dict(re.findall(r"<h3>([^<(]+) \([^)]+\): (\d+) overdue</h3>", overdue))
    assert sum(int(n) for n in owners.values()) == expected
    assert "Kim Keyworker" in owners  # Avery's family concern is hers


def test_caseload_per_key_worker_is_a_chart_with_a_table(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "tara")
    caseloads = _section(board_client.get(f"/teams/{board.team_id}/board").text, "caseloads")
    assert '<svg class="sn-chart"' in caseloads
    assert 'role="img"' in caseloads
    table = dict(
        re.findall(
            r'<td class="nhsuk-table__cell">([^<]+)</td>'
            r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)</td>',
            caseloads,
        )
    )
    assert table == {"Sam Keyworker": "3", "Kim Keyworker": "2", "Ola Idle": "0"}


def test_waiting_discharges_and_partner_information(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "tara")
    page = board_client.get(f"/teams/{board.team_id}/board").text
    waiting = _section(page, "waiting")
    assert "Eden Boardtest" in waiting
    assert re.search(r"Eden Boardtest.*?numeric[^>]*>50</td>\s*<td[^>]*numeric\">0</td>", waiting, re.S)
    assert re.search(r"Harper Boardtest.*?numeric[^>]*>20</td>\s*<td[^>]*numeric\">1</td>", waiting, re.S)
    assert "Indy Boardtest" not in waiting  # seen twice since her referral
    assert "Avery Boardtest" not in waiting  # no referral: on the caseload, not waiting
    discharges = _section(page, "discharges")
    assert "Frankie Boardtest" in discharges
    assert "Board Ward" in discharges
    assert "Section 3" in discharges
    partners = _section(page, "partners")
    assert "Called to a disturbance at her address" in partners
    assert "Avery Boardtest" in partners


def test_reading_the_board_is_audited_for_each_person_on_it(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "cal")
    before = _scalar(board, select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "caseload"))
    assert board_client.get(f"/teams/{board.team_id}/board").status_code == 200
    after = _scalar(board, select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "caseload"))
    assert after - before == 7  # type: ignore[operator]  # Avery, Blake, Casey, Drew, Frankie, Harper, Indy


def test_a_manager_confirms_a_zone_and_the_suggestion_is_recorded_beside_it(
    board_client: TestClient, board: BoardWorld
) -> None:
    signed_in(board_client, "tara")
    nhs = PEOPLE["Casey Boardtest"]
    form = board_client.get(f"/teams/{board.team_id}/board/zones/{nhs}")
    assert form.status_code == 200
    assert "The safety net suggests" in form.text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
    assert token
    done = board_client.post(
        f"/teams/{board.team_id}/board/zones/{nhs}",
        data={"zone": "amber", "rationale": "Allocating today; duty worker to call her", "csrf_token": token.group(1)},
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#zone-{nhs}")
    engine = make_engine(board.url)
    with engine.connect() as connection:
        zone = connection.execute(
            select(ZoneAssignment.zone, ZoneAssignment.suggested_zone, ZoneAssignment.suggested_reasons).where(
                ZoneAssignment.patient_id == board.patient_ids["Casey Boardtest"]
            )
        ).one()
    engine.dispose()
    assert zone.zone == "amber"
    assert zone.suggested_zone in ("red", "amber")
    assert any(reason.startswith("SN10") for reason in zone.suggested_reasons)
    row = re.search(rf'id="zone-{nhs}">(.*?)</tr>', board_client.get(done.headers["location"]).text, re.S)
    assert row
    assert "Allocating today; duty worker to call her" in row.group(1)


def test_a_zone_without_a_choice_or_a_reason_is_refused_with_the_error_summary(
    board_client: TestClient, board: BoardWorld
) -> None:
    signed_in(board_client, "tara")
    nhs = PEOPLE["Drew Boardtest"]
    form = board_client.get(f"/teams/{board.team_id}/board/zones/{nhs}")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
    assert token
    count = (
        select(func.count())
        .select_from(ZoneAssignment)
        .where(ZoneAssignment.patient_id == board.patient_ids["Drew Boardtest"])
    )
    before = _scalar(board, count)
    refused = board_client.post(
        f"/teams/{board.team_id}/board/zones/{nhs}",
        data={"zone": "purple", "rationale": "Discussed at the huddle", "csrf_token": token.group(1)},
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#zone"' in refused.text
    assert "Discussed at the huddle" in refused.text  # kept
    assert "Error: Set the zone" in refused.text  # the page title says so
    refused = board_client.post(
        f"/teams/{board.team_id}/board/zones/{nhs}",
        data={"zone": "red", "rationale": "", "csrf_token": token.group(1)},
    )
    assert refused.status_code == 422
    assert 'href="#rationale"' in refused.text
    assert re.search(r'value="red"\s+checked', refused.text)  # the choice kept
    assert _scalar(board, count) == before  # nothing written


def test_someone_not_on_the_caseload_has_no_zone_form(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "tara")
    missing = board_client.get(
        f"/teams/{board.team_id}/board/zones/{PEOPLE['Gale Boardtest']}", headers={"accept": "text/html"}
    )
    assert missing.status_code == 404
