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
    from safetynet.oversight.published import PublishedError, proportion

    try:
        data = proportion(_database(db), measure, period, breakdown.value)
        report = build_report(data, adjust=adjust)
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


def build_report(data: Any, *, adjust: bool = True) -> dict[str, Any]:
    """The funnel of a published proportion with disclosure control applied to what is shown: every organisation
    with both figures published by NHS England is in the funnel's pooled figure and overdispersion; those with a
    count of 1 to 7 (under our rule) are not shown one by one, nor named."""
    from dataclasses import replace

    from safetynet.oversight.disclosure import is_small, publish_count, publish_rate
    from safetynet.oversight.funnel import Flag, Unit, funnel

    placed = [o for o in data.organisations if o.numerator is not None and o.denominator]
    missing = [o for o in data.organisations if o not in placed]
    if len(placed) < 3:
        raise ValueError(f"only {len(placed)} organisations have both figures published: too few for a funnel")
    result = funnel([Unit(o.code, o.numerator, o.denominator, o.name) for o in placed], adjust=adjust)
    hidden = {o.code for o in placed if is_small(o.numerator) or is_small(o.denominator)}
    shown = replace(result, points=tuple(p for p in result.points if p.name not in hidden))
    units = [
        {
            "code": p.name,
            "name": p.unit.label,
            "numerator": publish_count(p.unit.numerator),
            "denominator": publish_count(p.unit.denominator),
            "percent": publish_rate(p.unit.numerator, p.unit.denominator),
            "lower_998": round(100 * p.limits.lower998, 1),
            "lower_95": round(100 * p.limits.lower95, 1),
            "upper_95": round(100 * p.limits.upper95, 1),
            "upper_998": round(100 * p.limits.upper998, 1),
            "position": p.flag.value,
        }
        for p in sorted(shown.points, key=lambda q: q.name)
    ]

    def named(flags: set[Flag]) -> list[dict[str, str]]:
        return [
            {"code": p.name, "name": p.unit.label, "position": p.flag.value} for p in shown.points if p.flag in flags
        ]

    england = data.england
    return {
        "measure": data.measure,
        "measure_name": data.measure_name,
        "numerator": data.numerator_measure,
        "denominator": data.denominator_measure,
        "period": data.period,
        "period_start": data.period_start.isoformat(),
        "period_end": data.period_end.isoformat(),
        "breakdown": data.breakdown,
        "england_percent": (
            publish_rate(england.numerator, england.denominator, national=True, decimals=2)
            if england and england.numerator is not None and england.denominator
            else None
        ),
        "pooled_percent": round(100 * result.target, 2),
        "phi": round(result.phi, 4),
        "tau2": round(result.tau2, 6),
        "overdispersion_adjusted": result.adjusted,
        "organisations": len(data.organisations),
        "in_funnel": len(result.points),
        "not_published_by_nhs_england": len(missing),
        "withheld_small_numbers": len(hidden),
        "outside_998": named({Flag.HIGH_998, Flag.LOW_998}),
        "outside_95": named({Flag.HIGH_95, Flag.LOW_95}),
        "units": units,
        "_shown": shown,
    }


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
