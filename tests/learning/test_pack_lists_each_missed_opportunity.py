"""For each scenario in the library, the PDF pack lists each finding open on the right dates: every rule the
scenario's own ``expect`` block says is open at a check is listed as open over that moment, and no rule is listed
open at a check where the scenario expects it closed. The PDF is read back as text with pdftotext."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.learning import pack
from tests.conftest import SCENARIOS
from tests.learning.conftest import Loaded, listed, pdf_text

LIBRARY = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def _render(loaded: Loaded, tmp: Path) -> str:
    made = pack.build(
        loaded.ctx(),
        loaded.scenario.patient.nhs_number,
        start=loaded.first_day.date(),
        end=loaded.last_check.date(),
    )
    return pdf_text(pack.pdf(made), tmp)


@pytest.mark.slow
@pytest.mark.parametrize("stem", LIBRARY)
def test_the_pack_lists_each_open_finding_over_the_checks_the_scenario_expects(
    stem: str, scenarios: dict[str, Loaded], tmp_path: Path
) -> None:
    loaded = scenarios[stem]
    expected = (loaded.scenario.expect or {}).get("checks", [])
    assert len(expected) == len(loaded.scenario.checks)
    text = _render(loaded, tmp_path)
    shown = listed(text)
    rules = {rule for want in expected for rule in want.get("open", [])} | {item.rule_id for item in shown}
    for number, (check, want) in enumerate(zip(loaded.scenario.checks, expected, strict=True)):
        open_rules = set(want.get("open", []))
        for rule in sorted(rules):
            covering = [item for item in shown if item.rule_id == rule and item.covers(check.on)]
            if rule in open_rules:
                assert covering, f"check {number} on {check.on}: {rule} is expected open but no listed period covers it"
            else:
                assert not covering, f"check {number} on {check.on}: {rule} is listed open but expected closed"
    if stem == "good-care-control":
        # Nothing is open at any check; what opened in between was acted on in time (tags print in capitals).
        assert text.count("ACTED ON IN TIME") == len(shown)
        assert not any(tag in text for tag in ("ACTED ON LATE", "LAPSED, NEVER ANSWERED", "STILL OPEN", "DISMISSED"))
    else:
        assert shown, "a review-derived scenario lists at least one opportunity"
