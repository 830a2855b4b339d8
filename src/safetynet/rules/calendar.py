"""Working days in England: Monday to Friday except England and Wales bank holidays, in London time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from safetynet.core.clock import LONDON


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def end_of_next_working_day(moment: datetime) -> datetime:
    """The end (23:59:59 London) of the first working day after the day of ``moment``."""
    day = next_working_day(moment.astimezone(LONDON).date())
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON)


def add_working_days(moment: datetime, days: int) -> datetime:
    """The same London time of day, ``days`` working days later."""
    local = moment.astimezone(LONDON)
    day = local.date()
    for _ in range(days):
        day = next_working_day(day)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LONDON)


def is_weekend_or_holiday_discharge(moment: datetime) -> bool:
    """Friday, Saturday, Sunday or a bank holiday: when crisis cover is thinnest (rule SN14)."""
    day = moment.astimezone(LONDON).date()
    return day.weekday() >= 4 or is_bank_holiday(day)
