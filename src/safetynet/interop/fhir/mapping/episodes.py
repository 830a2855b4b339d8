"""Referrals (ServiceRequest), episodes of care (EpisodeOfCare) and key workers (CareTeam)."""

from __future__ import annotations

from safetynet.interop.fhir import codes
from safetynet.interop.fhir.mapping.base import Mapper, Reader, Res, Row, concept, instant, local, ref, team_ref
from safetynet.record.episodes.models import Episode, KeyWorkerAllocation, Referral, ReferralStatus
from safetynet.record.org.models import Pathway

REFERRAL_STATUS = {"received": "active", "accepted": "completed", "declined": "revoked"}
REFERRAL_FROM = {"active": "received", "completed": "accepted", "revoked": "declined"}


def _referral_out(row: Row, res: Res) -> None:
    res["status"] = REFERRAL_STATUS.get(row["status"], "active")
    res["intent"] = "order"
    res["category"] = [local("referral", "Referral to a team")]
    res["authoredOn"] = instant(row["occurred_at"])
    res["performer"] = [team_ref(row)]


def _referral_in(r: Reader) -> Row:
    status = REFERRAL_FROM.get(str(r.get("status")))
    if status is None:
        r.problem("status", f"{r.get('status')!r}: a referral is active (received), completed (accepted) or revoked")
    return {
        "occurred_at": r.moment("authoredOn", required=True),
        "status": r.choice("status", "status", status, ReferralStatus),
        "team_id": r.ref("performer", "Organization"),
    }


def _is_referral(res: Res) -> bool:
    requester = (res.get("requester") or {}).get("reference", "")
    return not str(requester).startswith("Organization/")


REFERRAL = Mapper(
    Referral,
    "ServiceRequest",
    _referral_out,
    _referral_in,
    frozenset({"occurred_at", "status", "team_id"}),
    status_columns=frozenset({"status"}),
    matches=_is_referral,
)


def _episode_out(row: Row, res: Res) -> None:
    res["status"] = "finished" if row["status"] == "finished" else "active"
    res["type"] = [concept(codes.PATHWAY, row["pathway"], text=row["pathway"])]
    res["period"] = {"start": instant(row["occurred_at"]), "end": instant(row["ended_at"]) if row["ended_at"] else None}
    res["managingOrganization"] = team_ref(row)


def _episode_in(r: Reader) -> Row:
    status = r.get("status")
    if status not in ("active", "finished"):
        r.problem("status", f"{status!r}: Safetynet records active and finished episodes of care")
    ended = r.moment("period.end")
    return {
        "occurred_at": r.moment("period.start", required=True),
        "ended_at": ended,
        "status": "finished" if status == "finished" or ended else "active",
        "pathway": r.choice("pathway", "type", r.coded("type", codes.PATHWAY) or "cmht", Pathway),
        "team_id": r.ref("managingOrganization", "Organization", required=True),
    }


EPISODE = Mapper(
    Episode,
    "EpisodeOfCare",
    _episode_out,
    _episode_in,
    frozenset({"occurred_at", "ended_at", "status", "pathway", "team_id"}),
    subject="patient",
    status_columns=frozenset({"status"}),
)


def _key_worker_out(row: Row, res: Res) -> None:
    res["status"] = "inactive" if row["ended_at"] else "active"
    res["category"] = [local("key-worker", "Named key worker (care coordinator)")]
    res["period"] = {"start": instant(row["occurred_at"]), "end": instant(row["ended_at"]) if row["ended_at"] else None}
    res["participant"] = [
        {"role": [local("key-worker", "Key worker")], "member": ref("Practitioner", row["staff_id"])},
    ]
    res["managingOrganization"] = [team_ref(row)]
    res["extension"] = [
        {
            "url": f"{codes.BASE}/StructureDefinition/episode-of-care",
            "valueReference": ref("EpisodeOfCare", row["episode_fact_id"]),
        }
    ]


def _key_worker_in(r: Reader) -> Row:
    episode = None
    for ext in r.res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == f"{codes.BASE}/StructureDefinition/episode-of-care":
            episode = ((ext.get("valueReference") or {}).get("reference") or "").rpartition("/")[2] or None
    if episode is None:
        r.problem("extension", "a key worker belongs to an episode of care (extension episode-of-care)", "required")
    return {
        "occurred_at": r.moment("period.start", required=True),
        "ended_at": r.moment("period.end"),
        "staff_id": r.ref("participant.member", "Practitioner", required=True),
        "team_id": r.ref("managingOrganization", "Organization"),
        "episode_fact_id": episode,
    }


KEY_WORKER = Mapper(
    KeyWorkerAllocation,
    "CareTeam",
    _key_worker_out,
    _key_worker_in,
    frozenset({"occurred_at", "ended_at", "staff_id", "team_id", "episode_fact_id"}),
)

MAPPERS = (REFERRAL, EPISODE, KEY_WORKER)
