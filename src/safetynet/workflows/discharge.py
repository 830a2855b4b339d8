"""Discharge, through the gates. Non-attendance is never a reason to discharge (NHS England); a discharge needs a
current plan, the family told, crisis cover at weekends and a full GP handover (CQC; NICE QS159).

``check`` asks the gate rules and writes nothing. ``discharge`` records the discharge only if no gate blocks it;
where a senior overrides a rule that allows it, their role and rationale are recorded with the discharge and in
the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safetynet.audit import service as audit
from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.record.episodes import service as episodes
from safetynet.record.episodes.models import DischargeDestination, DischargeReason
from safetynet.record.episodes.schemas import EpisodeEndIn
from safetynet.record.legal import service as legal
from safetynet.record.legal.schemas import InpatientDischargeIn
from safetynet.rules import engine
from safetynet.rules.facts import load_history
from safetynet.rules.model import DischargeAttempt, GateOutcome
from safetynet.rules.registry import RULES


@dataclass(frozen=True, slots=True)
class DischargeRequest:
    """What the clinician is asking to do. The override's role is the actor's own, never typed in."""

    kind: str  # episode | inpatient
    team_id: str | None = None
    reason: DischargeReason | None = None
    destination: DischargeDestination | None = None
    crisis_team_accepted: bool | None = None
    carer_informed: bool | None = None
    override_rationale: str | None = None


class DischargeBlocked(ValidationFailed):
    """The gate rules block this discharge; each reason names its rule."""

    def __init__(self, result: engine.GateResult) -> None:
        self.result = result
        super().__init__(Problem(d.rule_id, d.reason) for d in result.decisions if d.blocks)


def check(ctx: Context, patient_id: str, request: DischargeRequest, at: datetime | None = None) -> engine.GateResult:
    """What the gates say about this discharge now. Writes nothing but the audit of the look."""
    at = at or ctx.clock.now()
    facts = load_history(ctx.session, patient_id).as_known_at(at)
    audit.record_read(ctx, entity="discharge_check", patient_id=patient_id, detail=request.kind)
    return engine.check_discharge(facts, _attempt(ctx, request, at))


def discharge(ctx: Context, patient_id: str, request: DischargeRequest) -> engine.GateResult:
    """Record the discharge if the gates allow it; raise DischargeBlocked (nothing written) if they do not."""
    if request.kind == "episode" and (request.team_id is None or request.reason is None or request.destination is None):
        raise ValidationFailed(
            [Problem("discharge", "an episode discharge needs the team, a reason and a destination")]
        )
    result = check(ctx, patient_id, request)
    if result.outcome is GateOutcome.BLOCKED:
        raise DischargeBlocked(result)
    now = ctx.clock.now()
    overridden = [d for d in result.decisions if d.overridden_by is not None]
    if request.kind == "episode":
        assert request.team_id is not None
        assert request.reason is not None
        assert request.destination is not None
        episode = episodes.open_episode(ctx, patient_id, request.team_id)
        if episode is None:
            raise ValidationFailed([Problem("team", "no open episode with that team")])
        episodes.end_episode(
            ctx,
            episode.fact_id,
            EpisodeEndIn(
                ended_at=now,
                reason=request.reason,
                destination=request.destination,
                override_by_role=ctx.actor.role if overridden else None,
                override_rationale=request.override_rationale if overridden else None,
            ),
        )
    else:
        legal.discharge_from_ward(
            ctx,
            patient_id,
            InpatientDischargeIn(
                discharged_at=now,
                crisis_team_accepted=request.crisis_team_accepted,
                carer_informed=request.carer_informed,
            ),
        )
    for decision in overridden:
        audit.record(
            ctx,
            action="gate_override",
            entity="discharge",
            patient_id=patient_id,
            detail=f"{decision.rule_id} overridden by a {decision.overridden_by}: {request.override_rationale}",
        )
    return result


def _attempt(ctx: Context, request: DischargeRequest, at: datetime) -> DischargeAttempt:
    rationale = (request.override_rationale or "").strip() or None
    return DischargeAttempt(
        kind=request.kind,
        at=at,
        team_id=request.team_id,
        reason=request.reason,
        destination=request.destination,
        crisis_team_accepted=request.crisis_team_accepted,
        carer_informed=request.carer_informed,
        override_by=ctx.actor.role if rationale else None,
        override_rationale=rationale,
    )


def overridable(rule_id: str) -> list[str]:
    return sorted(str(r) for r in RULES[rule_id].overridable_by)
