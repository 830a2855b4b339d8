"""The app's scheduler: the safety net's clockwork while ``safetynet serve`` runs.

Every tick (five minutes by default) it escalates overdue tasks (``tasks.escalation``: key worker -> team manager
-> consultant or safety lead), and once a day, after 02:00 London time, it recomputes the trust's indicator figures
for the dashboards (``oversight.figures``). Each job runs in a worker thread in its own unit of work, so a slow job
never blocks a page. Escalation is an atomic conditional update, so several app processes may all run the
scheduler; the worst a second process does is compute the same figures twice.

A job that fails is never silent: it is logged and recorded as an operational alert, which the trust safety view
shows at the top until someone acknowledges it, and the next tick tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Engine

from safetynet.core.clock import LONDON, Clock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import unit_of_work
from safetynet.oversight import figures
from safetynet.tasks.escalation import escalate
from safetynet.tasks.models import OperationalAlert

log = logging.getLogger("safetynet.scheduler")
SCHEDULER = Actor(name="Safetynet scheduler", role=Role.SYSTEM, purpose="scheduled safety net jobs")
NIGHTLY_AFTER = time(2, 0)  # London: after the day's recording, before the morning huddle


@dataclass(frozen=True)
class Job:
    name: str
    due: Callable[[Context], bool]
    run: Callable[[Context, str], object]


def _figures_due(ctx: Context) -> bool:
    """No figures yet, or none computed since the last 02:00 London time."""
    now = ctx.clock.now().astimezone(LONDON)
    last_night = datetime.combine(now.date(), NIGHTLY_AFTER, tzinfo=LONDON)
    if now < last_night:  # before 02:00: a run since yesterday's 02:00 will do
        last_night -= timedelta(days=1)
    latest = figures.latest(ctx.session)
    return latest is None or latest.computed_at < last_night


JOBS = (
    Job("escalation", lambda ctx: True, lambda ctx, url: escalate(ctx)),
    Job("indicator figures", _figures_due, lambda ctx, url: figures.refresh(ctx, url)),
)


def tick(engine: Engine, url: str, clock: Clock) -> list[str]:
    """Run every job that is due, each in its own unit of work; return the names of those that ran. A failure is
    logged and recorded as an operational alert, and the other jobs still run."""
    ran = []
    for job in JOBS:
        try:
            with unit_of_work(engine) as session:
                ctx = Context(session, SCHEDULER, clock)
                if not job.due(ctx):
                    continue
                job.run(ctx, url)
            ran.append(job.name)
        except Exception as exc:  # a failed job must be loud, and must not stop the others
            log.exception("scheduled job %s failed", job.name)
            with unit_of_work(engine) as session:
                session.add(
                    OperationalAlert(
                        at=clock.now(), rule_id="SCHEDULER", error=f"scheduled job {job.name!r} failed: {exc!r}"
                    )
                )
    return ran


async def run_forever(engine: Engine, url: str, clock: Clock, every_seconds: float) -> None:
    """Tick now and then every ``every_seconds`` until cancelled (when the app shuts down). A tick that fails
    outright (the database unreachable, so not even its alert can be recorded) is logged and the next tick tries
    again: a passing outage must not stop escalation until someone restarts the server."""
    while True:
        try:
            await asyncio.to_thread(tick, engine, url, clock)
        except Exception:  # the loop is the safety net's clockwork: it must outlive any one tick
            log.exception("the scheduler's tick failed; trying again in %s s", every_seconds)
        await asyncio.sleep(every_seconds)
