"""Cards: a safety-net task, or a discharge the gates would block, said the way CDS Hooks asks.

The indicator says how urgent acting is, never how risky the person is (no rule scores anyone low, medium or high):

| what | indicator |
|---|---|
| a task whose deadline has passed (whatever its status) | critical |
| an open task not yet due (or a snoozed one whose snooze has ended) | warning |
| an acknowledged task not yet due: someone has said what they are doing | info |
| a discharge a gate rule blocks | critical |
| a discharge allowed only because a senior has overridden a gate | warning |
| an inpatient discharge the gates allow: the 72-hour follow-up reminder (SN09) | info |

Dismissed tasks, tasks in monitor mode and tasks snoozed until later are not shown. Most urgent first: critical,
then warning, then info; within each, the earliest deadline first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from safetynet.core.clock import LONDON
from safetynet.interop.cds_hooks.schemas import Action, Card, Coding, Indicator, Link, Source, Suggestion
from safetynet.interop.fhir.codes import BASE, RULE_SYSTEM
from safetynet.rules import engine
from safetynet.rules.model import Evidence, GateDecision, Rule
from safetynet.rules.registry import RULES
from safetynet.tasks.models import Task, TaskStatus
from safetynet.workflows import discharge

SUMMARY_MAX = 139  # the specification: a "<140-character summary"
OVERRIDE_SYSTEM = f"{BASE}/CodeSystem/cds-override-reason"
URGENCY: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
FOLLOW_UP = timedelta(hours=72)

TASK_OVERRIDES = (
    Coding(system=OVERRIDE_SYSTEM, code="acting", display="Already being acted on"),
    Coding(system=OVERRIDE_SYSTEM, code="done-not-recorded", display="Done, but not yet recorded"),
    Coding(system=OVERRIDE_SYSTEM, code="not-applicable", display="Does not apply to this person"),
    Coding(system=OVERRIDE_SYSTEM, code="clinical-judgement", display="Clinical judgement: no action needed now"),
)
GATE_OVERRIDES = (
    Coding(system=OVERRIDE_SYSTEM, code="senior-override", display="A senior clinician overrides, with a rationale"),
    Coding(system=OVERRIDE_SYSTEM, code="done-not-recorded", display="Done, but not yet recorded"),
    Coding(system=OVERRIDE_SYSTEM, code="capacitous-refusal", display="The person has capacity and declines care"),
    Coding(system=OVERRIDE_SYSTEM, code="not-applicable", display="Does not apply to this discharge"),
)

# What to do instead, per gate rule: the suggestion's label (a rule not listed gets its title).
GATE_SUGGESTIONS = {
    "SN03": "Follow the disengagement steps instead of discharging (visit, involve family, MDT decision)",
    "SN14": "Ask the crisis team to accept the person before a Friday or weekend discharge",
    "SN15": "Tell the carer (who has consent to share) about the discharge, and record it",
    "SN16": "Record a risk assessment with a safety plan, and send a full six-section GP letter",
}


@dataclass(frozen=True)
class Urls:
    """Where cards link to: the app (the person's page) and the rulebook (a card's source)."""

    app: str
    rulebook: str

    def person(self, nhs_number: str) -> str:
        return f"{self.app}/people/{nhs_number}"

    def rule(self, rule_id: str) -> str:
        return f"{self.rulebook}#{rule_id.lower()}"


# --- words ---------------------------------------------------------------------------------------------------


def when(moment: datetime | str) -> str:
    """A moment as clinicians read it: London time, e.g. ``Mon 7 Mar 2022 09:00``."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(LONDON).strftime("%a %-d %b %Y %H:%M")


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|])")


