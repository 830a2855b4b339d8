"""``safetynet review-pack`` and ``safetynet review-themes``: learning from incidents (docs/learning.md)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safetynet.cli.common import Format, FormatOption, PurposeOption, err, out, print_json, unit_of_work


class PackFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option} {value!r} is not a date (use YYYY-MM-DD).[/red]")
        raise typer.Exit(2) from None


def review_pack(
    nhs_number: Annotated[str, typer.Argument(help="The person's NHS number.")],
    from_: Annotated[str, typer.Option("--from", help="First day of the review period (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Last day of the review period (YYYY-MM-DD).")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the pack.", dir_okay=False)],
    fmt: Annotated[PackFormat, typer.Option("--format", help="pdf (default) or html.")] = PackFormat.PDF,
    redact: Annotated[
        bool,
        typer.Option("--redact-third-parties", help="Withhold family members' names and partner agencies' details."),
    ] = False,
    purpose: PurposeOption = "learning review",
) -> None:
    """A learning-review pack: chronology, missed opportunities, timeline and patterns, as PDF or HTML."""
    from safetynet.learning import pack

    start, end = _day(from_, "--from"), _day(to, "--to")
    if end < start:
        err.print("[red]--to is before --from.[/red]")
        raise typer.Exit(2)
    with unit_of_work(purpose) as ctx:
        made = pack.build(ctx, nhs_number, start=start, end=end, redact_third_parties=redact)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if fmt is PackFormat.HTML:
        out_path.write_text(pack.html(made), encoding="utf-8")
    else:
        from safetynet.learning.pdf import PdfUnavailable

        try:
            out_path.write_bytes(pack.pdf(made))
        except PdfUnavailable as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    summary = made.summary
    out.print(
        f"Wrote {out_path}: {len(made.chronology.entries)} entries, {summary.opportunities} opportunities, "
        f"{summary.missed} missed{' (third parties withheld)' if redact else ''}."
    )


def review_themes(
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    fmt: FormatOption = Format.TEXT,
    purpose: PurposeOption = "trust learning review",
) -> None:
    """Trust-level learning: which rules were open longest, where tasks were dismissed, which teams."""
    from safetynet.learning import themes

    start, end = _day(from_, "--from"), _day(to, "--to")
    if end < start:
        err.print("[red]--to is before --from.[/red]")
        raise typer.Exit(2)
    with unit_of_work(purpose) as ctx:
        found = themes.gather(ctx, start, end)
    data = themes.as_json(found)
    if fmt is Format.JSON:
        print_json(data)
        return
    out.print(
        f"{found.start} to {found.end}: {found.people} people with findings, {found.opportunities} opportunities, "
        f"{found.missed} missed."
    )
    table = Table("rule", "opened", "missed", "days open", "longest", "dismissed", title="By rule (open longest first)")
    for r in data["rules"]:
        table.add_row(
            r["rule"],
            str(r["opened"]),
            str(r["missed"]),
            str(r["days_open"]),
            str(r["longest_days"]),
            str(r["dismissed"]),
        )
    out.print(table)
    teams = Table("team", "opened", "missed", "days open", "dismissed", title="By team")
    for t in data["teams"]:
        teams.add_row(t["team"], str(t["opened"]), str(t["missed"]), str(t["days_open"]), str(t["dismissed"]))
    out.print(teams)
    if data["dismissals"]:
        dismissed = Table("rule", "team", "when", "by", "rationale", title="Dismissed tasks")
        for d in data["dismissals"]:
            dismissed.add_row(d["rule"], d["team"], d["at"], d["role"], d["rationale"] or "")
        out.print(dismissed)


def register(app: typer.Typer) -> None:
    """Add the learning commands to the ``safetynet`` application."""
    app.command("review-pack")(review_pack)
    app.command("review-themes")(review_themes)
