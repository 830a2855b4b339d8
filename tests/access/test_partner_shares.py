"""Partner shares record their lawful basis and exactly what went; a partner sees only what was shared with them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safetynet.access import shares
from safetynet.access.decide import AccessDenied
from safetynet.access.shares import ShareIn
from safetynet.audit import service as audit
from safetynet.core.context import Actor, Context, Role
from safetynet.core.errors import ValidationFailed
from safetynet.record import relationships
from tests.access.conftest import Cast

POLICE = Actor(name="PC Test Liaison", role=Role.POLICE_LIAISON, purpose="liaison and diversion")
GP = Actor(name="Dr Test Practice", role=Role.GP_PARTNER, purpose="direct care")


def _share(**changes: object) -> ShareIn:
    data: dict[str, object] = {
        "recipient_role": "police_liaison",
        "recipient_organisation": "Avon Police",
        "lawful_basis": ["uk_gdpr_6_1_e", "uk_gdpr_9_2_g", "crime_and_disorder_act_s115"],
        "purpose": "warrant to be executed; risk to officers",
        "items": [
            {"kind": "risk_summary", "text": "History of violence when unwell; no weapons recorded."},
            {"kind": "key_worker_contact", "text": "Jo Smith, CMHT North, 0117 000 0000"},
        ],
    }
    return ShareIn.model_validate(data | changes)


def test_a_share_records_its_basis_and_exactly_what_went_and_is_audited(ctx: Context, cast: Cast) -> None:
    made = relationships.share(ctx.as_actor(cast.jo), cast.world.patient.id, _share())
    ctx.session.flush()
    assert made.lawful_basis == "crime_and_disorder_act_s115,uk_gdpr_6_1_e,uk_gdpr_9_2_g"
    event = audit.events_for_patient(ctx, cast.world.patient.id)[-1]
    assert (event.action, event.entity_id) == ("share", made.id)
    assert "risk_summary" in (event.detail or "")
    [seen] = shares.visible_to(ctx.as_actor(POLICE), "Avon Police")
    assert [i["kind"] for i in seen.items] == ["risk_summary", "key_worker_contact"]
    assert seen.items[0]["text"].startswith("History of violence")


def test_a_partner_sees_nothing_shared_with_another_organisation_or_another_kind_of_partner(
    ctx: Context, cast: Cast
) -> None:
    relationships.share(ctx.as_actor(cast.jo), cast.world.patient.id, _share())
    ctx.session.flush()
    assert shares.visible_to(ctx.as_actor(POLICE), "Kent Police") == []
    assert shares.visible_to(ctx.as_actor(GP), "Avon Police") == []
    with pytest.raises(AccessDenied):
        shares.visible_to(ctx.as_actor(cast.charlie), "Avon Police")
    with pytest.raises(AccessDenied):
        shares.visible_to(ctx.as_actor(cast.jo), "Avon Police")  # staff read the record, not the partner view


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lawful_basis": ["uk_gdpr_9_2_h"]}, "Article 6"),
        ({"lawful_basis": ["uk_gdpr_6_1_e"]}, "Article 9"),
        (
            {"recipient_role": "gp_partner", "recipient_organisation": "Y00001"},
            "s115 power is for sharing with the police",
        ),
        ({"recipient_role": "family_member"}, "GP practice or a police"),
    ],
)
def test_a_share_without_a_lawful_basis_is_refused(ctx: Context, cast: Cast, changes: dict, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        relationships.share(ctx.as_actor(cast.jo), cast.world.patient.id, _share(**changes))


def test_only_named_kinds_of_item_can_be_shared() -> None:
    with pytest.raises(ValidationError):
        _share(items=[{"kind": "whole_record", "text": "everything"}])


def test_a_clinician_without_a_relationship_cannot_share(ctx: Context, cast: Cast) -> None:
    with pytest.raises(AccessDenied):
        relationships.share(ctx.as_actor(cast.pat), cast.world.patient.id, _share())
