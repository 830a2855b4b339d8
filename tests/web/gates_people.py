"""Who is in the chronology and discharge tests' world (``gates_world`` builds it): NHS numbers, accounts, the clock.

Kept apart from ``gates_world`` so that test modules can name the people while pytest loads the world's fixtures as
a plugin (``pytest_plugins``), with its assertions rewritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Role

NOW = datetime(2022, 3, 25, 12, 0, tzinfo=LONDON)
CHRONO = "9992000007"
BLOCKED = "9992000015"
DISCHARGED = "9992000023"
WARD_PERSON = "9992000031"
BROWSER_DISCHARGE = "9992000058"  # discharged all the way in the browser test
DISENGAGED_UNTIL = datetime(2022, 3, 24, 11, 0, tzinfo=LONDON)
POLICE_RECORDED = datetime(2021, 4, 5, 8, 30, tzinfo=LONDON)

ACCOUNTS = {
    "jo": ("Jo Smith", Role.KEY_WORKER, "EIP"),  # the disengaged story's key worker
    "chris": ("Chris Taylor", Role.KEY_WORKER, "CMHT North"),  # the family-concern story's key worker
    "pam": ("Pam Lead", Role.TEAM_MANAGER, "EIP"),
    "ann": ("Dr Ann Ward", Role.CONSULTANT, "EIP"),
    "sam": ("Sam Safety", Role.SAFETY_LEAD, "EIP"),
    "adam": ("Adam Admin", Role.ADMINISTRATOR, None),
}


@dataclass
class GatesWorld:
    url: str
    clock: FixedClock

    def reset_clock(self) -> None:
        self.clock.set(NOW)
