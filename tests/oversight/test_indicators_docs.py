"""docs/indicators.md is generated from the catalogue and must not be stale."""

from __future__ import annotations

from pathlib import Path

from safetynet.oversight import schema
from safetynet.oversight.docs import render
from safetynet.oversight.indicators import catalogue

DOC = Path(__file__).parents[2] / "docs" / "indicators.md"


def test_docs_indicators_md_is_up_to_date_run_safetynet_national_indicators_docs_if_this_fails() -> None:
    assert DOC.read_text(encoding="utf-8") == render()


def test_every_indicator_and_every_extract_table_is_documented() -> None:
    text = render()
    for indicator in catalogue().values():
        assert f"## {indicator.id}" in text
        assert indicator.title in text
    for name in schema.TABLES:
        assert f"### `{name}`" in text


def test_the_catalogue_holds_what_the_issue_asks_for() -> None:
    assert {"MHS78", "MHS79", "MHS80", "FUP07", "KW01", "KW02", "SMI01", "CPR01", "DNA01", "DIS01", "FAM01"} <= set(
        catalogue()
    )
    assert {"DEP01", "TSK01", "TSK02", "RAD30", "RAD90", "RRF01", "WAIT01"} <= set(catalogue())
