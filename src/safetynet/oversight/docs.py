"""Render docs/indicators.md from the indicator catalogue and the extract schema (``safetynet national
indicators-docs``); tests/oversight/test_indicators_docs.py fails when the file is stale."""

from __future__ import annotations

from safetynet.oversight import schema
from safetynet.oversight.indicators import catalogue


def render() -> str:
    lines = [
        "# Indicators",
        "",
        "Generated from `safetynet.oversight.indicators` by `safetynet national indicators-docs`: do not edit by hand.",
        "",
        "Each indicator is defined once, in Ibis, against the extract schema below, and runs unchanged on a trust's",
        "own database (SQLite or PostgreSQL), on DuckDB over Parquet extracts and on Spark. Each gives, per provider,",
        "team and reporting month, an integer numerator and (except counts) an integer denominator. Days are London",
        "calendar days. `docs/national.md` says how to run them.",
        "",
        "| id | title | unit | improvement | period |",
        "|---|---|---|---|---|",
    ]
    indicators = catalogue()
    for i in indicators.values():
        lines.append(f"| [{i.id}](#{i.id.lower()}) | {i.title} | {i.unit.value} | {i.direction.value} | {i.period} |")
    lines.append("")
    for i in indicators.values():
        lines += [f"## {i.id}", "", f"**{i.title}**", ""]
        lines.append(f"- **Numerator**: {i.numerator}")
        lines.append(f"- **Denominator**: {i.denominator or 'none (a count)'}")
        lines.append(f"- **Unit**: {i.unit.value}")
        lines.append(f"- **Improvement direction**: {i.direction.value}")
        if i.target:
            lines.append(f"- **Target**: {i.target}")
        lines.append(f"- **Source**: {i.source}")
        lines.append(f"- **Period**: {i.period}")
        if i.mhsds:
            lines.append(f"- **MHSDS measure**: {i.mhsds}")
        if i.notes:
            lines.append(f"- **Notes**: {i.notes}")
        lines.append(f"- **Definition**: `safetynet.oversight.indicators.definitions.{i.define.__name__}`")
        lines.append("")
    lines += [
        "## How the MHSDS measures were matched",
        "",
        "MHS78, MHS79 and MHS80 follow NHS England's published processing code for the MHSDS monthly statistics",
        "(`menh_publications`, 72-hour follow-up): discharges between the start and the end of the reporting period",
        "each moved back 4 days; discharge method died excluded, and people who died within 3 days of discharge;",
        "follow-up is the first attended (AttendOrDNACode 5 or 6) contact by an included consultation mechanism, or a",
        "readmission, with the responsible provider, on a day after the day of discharge and at most 3 days after it.",
        "Differences, because the record does not hold them: there is no hospital bed type, so every ward on the",
        "`inpatient` pathway is taken to be an adult acute bed; there is no discharge destination (so no exclusion of",
        "transfers or discharges to prison); there are no onward referrals to another provider, so the responsible",
        "provider is the discharging one; 'direct' modes (face to face, home visit, video, phone) stand for the",
        "included consultation mechanisms; a death is known only from an episode ended for that reason.",
        "",
        "## The extract schema",
        "",
        f"Schema version {schema.SCHEMA_VERSION}. {schema.__doc__.splitlines()[0] if schema.__doc__ else ''}",
        "",
    ]
    for spec in schema.TABLES.values():
        lines += [f"### `{spec.name}`", "", spec.about, "", "| column | type | meaning |", "|---|---|---|"]
        for column in spec.columns:
            lines.append(f"| `{column.name}` | {column.type} | {column.about} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
