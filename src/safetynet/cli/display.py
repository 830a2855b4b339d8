"""Showing a person's record in a terminal: a banner, the risk history first (always), then every section."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from safetynet.core.clock import LONDON

# Bookkeeping columns a clinician does not need to read in the terminal (JSON output keeps them all).
HIDDEN = {
    "id",
    "fact_id",
    "version",
    "recorded_by_id",
    "team_id",
    "staff_id",
    "ward_id",
    "to_team_id",
    "amendment_reason",
    "entered_in_error",
    "prescription_fact_id",
    "episode_fact_id",
    "concern_fact_id",
    "request_fact_id",
    "cto_fact_id",
    "carer_fact_id",
    "admission_fact_id",
}


def print_chart(console: Console, record: dict[str, Any]) -> None:
    """Risk history is printed first and always, even when there is none (R1: shown on every summary)."""
    when = f"as known at {record['as_known_at']}" if record["as_known_at"] else "as known now"
    console.print(
        Panel(
            f"[bold]{record['name']}[/bold]  NHS number {record['nhs_number']}  born {record['born']}  "
            f"sex {record['sex']}  GP {record['gp_practice'] or '-'}\n{record['fact_count']} facts, {when}",
            title="Safetynet record",
        )
    )
    sections = record["sections"]
    order = ["risk_events"] + [k for k in sections if k != "risk_events"]
    for kind in order:
        facts = sections[kind]
        if facts:
            console.print(_table(kind, facts))
        elif kind == "risk_events":
            console.print("[bold]Risk events[/bold]: none recorded")


def _table(kind: str, facts: list[dict[str, Any]]) -> Table:
    title = kind.replace("_", " ").capitalize()
    columns = [c for c in facts[0] if c not in HIDDEN]
    table = Table(*columns, title=title, show_lines=False)
    for fact in facts:
        cells = [_cell(fact.get(c)) for c in columns]
        if fact.get("entered_in_error"):
            cells = [f"[strike]{c}[/strike]" for c in cells]
            cells[-1] += f" [red](entered in error: {fact.get('amendment_reason')})[/red]"
        table.add_row(*cells)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        # Stored in UTC; people read London time.
        return datetime.fromisoformat(value).astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def print_scenario_result(console: Console, result: dict[str, Any]) -> None:
    """Each check: the findings open then (overdue ones in red), and what a discharge attempt would meet."""
    console.print(f"[bold]Scenario {result['scenario']}[/bold]")
    for check in result["checks"]:
        console.print(f"\n[bold]On {_cell(check['on'])}[/bold]: {len(check['open'])} open")
        for finding in check["open"]:
            colour = "red" if finding["overdue"] else "yellow"
            console.print(
                f"  [{colour}]{finding['rule']}[/{colour}] since {_cell(finding['since'])}, due {_cell(finding['due'])}"
                f"{' (overdue)' if finding['overdue'] else ''}: {finding['summary']}"
            )
            for evidence in finding["evidence"]:
                console.print(f"      - {evidence}")
        if "discharge" in check:
            gate = check["discharge"]
            console.print(f"  Discharge: [bold]{gate['outcome']}[/bold]")
            for reason in gate["reasons"]:
                console.print(f"      - {reason}")
        for failure in check.get("rule_failures", []):
            console.print(f"  [bold red]RULE FAILED {failure['rule']}: {failure['error']}[/bold red]")