def md(text: str) -> str:
    """Recorded free text inside markdown: its markup characters escaped, on one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def source(rule: Rule[Any], urls: Urls, also: list[str] | None = None) -> Source:
    more = f" (and {', '.join(also)})" if also else ""
    return Source(
        label=f"Safetynet rule {rule.id}: {rule.title}{more}",
        url=urls.rule(rule.id),
        topic=Coding(system=RULE_SYSTEM, code=rule.id, display=rule.title),
    )


def person_link(urls: Urls, nhs_number: str) -> Link:
    return Link(label="Open this person in Safetynet", url=urls.person(nhs_number), type="absolute")


def _evidence_lines(evidence: list[dict[str, Any]]) -> list[str]:
    return [f"- {when(e['occurred_at'])} (recorded {when(e['recorded_at'])}): {md(str(e['text']))}" for e in evidence]


def _evidence_dicts(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {"occurred_at": e.occurred_at.isoformat(), "recorded_at": e.recorded_at.isoformat(), "text": e.text}
        for e in evidence
    ]


# --- patient-view: a card per task ---------------------------------------------------------------------------------


def shown(task: Task, now: datetime) -> bool:
    """Whether a live task belongs on a card: someone is asked to act on it now."""
    if task.status in (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED):
        return True
    return task.status == TaskStatus.SNOOZED and task.snoozed_until is not None and task.snoozed_until <= now


def task_indicator(task: Task, now: datetime) -> Indicator:
    if now > task.due_at:
        return "critical"
    return "info" if task.status == TaskStatus.ACKNOWLEDGED else "warning"


def urgency(task: Task, now: datetime) -> tuple[int, datetime, str, str]:
    return (URGENCY[task_indicator(task, now)], task.due_at, task.rule_id, task.id)


def acting_suggestion_id(task_id: str) -> str:
    """The uuid of a task card's "I am acting on this" suggestion: derived from the task, so nothing is stored."""
    return str(uuid5(UUID(task_id), "acting"))


def task_card(task: Task, now: datetime, urls: Urls, nhs_number: str) -> Card:
    """A card for one live task. Its uuid is the task's id, so feedback finds the task again."""
    rule = RULES[task.rule_id]
    indicator = task_indicator(task, now)
    overdue = now > task.due_at
    deadline = f"overdue since {when(task.due_at)}" if overdue else f"due by {when(task.due_at)}"
    lines = [
        f"**{md(rule.title)}** ({rule.id}): {md(task.summary)}",
        "",
        f"Open since {when(task.finding_since)}; {deadline}. In Safetynet this task is **{task.status}**"
        + (f" and has been escalated to the {task.owner_role.replace('_', ' ')}." if task.escalation_level else "."),
    ]
    if task.evidence:
        lines += ["", "Evidence, as recorded:", "", *_evidence_lines(task.evidence)]
    lines += ["", f"Why: {md(rule.explanation)}", "", f"Source: {md(rule.answers)}"]
    return Card(
        uuid=task.id,
        summary=shorten(f"{rule.id}{' overdue' if overdue else ''}: {task.summary}"),
        detail="\n".join(lines),
        indicator=indicator,
        source=source(rule, urls),
        suggestions=[
            Suggestion(
                label="I am acting on this (recorded in Safetynet)",
                uuid=acting_suggestion_id(task.id),
                isRecommended=True,
            )
        ],
        selectionBehavior="at-most-one",
        overrideReasons=list(TASK_OVERRIDES),
        links=[person_link(urls, nhs_number)],
    )


def more_line(hidden: int, urls: Urls, nhs_number: str) -> str:
    return (
        f"\n\nSafetynet has {hidden} more open finding(s) for this person: see [their page]({urls.person(nhs_number)})."
    )


def failure_card(failures: list[engine.RuleFailure], urls: Urls, nhs_number: str) -> Card:
    """A rule that could not be evaluated: its findings may be missing, and that must not look like "all clear"."""
    ids = sorted({f.rule_id for f in failures})
    rule = RULES[ids[0]]
    return Card(
        summary=shorten(f"Safetynet could not check {', '.join(ids)} for this person: findings may be missing"),
        detail="\n".join(
            ["The failure is recorded as an operational alert for the safety lead.", ""]
            + [f"- {f.rule_id}: {md(f.error)}" for f in failures]
        ),
        indicator="warning",
        source=source(rule, urls, ids[1:]),
        links=[person_link(urls, nhs_number)],
    )


# --- encounter-discharge: what the gates say ---------------------------------------------------------------------


def follow_up_suggestion(card_uuid: str, patient_ref: str, now: datetime, *, inpatient: bool) -> Suggestion:
    """Book a follow-up within 72 hours: a proposed FHIR R4 Appointment the record system can create."""
    why = "of discharge (Safetynet SN09)" if inpatient else "instead of a discharge for non-attendance (Safetynet SN03)"
    appointment = {
        "resourceType": "Appointment",
        "status": "proposed",
        "description": f"Follow-up within 72 hours {why}",
        "requestedPeriod": [{"start": now.isoformat(), "end": (now + FOLLOW_UP).isoformat()}],
        "participant": [{"actor": {"reference": patient_ref}, "status": "needs-action"}],
    }
    return Suggestion(
        label="Book a follow-up within 72 hours",
        uuid=str(uuid5(UUID(card_uuid), "follow-up")),
        actions=[Action(type="create", description="Propose a follow-up within 72 hours", resource=appointment)],
    )


