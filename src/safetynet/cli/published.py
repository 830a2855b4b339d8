"""``safetynet national import-published`` and ``safetynet national funnel``: NHS England's published MHSDS files
and funnel plots of providers, with disclosure control on everything shown."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.cli.common import err, out
from safetynet.cli.national import DbOption, national_app


class FunnelFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


class Breakdown(StrEnum):
    PROVIDER = "provider"
    ICB = "icb"


def _database(db: Path | None) -> Path:
    from safetynet.oversight.national import database_path

    return database_path(db)


@national_app.command("import-published")
def import_published(
    directory: Annotated[Path, typer.Argument(help="A directory of NHS England's published MHSDS long-format CSVs.")],
    db: DbOption = None,
) -> None:
    """Load NHS England's published MHSDS files (e.g. community mental health 4-week waits) into the national
    database's mhsds_published table: all or nothing; a period imported again is replaced."""
    from safetynet.oversight.published import PublishedError, import_published

    try:
        result = import_published(directory, _database(db))
    except PublishedError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    out.print(
        f"Imported {result.rows:,} rows ({result.suppressed:,} suppressed by NHS England) from {result.files} "
        f"file(s): periods ending {', '.join(result.periods)}."
    )


@national_app.command("funnel")
def funnel_command(
    measure: Annotated[str, typer.Option("--measure", help="A proportion measure, e.g. MRS01b (MRS01a / MRS01).")],
    period: Annotated[str, typer.Option("--period", help="The month the reporting period ends in, YYYY-MM.")],
    breakdown: Annotated[
        Breakdown, typer.Option("--breakdown", help="provider (default) or icb.")
    ] = Breakdown.PROVIDER,
    chart: Annotated[Path | None, typer.Option("--out", help="Also draw the chart: a .png or .svg file.")] = None,
    fmt: Annotated[FunnelFormat, typer.Option("--format", help="text, json or csv.")] = FunnelFormat.TEXT,
    adjust: Annotated[
        bool, typer.Option("--adjust/--no-adjust", help="Widen the limits for overdispersion (default) or not.")
    ] = True,
    db: DbOption = None,
) -> None:
    """A funnel plot of a published proportion across providers for one period, naming those outside the limits."""
    from safetynet.oversight import charts
    from safetynet.oversight.published import PublishedError, funnel_report, proportion

    try:
        data = proportion(_database(db), measure, period, breakdown.value)
        report = funnel_report(data, adjust=adjust)
    except (PublishedError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    shown = report["_shown"]
    title = f"{measure} by {data.breakdown.lower()}, {data.period_start:%b %Y} to {data.period_end:%b %Y}"
    if chart is not None:
        try:
            charts.write_chart(
                chart,
                charts.funnel_svg(shown, title=title, x_label=data.denominator_measure),
                lambda path: charts.funnel_png(shown, path, title=title, x_label=data.denominator_measure),
            )
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        err.print(f"Chart written to {chart}.")
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    if fmt is FunnelFormat.JSON:
        sys.stdout.write(json.dumps(public, indent=2) + "\n")
    elif fmt is FunnelFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(public["units"][0]) if public["units"] else ["code"])
        writer.writeheader()
        writer.writerows(public["units"])
    else:
        _print_text(public)


def _adjustment(adjusted: bool) -> str:
    return "limits widened for overdispersion" if adjusted else "no overdispersion adjustment"


def _print_text(report: dict[str, Any]) -> None:
    from rich.table import Table

    out.print(
        f"[bold]{report['measure']}[/bold] ({report['numerator']} / {report['denominator']}), "
        f"{report['period_start']} to {report['period_end']}, by {report['breakdown']}"
    )
    out.print(
        f"England {report['england_percent']}%; pooled over the funnel {report['pooled_percent']}%; "
        f"phi {report['phi']} ({_adjustment(report['overdispersion_adjusted'])})."
    )
    out.print(
        f"{report['in_funnel']} of {report['organisations']} organisations in the funnel "
        f"({report['not_published_by_nhs_england']} without both figures published; "
        f"{report['withheld_small_numbers']} in it but not shown: counts of 1 to 7)."
    )
    for key, text in (("outside_998", "Outside the 99.8% limits"), ("outside_95", "Outside the 95% limits only")):
        names = ", ".join(f"{u['name']} ({u['code']}, {u['position']})" for u in report[key]) or "none"
        out.print(f"{text}: {names}")
    table = Table("code", "name", "numerator", "denominator", "%", "95% limits", "99.8% limits", "position")
    for u in report["units"]:
        table.add_row(
            u["code"],
            u["name"],
            str(u["numerator"]),
            str(u["denominator"]),
            "withheld" if u["percent"] is None else str(u["percent"]),
            f"{u['lower_95']} to {u['upper_95']}",
            f"{u['lower_998']} to {u['upper_998']}",
            u["position"],
        )
    out.print(table)
