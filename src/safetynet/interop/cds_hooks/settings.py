"""The CDS Hooks service's settings, from the environment (tests pass their own)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_MAX_CARDS = 5


def _max_cards() -> int:
    raw = os.environ.get("SAFETYNET_CDS_MAX_CARDS", "").strip()
    if not raw:
        return DEFAULT_MAX_CARDS
    value = int(raw)
    if value < 1:
        raise ValueError("SAFETYNET_CDS_MAX_CARDS must be at least 1")
    return value


def _url(name: str) -> str | None:
    return os.environ.get(name, "").strip().rstrip("/") or None


@dataclass(frozen=True)
class CdsSettings:
    """``max_cards``: at most this many cards per patient-view answer (the most urgent).
    ``app_url``: the address clinicians reach the Safetynet app at, for links to a person's page; the request's own
    base URL when unset. ``rulebook_url``: where a card's source links to for the rule it names (an anchor per rule
    is appended); the service's own ``/cds-services/rulebook`` page when unset."""

    max_cards: int = field(default_factory=_max_cards)
    app_url: str | None = field(default_factory=lambda: _url("SAFETYNET_CDS_APP_URL"))
    rulebook_url: str | None = field(default_factory=lambda: _url("SAFETYNET_CDS_RULEBOOK_URL"))
