"""Every table of the record in one place: the chart, statistics, migrations and tests iterate over it."""

from __future__ import annotations

from safetynet.audit.models import AuditEvent
from safetynet.core.facts import ClinicalFact
from safetynet.record.careplans.models import CarePlanReview, GpHandoverLetter
from safetynet.record.carers.models import Carer, FamilyConcern, FamilyConcernResponse
from safetynet.record.contacts.models import Appointment, Contact
from safetynet.record.decisions.models import CapacityAssessment, MdtDecision
from safetynet.record.diagnoses.models import Diagnosis
from safetynet.record.episodes.models import Episode, KeyWorkerAllocation, Referral
from safetynet.record.legal.models import Admission, CommunityTreatmentOrder, CtoRecall, LegalStatusChange
from safetynet.record.medication.models import AdherenceReport, DepotAdministration, Prescription
from safetynet.record.notes.models import ClinicalNote
from safetynet.record.org.models import Organisation, Staff, Team
from safetynet.record.partners.models import PartnerInformation
from safetynet.record.patients.models import Patient, PatientDetails
from safetynet.record.requests.models import CrossTeamRequest, CrossTeamResponse
from safetynet.record.risk.models import RiskAssessment, RiskEvent
from safetynet.record.zoning.models import ZoneAssignment

# Kind name -> model, in the order a chart shows them.
FACT_MODELS: dict[str, type[ClinicalFact]] = {
    "details": PatientDetails,
    "referrals": Referral,
    "episodes": Episode,
    "key_workers": KeyWorkerAllocation,
    "risk_events": RiskEvent,
    "risk_assessments": RiskAssessment,
    "diagnoses": Diagnosis,
    "admissions": Admission,
    "legal_status_changes": LegalStatusChange,
    "ctos": CommunityTreatmentOrder,
    "cto_recalls": CtoRecall,
    "prescriptions": Prescription,
    "depot_administrations": DepotAdministration,
    "adherence_reports": AdherenceReport,
    "contacts": Contact,
    "appointments": Appointment,
    "carers": Carer,
    "family_concerns": FamilyConcern,
    "family_concern_responses": FamilyConcernResponse,
    "partner_information": PartnerInformation,
    "cross_team_requests": CrossTeamRequest,
    "cross_team_responses": CrossTeamResponse,
    "mdt_decisions": MdtDecision,
    "capacity_assessments": CapacityAssessment,
    "care_plan_reviews": CarePlanReview,
    "gp_letters": GpHandoverLetter,
    "notes": ClinicalNote,
    "zones": ZoneAssignment,
}

REFERENCE_MODELS = (Organisation, Team, Staff, Patient, AuditEvent)
