# ruff: noqa: F811  (the fixtures imported from board_fixtures are, by design, the tests' parameters)
"""The trust safety view over HTTP (TestClient): open findings by rule and team match the tasks, the alert burden,
the rule in monitor mode with its findings, the operational alert shown loudly, and who may see it."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.core.db import make_engine
from safetynet.tasks.models import Task, TaskStatus
from tests.web.board_fixtures import board, board_app, board_client, board_world_built, signed_in  # noqa: F401
from tests.web.board_world import FAILED_RULE, FAILURE, MONITORED, NOW, PEOPLE, BoardWorld


def _tasks(world: BoardWorld) -> list[Task]:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Task.rule_id, Task.team_id, Task.status, Task.due_at, Task.owner_staff_id).where(
                Task.closed_at.is_(None)
            )
        ).all()
    engine.dispose()
    return rows  # type: ignore[return-value]


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<h2 id="{anchor}"')
    end = html.find("<h2", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_key_workers_may_not_see_the_trust_view_and_the_nav_entry_opens_it(board_client: TestClient) -> None:
    signed_in(board_client, "kim")
    assert board_client.get("/trust/safety").status_code == 403
    board_client.cookies.clear()
    signed_in(board_client, "sol")
    assert board_client.get("/trust").headers["location"] == "/trust/safety"
    page = board_client.get("/")
    assert 'href="/trust/safety"' in page.text
    assert 'href="/board"' in page.text


def test_open_findings_by_rule_and_team_match_the_tasks(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "sol")
    page = board_client.get("/trust/safety")
    assert page.status_code == 200
    asking = [t for t in _tasks(board) if t.status in (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED)]
    by_rule = Counter(t.rule_id for t in asking)
    assert by_rule, "the world has open findings"
    rows = re.findall(
        r'<td class="nhsuk-table__cell">(SN\d\d) [^<]*</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>',
        _section(page.text, "by-rule"),
    )
    assert {rule: int(n) for rule, n, _ in rows} == dict(by_rule)
    overdue = Counter(t.rule_id for t in asking if t.due_at < NOW)
    assert {rule: int(late) for rule, _, late in rows if int(late)} == dict(overdue)
    teams = _section(page.text, "by-team")
    per_team = Counter(t.team_id for t in asking)
    ours = re.search(rf'<a href="/teams/{board.team_id}/board">CMHT Board</a></td>\s*<td[^>]*>(\d+)</td>', teams)
    assert ours
    assert int(ours.group(1)) == per_team[board.team_id]
    assert "EIP Board" in teams
    assert f"{sum(by_rule.values())} open findings" in page.text


def test_monitor_mode_rules_are_listed_with_the_findings_nobody_was_asked_about(
    board_client: TestClient, board: BoardWorld
) -> None:
    signed_in(board_client, "sol")
    monitor = _section(board_client.get("/trust/safety").text, "monitor")
    assert f"{MONITORED} Police or court information to review" in monitor
    assert "Trialling the police information feed before asking anyone to act" in monitor
    recorded = sum(1 for t in _tasks(board) if t.status == TaskStatus.MONITOR and t.rule_id == MONITORED)
    assert recorded == 1  # Avery's police information: recorded, nobody asked
    assert re.search(rf"{MONITORED}.*?numeric\">{recorded}</td>", monitor, re.S)
    assert MONITORED not in _section(board_client.get("/trust/safety").text, "by-rule")  # nobody is asked


def test_an_operational_alert_is_shown_loudly_at_the_top(board_client: TestClient) -> None:
    signed_in(board_client, "sol")
    page = board_client.get("/trust/safety").text
    banner = page.index('class="nhsuk-error-summary sn-operational-alerts"')
    assert banner < page.index('<h2 id="by-rule"')
    assert 'role="alert"' in page[banner : banner + 200]
    assert "1 rule failure: the safety net did not check everyone" in page
    alerts = _section(page, "operational-alerts")
    assert FAILED_RULE in alerts
    assert FAILURE.replace("'", "&#39;") in alerts
    assert f'href="/people/{PEOPLE["Avery Boardtest"]}"' in alerts


def test_alert_burden_counts_open_tasks_per_clinician(board_client: TestClient, board: BoardWorld) -> None:
    signed_in(board_client, "cal")
    burden = _section(board_client.get("/trust/safety").text, "burden")
    owned = Counter(
        t.owner_staff_id
        for t in _tasks(board)
        if t.owner_staff_id and t.status in (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED)
    )
    assert f"({len(owned)} clinician" in burden
    assert f"most {max(owned.values())}" in burden
    assert "Kim Keyworker" in burden
