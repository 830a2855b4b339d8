"""``safetynet indicators``: the trust's own indicators over time, as Making Data Count SPC charts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.cli.common import Format, FormatOption, err, out, print_json

indicators_app = typer.Typer(
    help="The trust's indicators over time (docs/indicators.md), as SPC charts (docs/oversight.md).",
    no_args_is_help=True,
)


@indicators_app.command("spc")
def spc_command(
    indicator: Annotated[str, typer.Argument(help="An indicator id from docs/indicators.md, e.g. DNA01.")],
    first: Annotated[str, typer.Option("--from", help="The first month, YYYY-MM.")],
    last: Annotated[str, typer.Option("--to", help="The last month, YYYY-MM.")],
    team: Annotated[str | None, typer.Option("--team", help="One team's figures instead of the trust's.")] = None,
    chart: Annotated[Path | None, typer.Option("--out", help="Also draw the chart: a .png or .svg file.")] = None,
    fmt: FormatOption = Format.TEXT,
) -> None:
    """An indicator month by month on this trust's database, with mean, process limits, special-cause variation
    and the variation and assurance icons' meanings (XmR, Making Data Count)."""
    from safetynet.core.db import database_url
    from safetynet.oversight import charts, spc
    from safetynet.oversight.trend import TrendError, monthly

    try:
        trend = monthly(database_url(), indicator, first, last, team=team)
    except TrendError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    unit = trend.indicator.unit.value
    if chart is not None:
        try:
            charts.write_chart(
                chart,
                charts.spc_svg(trend.chart, title=trend.title, unit=trend.suffix),
                lambda path: charts.spc_png(trend.chart, path, title=trend.title, unit=unit),
            )
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        err.print(f"Chart written to {chart}.")
    summary = spc.summary(trend.chart)
    if fmt is Format.JSON:
        print_json({"indicator": indicator, "team": team, "months_without_value": trend.without_value, **summary})
        return
    out.print(trend.title)
    out.print(charts.spc_description(trend.chart, trend.title, trend.suffix))
    if trend.without_value:
        out.print(f"No value (no denominator) in {', '.join(trend.without_value)}: left out, not drawn as zero.")


@indicators_app.command("refresh")
def refresh_command(
    months: Annotated[
        int, typer.Option("--months", min=2, max=120, help="How many complete months, up to last month.")
    ] = 24,
) -> None:
    """Compute every indicator for every team and month into the database, for the trust indicators dashboard
    (/trust/indicators). The app's scheduler does this nightly; run it after loading or correcting a lot of data."""
    from safetynet.cli.common import unit_of_work
    from safetynet.core.db import database_url
    from safetynet.oversight import figures

    with unit_of_work("clinical governance: indicator figures") as ctx:
        computed = figures.refresh(ctx, database_url(), months)
    out.print(
        f"{computed.figures:,} figures for {computed.first_month} to {computed.last_month} "
        f"in {computed.seconds:.1f} s (run {computed.id})."
    )
