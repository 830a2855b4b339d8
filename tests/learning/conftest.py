"""Scenarios loaded once per test module (packs take about a second each to render), in a transaction rolled back
at the end of the module, on the database under test."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Context
from safetynet.core.ids import SeededIds
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from tests import personas
from tests.conftest import SCENARIOS


@dataclass
class Loaded:
    scenario: fmt.Scenario
    session: Session
    clock: FixedClock

    def ctx(self) -> Context:
        return Context(self.session, personas.DEV, self.clock, SeededIds("learning"))

    @property
    def first_day(self) -> datetime:
        return min(e.at for e in self.scenario.events)

    @property
    def last_check(self) -> datetime:
        return max(c.on for c in self.scenario.checks)


@pytest.fixture(scope="module")
def scenarios(engine: Engine) -> Iterator[dict[str, Loaded]]:
    """Load scenarios on demand (by file stem) into one module-wide transaction."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")

    class Library(dict[str, Loaded]):
        def __missing__(self, stem: str) -> Loaded:
            scenario = fmt.load_file(SCENARIOS / f"{stem}.yaml")
            loader.load(session, scenario, ids=SeededIds(scenario.id))
            session.flush()
            # Asked the day after the last check: the whole story is known.
            clock = FixedClock(max(c.on for c in scenario.checks) + timedelta(days=1))
            self[stem] = Loaded(scenario, session, clock)
            return self[stem]

    yield Library()
    session.close()
    transaction.rollback()
    connection.close()


def pdf_text(document: bytes, tmp: Path) -> str:
    """The PDF read back as text by poppler's pdftotext, whitespace folded to single spaces."""
    path = tmp / "pack.pdf"
    path.write_bytes(document)
    done = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True)
    return " ".join(done.stdout.split())


MOMENT = r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d"
HEADING = re.compile(rf"(SN\d\d) open from (before )?({MOMENT}) until ({MOMENT})( \(still open\))?")


@dataclass(frozen=True)
class Listed:
    """A missed-opportunity heading as the PDF shows it."""

    rule_id: str
    opened: datetime
    until: datetime
    still_open: bool

    def covers(self, moment: datetime) -> bool:
        at = moment.astimezone(LONDON).replace(second=0, microsecond=0)
        return self.opened <= at and (at <= self.until if self.still_open else at < self.until)


def listed(text: str) -> list[Listed]:
    def moment(value: str) -> datetime:
        return datetime.strptime(value, "%d %b %Y %H:%M").replace(tzinfo=LONDON)

    return [
        Listed(m.group(1), moment(m.group(3)), moment(m.group(4)), bool(m.group(5))) for m in HEADING.finditer(text)
    ]
