"""Learning from incidents: the review pack for one long record, from reading the record to the PDF (section
``learning``).

    python -m benchmarks.run --section learning            # a person with 2,000 facts
    python -m benchmarks.run --section learning --quick    # 300 facts, a smoke check

The long record is the one the ``record`` section reads (``benchmarks.record.long_story``: years of contacts, depot
doses, reviews and police reports learnt of late), loaded through the record services into a fresh SQLite file. The
pack covers the whole record: the chronology as known now, the missed-opportunity analysis (the rules evaluated at
every moment something was recorded and at least daily), the timeline, and the PDF printed by headless Chromium.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from benchmarks.record import READER, long_story
from benchmarks.report import Report
from safetynet import migrations
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.ids import SeededIds
from safetynet.learning import pack
from safetynet.scenarios import loader

TITLE = "Learning: the review pack"
INTRO = (
    "One person's learning-review pack over their whole record, in-process: the chronology, the missed-opportunity "
    "analysis, the timeline picture and the PDF (headless Chromium), each timed."
)
NHS_NUMBER = "9990000018"
TARGET_SECONDS = 10.0


def measure(quick: bool) -> Report:
    facts = 300 if quick else 2_000
    report = Report()
    scenario = long_story(NHS_NUMBER, facts)
    with tempfile.TemporaryDirectory(prefix="safetynet-bench-learning-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'learning.db'}"
        migrations.upgrade(url)
        engine = make_engine(url)
        try:
            with unit_of_work(engine) as session:
                loader.load(session, scenario, ids=SeededIds("benchmark"))
            first = min(e.at for e in scenario.events)
            last = max(e.recorded_at for e in scenario.events)
            with Session(engine) as session:
                now = last + timedelta(days=1)
                ctx = Context(session, READER, FixedClock(now.astimezone(UTC)), SeededIds("reads"))
                started = time.perf_counter()
                made = pack.build(ctx, NHS_NUMBER, start=first.date(), end=last.date())
                built = time.perf_counter()
                page = pack.html(made)
                rendered = time.perf_counter()
                document = pack.pdf(made)
                done = time.perf_counter()
                session.rollback()
        finally:
            engine.dispose()
    entries = len(made.chronology.entries)
    report.add("Record", f"{facts:,} facts over {(last - first).days:,} days; {entries:,} chronology entries")
    report.add(
        "Chronology and missed-opportunity analysis",
        f"{built - started:.2f} s ({len(made.chronology.periods)} periods open)",
    )
    report.add("HTML", f"{rendered - built:.2f} s ({len(page) / 1024:.0f} KiB)")
    report.add("PDF (headless Chromium)", f"{done - rendered:.2f} s ({len(document) / 1024:.0f} KiB)")
    total = done - started
    report.add(
        f"Whole pack, {facts:,} facts",
        f"{total:.2f} s",
        f"< {TARGET_SECONDS:.0f} s at 2,000 facts",
        total < TARGET_SECONDS,
    )
    report.notes.append(f"Rendered {datetime.now(UTC):%Y-%m-%d}; the PDF is not kept.")
    return report
