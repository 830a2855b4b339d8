"""Partner information: recorded when received, at the date it happened (so it is never 'missed' before known)."""

from __future__ import annotations

from datetime import datetime

from safetynet.core.context import Context
from safetynet.core.errors import Problem, ValidationFailed
from safetynet.core.facts import known_at
from safetynet.record.common import record
from safetynet.record.partners.models import PartnerInformation, SharingDecision
from safetynet.record.partners.schemas import PartnerInformationIn


def record_partner_information(ctx: Context, patient_id: str, data: PartnerInformationIn) -> PartnerInformation:
    if data.sharing_decision == SharingDecision.SHARED and not (data.lawful_basis or "").strip():
        raise ValidationFailed([Problem("lawful_basis", "sharing needs a recorded lawful basis")])
    return record(ctx, PartnerInformation, patient_id, data)


def partner_information(ctx: Context, patient_id: str, at: datetime | None = None) -> list[PartnerInformation]:
    stmt = known_at(PartnerInformation, at).where(
        PartnerInformation.patient_id == patient_id, PartnerInformation.entered_in_error.is_(False)
    )
    return list(ctx.session.scalars(stmt.order_by(PartnerInformation.occurred_at)))
