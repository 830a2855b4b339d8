"""The stored indicator figures count complete months only, so a month still under way never looks like a fall."""

from __future__ import annotations

from datetime import date

import pytest

from safetynet.oversight.figures import complete_months


@pytest.mark.parametrize(
    ("today", "months", "first", "last"),
    [
        (date(2025, 1, 15), 24, date(2023, 1, 1), date(2024, 12, 1)),
        (date(2025, 1, 1), 24, date(2023, 1, 1), date(2024, 12, 1)),  # the first of the month: still under way
        (date(2024, 12, 31), 2, date(2024, 10, 1), date(2024, 11, 1)),
        (date(2024, 3, 10), 12, date(2023, 3, 1), date(2024, 2, 1)),
    ],
)
def test_only_complete_months_are_counted(today: date, months: int, first: date, last: date) -> None:
    assert complete_months(today, months) == (first, last)


def test_an_spc_chart_needs_two_months() -> None:
    with pytest.raises(ValueError, match="at least two"):
        complete_months(date(2025, 1, 15), 1)
