"""``safetynet national``: the national tier (pseudonymised extracts, ingest, indicators, published MHSDS data)."""

from __future__ import annotations

import typer

national_app = typer.Typer(
    help="The national tier: pseudonymised extracts from trusts, ingest, indicators across providers.",
    no_args_is_help=True,
)
