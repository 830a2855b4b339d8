"""The injected clock. Nothing in Safetynet calls ``datetime.now()`` directly.

Time is stored in UTC and shown in Europe/London, where NHS working days and deadlines live.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, for the running product."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: tests, scenario loading and synthetic data."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def ensure_aware(value: datetime) -> datetime:
    """Refuse naive datetimes: a moment without a zone is ambiguous twice a year in London."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone")
    return value


def to_utc(value: datetime) -> datetime:
    return ensure_aware(value).astimezone(UTC)


def local_datetime(day: date, at: time = time(9, 0)) -> datetime:
    """A London wall-clock moment on a day (09:00 unless told), as scenario dates are read."""
    return datetime.combine(day, at, tzinfo=LONDON)


def end_of_local_day(day: date) -> datetime:
    """23:59:59 London time on ``day``: the moment a check "on" a date asks about."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON)


def parse_moment(text: str) -> datetime:
    """Parse a user's date or datetime: a bare date means the end of that London day; naive times are London."""
    text = text.strip()
    if len(text) == 10:
        return end_of_local_day(date.fromisoformat(text))
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=LONDON)


def iso_utc(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC: how every machine-readable output states time."""
    return ensure_aware(moment).astimezone(UTC).isoformat()
