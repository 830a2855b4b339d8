"""What the risk history asks of every later assessment (R1, R17): a category the history holds is marked present,
or the assessment says in writing why not.

One concept, used in two places: the recording form asks for the rationale before it saves
(``web.pages.recording``), and rule SN04 raises a task for an assessment that arrived without one (from FHIR, a
scenario or the command line, which the record accepts so that nothing a partner sends is lost)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from safetynet.record.risk.models import FactorStatus

E = TypeVar("E")


def dropped_categories(history: Iterable[E], factors: Mapping[str, str], at: datetime) -> dict[str, list[E]]:
    """The categories of ``history`` (risk events that had happened by ``at``, leaving out those entered in error)
    that ``factors`` does not mark present (absent, not assessed or left out), each with its events in order."""
    dropped: dict[str, list[E]] = {}
    for event in history:
        seen: Any = event  # risk events from the database or the rules' in-memory facts: both have these fields
        if seen.entered_in_error or seen.occurred_at > at:
            continue
        if factors.get(seen.category, FactorStatus.NOT_ASSESSED) != FactorStatus.PRESENT:
            dropped.setdefault(seen.category, []).append(event)
    return {category: dropped[category] for category in sorted(dropped)}
