"""The web app's settings, from the environment (or given directly by tests)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from safetynet.core.clock import Clock, SystemClock
from safetynet.core.db import database_url


def _secret_key() -> str:
    """The key that signs session cookies and CSRF tokens: from SAFETYNET_SECRET_KEY, or a file named by
    SAFETYNET_SECRET_KEY_FILE; a random key per process otherwise (sessions then end when the server restarts)."""
    path = os.environ.get("SAFETYNET_SECRET_KEY_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get("SAFETYNET_SECRET_KEY") or secrets.token_urlsafe(32)


@dataclass(frozen=True)
class WebSettings:
    database_url: str = field(default_factory=database_url)
    secret_key: str = field(default_factory=_secret_key)
    session_minutes: int = 30  # idle expiry of a signed-in session
    session_hours: int = 12  # absolute lifetime of a signed-in session, however busy
    secure_cookies: bool = True  # tests on plain-HTTP loopback turn this off
    clock: Clock = field(default_factory=SystemClock)
    # Seconds between the scheduler's ticks (escalation; nightly indicator figures); None runs no scheduler, as in
    # tests that drive the jobs themselves. ``safetynet serve`` turns it on.
    scheduler_seconds: float | None = None
    # The national tier's database (DuckDB) for the national dashboard; None: SAFETYNET_NATIONAL_DB or the default.
    national_database: str | None = None
