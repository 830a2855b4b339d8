"""Sharing with partners: what went to whom, under which lawful basis, exactly (data minimisation).

A share names its recipient (a GP practice or a police liaison officer's force), at least one UK GDPR Article 6
basis and one Article 9 condition (it is health data), the purpose, and each item that went with its exact text.
The Crime and Disorder Act 1998 s115 power applies only to sharing with the police. A partner's view
(``visible_to``) shows these items and nothing else. ``record.relationships.share`` also writes the audit event."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from safetynet.access.decide import Relationships, Resource, decide, require
from safetynet.access.grants import ARTICLE_6, ARTICLE_9, LawfulBasis, PartnerShare, SharedItem
from safetynet.core.context import Context, Role
from safetynet.core.errors import Problem, ValidationFailed

RECIPIENTS = frozenset({Role.GP_PARTNER, Role.POLICE_LIAISON})


class SharedItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SharedItem
    text: str = Field(min_length=1, max_length=4000)


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient_role: Role
    recipient_organisation: str = Field(min_length=1, max_length=200)
    lawful_basis: list[LawfulBasis] = Field(min_length=1)
    purpose: str = Field(min_length=1, max_length=2000)
    items: list[SharedItemIn] = Field(min_length=1, max_length=20)


@dataclass(frozen=True, slots=True)
class SharedView:
    """What a partner sees of one share."""

    share_id: str
    patient_id: str
    shared_at: str
    shared_by: str
    lawful_basis: list[str]
    purpose: str
    items: list[dict[str, str]]


def check(data: ShareIn) -> list[Problem]:
    problems = []
    if data.recipient_role not in RECIPIENTS:
        problems.append(Problem("recipient_role", "shares go to a GP practice or a police liaison officer"))
    bases = set(data.lawful_basis)
    if not bases & ARTICLE_6:
        problems.append(Problem("lawful_basis", "name a UK GDPR Article 6 basis (e.g. uk_gdpr_6_1_e, public task)"))
    if not bases & ARTICLE_9:
        problems.append(Problem("lawful_basis", "name a UK GDPR Article 9 condition (e.g. uk_gdpr_9_2_h, health care)"))
    if LawfulBasis.CDA_S115 in bases and data.recipient_role is not Role.POLICE_LIAISON:
        problems.append(Problem("lawful_basis", "the Crime and Disorder Act s115 power is for sharing with the police"))
    kinds = [item.kind for item in data.items]
    if len(kinds) != len(set(kinds)):
        problems.append(Problem("items", "name each kind of item once"))
    return problems


def share(ctx: Context, patient_id: str, data: ShareIn, relationships: Relationships) -> PartnerShare:
    """Record a share; the acting clinician needs a relationship with the person (``person.share``)."""
    require(decide(ctx.actor, "person.share", Resource.person(patient_id), relationships))
    problems = check(data)
    if problems:
        raise ValidationFailed(problems)
    made = PartnerShare(
        id=ctx.ids.new_id(),
        patient_id=patient_id,
        recipient_role=str(data.recipient_role),
        recipient_organisation=data.recipient_organisation.strip(),
        shared_at=ctx.clock.now(),
        shared_by_staff_id=ctx.actor.staff_id,
        shared_by_name=ctx.actor.name,
        shared_by_role=str(ctx.actor.role),
        lawful_basis=",".join(sorted({str(b) for b in data.lawful_basis})),
        purpose=data.purpose.strip(),
        items=json.dumps([{"kind": str(i.kind), "text": i.text} for i in data.items]),
    )
    ctx.session.add(made)
    return made


def visible_to(ctx: Context, organisation: str) -> list[SharedView]:
    """Everything shared with the acting partner's organisation, newest first; nothing else of the record."""
    resource = Resource(share_recipient=(str(ctx.actor.role), organisation))
    require(decide(ctx.actor, "partner.view", resource, Relationships(organisation=organisation)))
    stmt = (
        select(PartnerShare)
        .where(PartnerShare.recipient_role == str(ctx.actor.role), PartnerShare.recipient_organisation == organisation)
        .order_by(PartnerShare.shared_at.desc())
    )
    return [
        SharedView(
            share_id=s.id,
            patient_id=s.patient_id,
            shared_at=s.shared_at.isoformat(),
            shared_by=f"{s.shared_by_name} ({s.shared_by_role})",
            lawful_basis=s.lawful_basis.split(","),
            purpose=s.purpose,
            items=json.loads(s.items),
        )
        for s in ctx.session.scalars(stmt)
    ]