def _decision_lines(decisions: list[GateDecision], urls: Urls) -> list[str]:
    lines: list[str] = []
    for d in decisions:
        rule = RULES[d.rule_id]
        lines.append(f"- **[{d.rule_id}]({urls.rule(d.rule_id)}) {md(rule.title)}**: {md(d.reason)}")
        lines += [f"  {line}" for line in _evidence_lines(_evidence_dicts(d.evidence))]
        if d.overridden_by is not None:
            lines.append(f"  Overridden by a {str(d.overridden_by).replace('_', ' ')}.")
        elif d.blocks and rule.overridable_by:
            seniors = " or ".join(r.replace("_", " ") for r in discharge.overridable(d.rule_id))
            lines.append(f"  A {seniors} may override it in Safetynet, with a written rationale.")
        lines.append(f"  Source: {md(rule.answers)}")
    return lines


def discharge_card(
    result: engine.GateResult,
    card_uuid: str,
    urls: Urls,
    nhs_number: str,
    patient_ref: str,
    now: datetime,
    *,
    inpatient: bool,
) -> Card | None:
    """A critical card when a gate blocks; a warning when only an override lets it through; for an inpatient
    discharge the gates allow, an info card with the 72-hour follow-up; otherwise no card."""
    blocking = [d for d in result.decisions if d.blocks]
    warnings = [d for d in result.decisions if not d.blocks]
    follow_up = follow_up_suggestion(card_uuid, patient_ref, now, inpatient=inpatient)
    if blocking:
        ids = [d.rule_id for d in blocking]
        suggestions = [
            Suggestion(
                label=GATE_SUGGESTIONS.get(rule_id, RULES[rule_id].title),
                uuid=str(uuid5(UUID(card_uuid), rule_id)),
            )
            for rule_id in ids
        ]
        if "SN03" in ids or inpatient:
            suggestions.insert(0, follow_up)
        lines = ["Safetynet's discharge checks block this discharge:", "", *_decision_lines(blocking, urls)]
        if warnings:
            lines += ["", "Also:", "", *_decision_lines(warnings, urls)]
        if result.failures:
            lines += ["", "A gate rule could not be checked, so it blocks: an unchecked discharge is unsafe."]
        return Card(
            uuid=card_uuid,
            summary=shorten(f"Discharge blocked by Safetynet ({', '.join(ids)}): see the reasons before discharging"),
            detail="\n".join(lines),
            indicator="critical",
            source=source(RULES[ids[0]], urls, ids[1:]),
            suggestions=suggestions,
            selectionBehavior="any",
            overrideReasons=list(GATE_OVERRIDES),
            links=[person_link(urls, nhs_number)],
        )
    if warnings:
        ids = [d.rule_id for d in warnings]
        return Card(
            uuid=card_uuid,
            summary=shorten(f"Discharge allowed only by a senior override ({', '.join(ids)})"),
            detail="\n".join(
                ["Safetynet's discharge checks pass with warnings:", "", *_decision_lines(warnings, urls)]
            ),
            indicator="warning",
            source=source(RULES[ids[0]], urls, ids[1:]),
            suggestions=[follow_up] if inpatient else None,
            selectionBehavior="any" if inpatient else None,
            overrideReasons=list(GATE_OVERRIDES),
            links=[person_link(urls, nhs_number)],
        )
    if inpatient:
        return Card(
            uuid=card_uuid,
            summary="Safetynet's discharge checks pass: follow the person up within 72 hours of discharge",
            detail=(
                "No gate rule blocks this discharge. After an inpatient discharge Safetynet expects a follow-up "
                f"within 72 hours ([SN09]({urls.rule('SN09')})) and opens a task until one is recorded."
            ),
            indicator="info",
            source=source(RULES["SN09"], urls),
            suggestions=[follow_up],
            selectionBehavior="any",
            links=[person_link(urls, nhs_number)],
        )
    return None
