"""Writing a synthetic trust into an empty database: the plan's teams and staff, then each person's story
through the same loader (and so the same record services and validation) that scenario files use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Engine, func, select

from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import unit_of_work
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.ids import SeededIds
from safetynet.record.org import service as org
from safetynet.record.org.models import Pathway
from safetynet.record.org.schemas import OrganisationIn, StaffIn, TeamIn
from safetynet.record.patients.models import Patient
from safetynet.scenarios import format as fmt
from safetynet.scenarios import loader
from safetynet.synth import model

SYNTH_ACTOR = Actor(name="Synthetic data generator", role=Role.SYSTEM, purpose="creating a synthetic trust")
FLUSH_EVERY = 200  # people; keeps the session small on large runs


@dataclass(frozen=True, slots=True)
class SynthResult:
    teams: int
    staff: int
    patients: int
    facts: int


def build(engine: Engine, *, patients: int, seed: int, console: Console | None = None) -> SynthResult:
    """Create the trust and its people in one unit of work: all of it, or (on any error) nothing."""
    plan = model.plan_trust(seed=seed, patients=patients)
    start = datetime.combine(model.DEFAULT_UNTIL, time(9), tzinfo=LONDON) - timedelta(days=365 * 3 + 30)
    ids = SeededIds(seed)
    facts = 0
    with unit_of_work(engine) as session:
        if session.scalar(select(func.count()).select_from(Patient)):
            raise ValidationFailed([Problem("database", "synth needs an empty database: it already holds people")])
        ctx = Context(session, SYNTH_ACTOR, FixedClock(start), ids)
        organisation = org.create_organisation(ctx, OrganisationIn(ods_code=plan.ods_code, name=plan.name))
        session.flush()
        for team in plan.teams:
            org.create_team(ctx, organisation, TeamIn(name=team.name, pathway=Pathway(team.pathway)))
        session.flush()
        for member in plan.staff:
            org.create_staff(ctx, StaffIn(name=member.name, role=Role(member.role), team=member.team))
        session.flush()
        with _progress(console) as progress:
            task = progress.add_task("People", total=patients)
            for n, story in enumerate(model.generate_stories(plan, seed=seed, patients=patients), start=1):
                scenario = fmt.Scenario.model_validate(
                    {"id": f"synth-{n}", "title": "synthetic", "patient": story.patient, "events": story.events}
                )
                facts += len(loader.load(session, scenario, ids=ids, actor=SYNTH_ACTOR).fact_ids)
                if n % FLUSH_EVERY == 0:
                    session.flush()
                    session.expunge_all()
                progress.advance(task)
    return SynthResult(teams=len(plan.teams), staff=len(plan.staff), patients=patients, facts=facts)


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
        transient=False,
    )
