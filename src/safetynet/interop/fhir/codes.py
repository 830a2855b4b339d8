"""Systems, extension URLs and code maps the FHIR mapping uses. One place, so the docs and the code agree."""

from __future__ import annotations

# National identifiers and code systems.
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"

# UK Core: the Mental Health Act legal status of an Encounter (Extension-UKCore-LegalStatus).
LEGAL_STATUS_URL = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-LegalStatus"
LEGAL_STATUS_CONTEXT = "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusContext"
LEGAL_STATUS_ENGLAND = "https://fhir.hl7.org.uk/CodeSystem/UKCore-LegalStatusClassificationEngland"

# Safetynet's own namespace: where no national code or profile exists.
BASE = "https://fhir.safetynet.example/fhir"
RECORD_TABLE = f"{BASE}/CodeSystem/record-table"  # meta.tag: which record table a resource version is
FACT_EXTENSION = f"{BASE}/StructureDefinition/record-fact"  # the record's own fields without a FHIR home
RULE_SYSTEM = f"{BASE}/CodeSystem/safety-net-rule"  # SN01 ... SN19
SAFETYNET_CODES = f"{BASE}/CodeSystem/safetynet"  # local codes (e.g. basic kinds, communication categories)
TASK_STATUS = f"{BASE}/CodeSystem/task-status"  # Safetynet's task status, beside FHIR's
PATHWAY = f"{BASE}/CodeSystem/pathway"
STAFF_ROLE = f"{BASE}/CodeSystem/staff-role"
# MHSDS AttendOrDNACode (NHS Data Dictionary "attended or did not attend"). No national FHIR CodeSystem URL was
# found to check, so it travels under Safetynet's namespace with the Data Dictionary's codes.
ATTEND_OR_DNA = f"{BASE}/CodeSystem/mhsds-attend-or-dna"
ATTEND_OR_DNA_URL = f"{BASE}/StructureDefinition/mhsds-attend-or-dna"  # the extension on Appointment / Encounter

# Risk categories -> SNOMED CT risk findings (standards brief); the rest travel with a local code only.
RISK_FLAG_SNOMED: dict[str, tuple[str, str]] = {
    "violence_to_others": ("129707006", "At risk of violence to others"),
    "threats": ("65108000", "At risk for violence"),
    "weapon": ("65108000", "At risk for violence"),
    "self_harm": ("225444004", "At risk for suicide"),
    "suicide_attempt": ("225444004", "At risk for suicide"),
    "self_neglect": ("401233007", "At risk of self-neglect"),
    "exploitation": ("417430008", "Vulnerable adult"),
}

DNA_SNOMED = ("401202005", "Did not attend mental health appointment")

# Contact outcome -> FHIR Appointment.status (a contact that was not an attended one travels as an Appointment).
OUTCOME_APPOINTMENT_STATUS = {
    "attended": "fulfilled",
    "dna": "noshow",
    "no_access": "noshow",
    "cancelled_by_patient": "cancelled",
    "cancelled_by_provider": "cancelled",
    "late_not_seen": "noshow",
}
