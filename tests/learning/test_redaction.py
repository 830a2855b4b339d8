"""A pack for sharing with a family withholds third-party information: family members' names, wherever they appear,
and what police and other partners reported. The unredacted pack shows them (so the test can fail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.learning import pack
from tests.learning.conftest import Loaded, pdf_text

FAMILY = "family-concern-easter"
POLICE = "police-warrant-unread-inbox"


def _pack(loaded: Loaded, *, redact: bool) -> pack.Pack:
    return pack.build(
        loaded.ctx(),
        loaded.scenario.patient.nhs_number,
        start=loaded.first_day.date(),
        end=loaded.last_check.date(),
        redact_third_parties=redact,
    )


@pytest.fixture(scope="module")
def family(scenarios: dict[str, Loaded]) -> tuple[str, str]:
    loaded = scenarios[FAMILY]
    return pack.html(_pack(loaded, redact=False)), pack.html(_pack(loaded, redact=True))


def test_family_names_are_withheld_everywhere_they_appear(family: tuple[str, str]) -> None:
    plain, redacted = family
    assert "Dee Placeholder" in plain
    assert "Dee" not in redacted
    assert "[name withheld] (sister)" in redacted
    assert "Third-party information withheld" in redacted
    assert "Jordan Placeholder" in redacted  # the person's own name stays


def test_partner_details_are_withheld_in_the_pdf(scenarios: dict[str, Loaded], tmp_path: Path) -> None:
    loaded = scenarios[POLICE]
    plain = pack.html(_pack(loaded, redact=False))
    redacted_pdf = pdf_text(pack.pdf(_pack(loaded, redact=True)), tmp_path)
    for detail in ("assaulting a door supervisor", "Failed to appear at the magistrates court", "lock knife"):
        assert detail in plain
        assert detail not in redacted_pdf
    assert "Police information: arrest (violence): [details withheld]" in redacted_pdf
    assert "recorded 27 Jun 2022 (17 days later)" in redacted_pdf  # when it happened and was learnt stays
