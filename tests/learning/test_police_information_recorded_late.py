"""Police information recorded late is in the chronology at the date it happened, with the date it was recorded, and
is never counted as a missed opportunity before it was known."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from safetynet.core.clock import LONDON, end_of_local_day
from safetynet.learning import chronology, pack
from tests.learning.conftest import Loaded, listed, pdf_text

STEM = "police-warrant-unread-inbox"
ARREST = datetime(2022, 6, 10, 23, 30, tzinfo=LONDON)
LEARNT = datetime(2022, 6, 27, 9, 30, tzinfo=LONDON)
WARRANT_LEARNT = datetime(2022, 10, 17, 9, 0, tzinfo=LONDON)


@pytest.fixture(scope="module")
def story(scenarios: dict[str, Loaded]) -> Loaded:
    return scenarios[STEM]


def _build(story: Loaded, at: datetime | None = None) -> chronology.Chronology:
    return chronology.build(
        story.ctx(), story.scenario.patient.nhs_number, start=story.first_day.date(), end=story.last_check.date(), at=at
    )


def test_the_arrest_sits_at_the_date_it_happened_with_the_date_it_was_recorded(story: Loaded) -> None:
    (arrest,) = [e for e in _build(story).entries if e.kind == "partner_information" and e.fields["kind"] == "arrest"]
    assert arrest.occurred_at == ARREST
    assert arrest.recorded_at == LEARNT
    assert arrest.days_late == 17
    assert arrest.source == "police"


def test_its_finding_opens_when_it_was_recorded_never_before(story: Loaded) -> None:
    periods = [p for p in _build(story).periods if p.rule_id == "SN08"]
    assert [p.opened_at for p in periods] == [LEARNT, WARRANT_LEARNT]
    assert all(p.opened_by == "recorded" for p in periods)
    before = end_of_local_day(datetime(2022, 6, 20).date())
    assert not any(p.opened_at <= before < p.until for p in _build(story).periods if p.rule_id == "SN08")


def test_as_known_before_it_was_recorded_the_arrest_and_its_finding_do_not_exist(story: Loaded) -> None:
    earlier = _build(story, at=datetime(2022, 6, 20, 12, 0, tzinfo=LONDON))
    assert not any(e.kind == "partner_information" for e in earlier.entries)
    assert not any(p.rule_id == "SN08" for p in earlier.periods)


def test_the_pdf_shows_it_on_its_day_recorded_later_and_the_finding_from_the_day_it_was_learnt(
    story: Loaded, tmp_path: Path
) -> None:
    made = pack.from_chronology(_build(story), story.clock.now())
    text = pdf_text(pack.pdf(made), tmp_path)
    day = text.index("Fri 10 Jun 2022")
    assert "Police information: arrest (violence)" in text[day : day + 400]
    assert "recorded 27 Jun 2022 (17 days later)" in text[day : day + 600]
    opened = sorted(item.opened for item in listed(text) if item.rule_id == "SN08")
    assert opened == [LEARNT, WARRANT_LEARNT]
