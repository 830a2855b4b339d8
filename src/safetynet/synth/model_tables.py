"""Parameters and vocabulary of the synthetic trust model.

Every number the model draws from lives here as a :class:`Rate`, with its source, so that
``docs/synthetic-data.md`` can list them all (a test checks that it does). ``assumption=True``
marks a modelling assumption rather than a published figure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    name: str
    value: float
    unit: str
    source: str
    assumption: bool = False


_MHA = "NHS England, Mental Health Act Statistics, Annual Figures"
_ASSUME = "modelling assumption"

# --- Population and pathways -------------------------------------------------------
ENTRY_EIP = Rate("entry_eip", 0.12, "share of people", _ASSUME, True)
ENTRY_CMHT = Rate("entry_cmht", 0.66, "share of people", _ASSUME, True)
ENTRY_AO = Rate("entry_assertive_outreach", 0.05, "share of people", _ASSUME, True)
ENTRY_CRISIS = Rate("entry_crisis", 0.11, "share of people", _ASSUME, True)
ENTRY_LIAISON = Rate("entry_liaison", 0.06, "share of people", _ASSUME, True)
PREVALENT = Rate("already_open_at_window_start", 0.6, "share of eip/cmht/ao people", _ASSUME, True)

# --- Waiting and allocation ----------------------------------------------------------
EIP_WAIT = Rate(
    "eip_wait_median",
    15,
    "days",
    "Kirkbride et al. 2017 (SEPEA cohort, 6 EIP services): median 15 days, IQR 7-30",
)
CMHT_WAIT = Rate(
    "cmht_wait_median",
    30,
    "days",
    "assumption; MHSDS 4-week-wait measures (shared/data, Apr-Jul 2024) show long CMH waits",
    True,
)
TRIAGE_SAFETY_PLAN = Rate("safety_plan_while_waiting", 0.3, "share of referrals", _ASSUME, True)
KW_LATE = Rate(
    "key_worker_late",
    0.1,
    "share of community episodes (8-60 days)",
    "assumption; CQC March 2024 review: many people without a care coordinator",
    True,
)
KW_NEVER = Rate(
    "key_worker_never",
    0.05,
    "share of community episodes",
    "assumption; CQC March 2024 review",
    True,
)
KW_TURNOVER = Rate("key_worker_change", 0.2, "per allocation-year", "assumption (staff turnover)", True)
CASELOAD_CMHT = Rate(
    "caseload_cmht",
    30,
    "people per care coordinator",
    "DH Mental Health Policy Implementation Guide, CMHTs (2002): up to 35",
)
CASELOAD_EIP = Rate(
    "caseload_eip",
    15,
    "people per care coordinator",
    "DH Mental Health Policy Implementation Guide (2001): EIP up to 15",
)
CASELOAD_AO = Rate(
    "caseload_assertive_outreach",
    12,
    "people per care coordinator",
    "DH Mental Health Policy Implementation Guide (2001): AO 10-12",
)

# --- Contacts -------------------------------------------------------------------------
CONTACT_EIP = Rate("contact_interval_eip", 10, "days", _ASSUME, True)
CONTACT_CMHT = Rate("contact_interval_cmht", 21, "days", _ASSUME, True)
CONTACT_AO = Rate("contact_interval_assertive_outreach", 7, "days", _ASSUME, True)
DNA_ENGAGED = Rate(
    "dna_when_engaged",
    0.05,
    "per planned contact (mean of a per-person beta)",
    "calibrated so planned contacts not attended are about 10-12%: Mental Health Bulletin"
    " 2011-12 (median 88% of planned contacts attended); CMHT DNA 11.4% (BMJ Qual"
    " Improv Rep 2015, PMC4949624)",
)
DISENGAGE = Rate("start_disengaged_spell", 0.025, "per planned contact", _ASSUME, True)
REENGAGE = Rate("end_disengaged_spell", 0.3, "per planned contact", _ASSUME, True)
DNA_DISENGAGED = Rate("dna_when_disengaged", 0.7, "per planned contact", _ASSUME, True)
CANCEL_PATIENT = Rate("cancelled_by_patient", 0.04, "per planned contact", _ASSUME, True)
CANCEL_PROVIDER = Rate("cancelled_by_provider", 0.035, "per planned contact", _ASSUME, True)
PHONE_AFTER_DNA = Rate("phone_after_dna", 0.5, "per missed contact", _ASSUME, True)
BOOKED = Rate("booked_in_advance", 0.3, "share of planned contacts", _ASSUME, True)
DISCHARGE_DNA_CMHT = Rate(
    "discharge_for_non_attendance_cmht",
    0.35,
    "per run of 3+ missed contacts",
    "assumption; CQC Part 2 (Aug 2024): discharged to GP for not attending",
    True,
)
DISCHARGE_DNA_EIP = Rate("discharge_for_non_attendance_eip", 0.15, "per run of 3+ missed", _ASSUME, True)
DISCHARGE_DNA_AO = Rate("discharge_for_non_attendance_ao", 0.05, "per run of 3+ missed", _ASSUME, True)
OVERRIDE_RECORDED = Rate("non_attendance_discharge_with_rationale", 0.3, "share", _ASSUME, True)

# --- Medication and relapse -----------------------------------------------------------
POOR_ADHERENCE = Rate(
    "poor_adherence_psychosis",
    0.45,
    "share of people with psychosis",
    "Lacro et al. 2002 (about 41% non-adherent); Acosta et al. 2012 review (about 50%)",
)
STOP_POOR = Rate("time_to_stop_poor_adherence", 270, "days, mean (oral)", _ASSUME, True)
STOP_GOOD = Rate("time_to_stop_good_adherence", 2500, "days, mean (oral)", _ASSUME, True)
RELAPSE_AFTER_STOP = Rate(
    "relapse_after_stopping_median",
    150,
    "days (lognormal, sigma 0.8: ~87% within a year)",
    "Zipursky et al. 2014 review: 77% relapse within a year of stopping, >90% by 2 years",
)
RELAPSE_ON_MEDS = Rate(
    "relapse_on_medication",
    0.04,
    "per year",
    "Zipursky et al. 2014 (about 3% a year if continued); Robinson et al. 1999 (HR 4.9)",
)
EARLY_DETECTION = Rate("non_adherence_noticed_before_relapse", 0.55, "share", _ASSUME, True)
RESTART_AVERTS = Rate("restart_averts_relapse", 0.3, "share of noticed", _ASSUME, True)
DEPOT_PSYCHOSIS = Rate(
    "depot_share_psychosis",
    0.3,
    "share of people with psychosis on an antipsychotic",
    "Barnes, Shingleton-Smith and Paton 2009 (POMH-UK): a quarter to a third",
)
DEPOT_LATE = Rate("depot_late_over_7_days", 0.05, "per dose (beyond interval + 7 days)", _ASSUME, True)
DEPOT_REFUSED = Rate("depot_refused", 0.04, "per dose", _ASSUME, True)
SWITCH_TO_DEPOT = Rate("switch_to_depot_after_admission", 0.3, "per admission on oral", _ASSUME, True)
CRISIS_MOOD = Rate("crisis_rate_depression", 0.25, "per year", _ASSUME, True)
CRISIS_PD = Rate("crisis_rate_eupd", 0.6, "per year", _ASSUME, True)

# --- Acute care -----------------------------------------------------------------------
ADMIT_ON_RELAPSE = Rate("admission_on_psychotic_relapse", 0.5, "share of relapses", _ASSUME, True)
HOME_TREATMENT = Rate("crisis_home_treatment_on_relapse", 0.35, "share of relapses", _ASSUME, True)
HT_ESCALATES = Rate("home_treatment_then_admission", 0.25, "share", _ASSUME, True)
INFORMAL = Rate(
    "admission_informal",
    0.45,
    "share of admissions",
    "assumption; Mental Health Bulletin: about half of adult admissions are detained",
    True,
)
S2 = Rate(
    "admission_s2",
    0.39,
    "share of admissions",
    _MHA + ": s2 on admission about 3x s3 (2012-13: 22,477 vs 7,776)",
)
S3 = Rate("admission_s3", 0.13, "share of admissions", _MHA)
S37 = Rate("admission_s37", 0.03, "share of admissions", _MHA + " (rare)")
INFORMAL_TO_S2 = Rate(
    "informal_then_s2",
    0.12,
    "share of informal admissions",
    _MHA + " (2012-13: informal to s2 3,974; to s3 3,895)",
)
S2_TO_S3 = Rate("s2_then_s3", 0.3, "share of s2 admissions", _ASSUME, True)
LOS_INFORMAL = Rate(
    "length_of_stay_informal",
    18,
    "days, median (lognormal sigma 0.6)",
    "NHS Benchmarking 2023 via King's Fund: mean adult acute stay 39 days; Mental Health"
    " Bulletin 2013-14: median 23 days",
)
LOS_S2 = Rate("length_of_stay_s2", 28, "days, median", "as above")
LOS_S3 = Rate("length_of_stay_s3", 45, "days, median", "as above")
FOLLOW_UP_72H = Rate(
    "follow_up_within_72h",
    0.78,
    "share of discharges",
    "RCPsych Aug 2022: 76% of 160,430 eligible discharges (Apr 2020-May 2022); ambition 80% (MHS80)",
)
READMIT_30D = Rate(
    "readmission_within_30_days",
    0.08,
    "share of discharges",
    "FOI returns 2022-23 (reported Jan 2024): about 4,900 readmissions within 30 days a"
    " year in England; share is an assumption",
    True,
)
CTO_AFTER_S3 = Rate(
    "cto_after_s3_discharge",
    0.3,
    "share of s3 discharges",
    _MHA + " 2023-24: 5,618 CTOs against 52,458 detentions; share is an assumption",
    True,
)
CTO_RECALL = Rate("cto_recall_on_relapse", 0.6, "share of relapses on a CTO", _ASSUME, True)
CRISIS_ACCEPTS = Rate("crisis_team_accepts_discharge", 0.55, "share of weekday discharges", _ASSUME, True)
CRISIS_ACCEPTS_WEEKEND = Rate("crisis_team_accepts_friday_weekend", 0.75, "share", _ASSUME, True)
CARER_INFORMED = Rate(
    "carer_informed_of_discharge",
    0.85,
    "share",
    "assumption; CQC Part 2: family not told of a Friday discharge",
    True,
)

# --- Family, police, partners ---------------------------------------------------------
CARER_PSYCHOSIS = Rate("carer_psychosis", 0.6, "share of people", _ASSUME, True)
CARER_OTHER = Rate("carer_other", 0.4, "share of people", _ASSUME, True)
CARER_CONSENT = Rate("carer_consent_to_share", 0.7, "share of carers", _ASSUME, True)
FAMILY_CONCERN = Rate("family_concern_in_relapse", 0.55, "share", _ASSUME, True)
CONCERN_ON_TIME = Rate(
    "concern_answered_next_working_day",
    0.85,
    "share",
    "assumption; CQC Part 2 timeline: concern recorded but no contact attempted",
    True,
)
CONCERN_NEVER = Rate("concern_never_answered", 0.06, "share", _ASSUME, True)
VIOLENCE_PRONE = Rate("violence_when_unwell", 0.18, "share of people with psychosis", _ASSUME, True)
POLICE_IN_RELAPSE = Rate(
    "police_in_relapse",
    0.15,
    "share of relapses (+0.35 if violent when unwell)",
    _ASSUME,
    True,
)
POLICE_LAG = Rate(
    "police_information_delay_median",
    10,
    "days (70% of police information; 30% same or next day)",
    "assumption; CQC Part 2: warrant sent to an unread inbox",
    True,
)
# --- Reviews, decisions ---------------------------------------------------------------
RA_INTERVAL = Rate("risk_review_interval_median", 150, "days (lognormal sigma 0.3)", _ASSUME, True)
RA_AFTER_TRIGGER = Rate("risk_review_after_trigger_within_7_days", 0.75, "share", _ASSUME, True)
RA_AFTER_POLICE = Rate("risk_review_within_72h_of_police_information", 0.55, "share", _ASSUME, True)
RA_DOWNGRADE = Rate(
    "risk_assessment_drops_history_silently",
    0.07,
    "share of assessments with a risk history",
    "assumption; CQC Part 2: eight assessments in two years minimised risk",
    True,
)
CPR_INTERVAL = Rate("care_plan_review_interval_median", 320, "days (lognormal sigma 0.2)", _ASSUME, True)
GP_LETTER_COMPLETE = Rate("gp_letter_all_six_sections", 0.3, "share of letters", _ASSUME, True)
REQUEST_ON_TIME = Rate("cross_team_answered_in_7_days", 0.7, "share", _ASSUME, True)
REQUEST_NEVER = Rate("cross_team_never_answered", 0.15, "share", _ASSUME, True)
MDT_DEPOT = Rate("mdt_depot_decision_in_cycle", 0.7, "share", _ASSUME, True)
MDT_CTO = Rate("mdt_cto_decision_in_cycle", 0.6, "share", _ASSUME, True)
MDT_LEGAL = Rate("mdt_legal_framework_after_s2", 0.5, "share", _ASSUME, True)
CAPACITY_AFTER_REFUSALS = Rate(
    "capacity_assessment_after_refusals",
    0.5,
    "share",
    "assumption; homicide review (as reported): capacity not assessed",
    True,
)
ENTERED_IN_ERROR = Rate("risk_event_entered_in_error", 0.006, "share", _ASSUME, True)

# --- Leaving and coming back ----------------------------------------------------------
RECOVERED_MOOD = Rate("planned_discharge_depression_eupd", 540, "days, mean time in service", _ASSUME, True)
EIP_YEARS = Rate("eip_episode_length", 3, "years", "NHS England EIP model (up to 3 years)")
MOVED_AWAY = Rate("moved_away", 0.015, "per year", _ASSUME, True)
DIED = Rate("died", 0.006, "per year", "assumption (raised SMI mortality, all causes)", True)
REREFERRAL = Rate("re_referral_after_non_attendance_discharge", 0.45, "share within a year", _ASSUME, True)
REREFERRAL_OTHER = Rate("re_referral_after_planned_discharge", 0.15, "share within a year", _ASSUME, True)
GP_SIGNAL = Rate("gp_no_contact_signal_after_discharge", 0.35, "share of discharges", _ASSUME, True)

RATES: tuple[Rate, ...] = tuple(v for v in globals().values() if isinstance(v, Rate))

# --- Vocabulary -------------------------------------------------------------------------

# (code, display, group); group drives medication, relapse and risk behaviour.
Diagnosis = tuple[str, str, str]

DIAGNOSES: dict[str, tuple[tuple[Diagnosis, float], ...]] = {
    "eip": (
        (("F20.0", "Paranoid schizophrenia", "psychosis"), 0.30),
        (("F23.9", "Acute and transient psychotic disorder", "psychosis"), 0.22),
        (("F29", "Unspecified nonorganic psychosis", "psychosis"), 0.22),
        (("F20.9", "Schizophrenia, unspecified", "psychosis"), 0.08),
        (("F31.2", "Bipolar affective disorder, manic with psychosis", "bipolar"), 0.10),
        (("F25.9", "Schizoaffective disorder", "psychosis"), 0.04),
        (("F32.3", "Severe depressive episode with psychotic symptoms", "mood"), 0.04),
    ),
    "cmht": (
        (("F20.0", "Paranoid schizophrenia", "psychosis"), 0.17),
        (("F25.9", "Schizoaffective disorder", "psychosis"), 0.05),
        (("F22.0", "Delusional disorder", "psychosis"), 0.02),
        (("F31.9", "Bipolar affective disorder", "bipolar"), 0.13),
        (("F33.1", "Recurrent depressive disorder, moderate", "mood"), 0.18),
        (("F32.2", "Severe depressive episode", "mood"), 0.10),
        (("F60.3", "Emotionally unstable personality disorder", "pd"), 0.15),
        (("F43.1", "Post-traumatic stress disorder", "other"), 0.08),
        (("F41.1", "Generalized anxiety disorder", "other"), 0.07),
        (("F42.2", "Obsessive-compulsive disorder", "other"), 0.05),
    ),
    "assertive_outreach": (
        (("F20.0", "Paranoid schizophrenia", "psychosis"), 0.62),
        (("F25.9", "Schizoaffective disorder", "psychosis"), 0.16),
        (("F20.5", "Residual schizophrenia", "psychosis"), 0.05),
        (("F31.9", "Bipolar affective disorder", "bipolar"), 0.12),
        (("F60.3", "Emotionally unstable personality disorder", "pd"), 0.05),
    ),
    "crisis": (
        (("F32.2", "Severe depressive episode", "mood"), 0.25),
        (("F33.2", "Recurrent depressive disorder, severe", "mood"), 0.12),
        (("F60.3", "Emotionally unstable personality disorder", "pd"), 0.25),
        (("F43.2", "Adjustment disorder", "other"), 0.15),
        (("F31.9", "Bipolar affective disorder", "bipolar"), 0.10),
        (("F20.0", "Paranoid schizophrenia", "psychosis"), 0.08),
        (("F41.1", "Generalized anxiety disorder", "other"), 0.05),
    ),
    "liaison": (
        (("F32.1", "Moderate depressive episode", "mood"), 0.30),
        (("F60.3", "Emotionally unstable personality disorder", "pd"), 0.22),
        (("F43.2", "Adjustment disorder", "other"), 0.20),
        (("F10.2", "Alcohol dependence syndrome", "other"), 0.15),
        (("F41.1", "Generalized anxiety disorder", "other"), 0.08),
        (("F20.0", "Paranoid schizophrenia", "psychosis"), 0.05),
    ),
}

# EIP working diagnoses that are often firmed up later.
PROVISIONAL_PSYCHOSIS = frozenset({"F23.9", "F29"})
FIRMED_UP: Diagnosis = ("F20.0", "Paranoid schizophrenia", "psychosis")

ORAL_ANTIPSYCHOTICS: tuple[tuple[str, str], ...] = (
    ("olanzapine", "10 mg daily"),
    ("aripiprazole", "15 mg daily"),
    ("risperidone", "4 mg daily"),
    ("quetiapine", "300 mg twice daily"),
    ("amisulpride", "400 mg twice daily"),
)
CLOZAPINE = ("clozapine", "300 mg daily")
# (drug, dose, interval_days); intervals as in the SmPCs.
DEPOTS: tuple[tuple[str, str, int], ...] = (
    ("zuclopenthixol decanoate", "200 mg", 14),
    ("flupentixol decanoate", "40 mg", 14),
    ("haloperidol decanoate", "100 mg", 28),
    ("paliperidone palmitate", "100 mg", 28),
    ("aripiprazole long-acting injection", "400 mg", 28),
    ("risperidone long-acting injection", "37.5 mg", 14),
)
MOOD_STABILISERS: tuple[tuple[str, str], ...] = (
    ("lithium carbonate", "800 mg at night"),
    ("sodium valproate", "500 mg twice daily"),
    ("olanzapine", "10 mg daily"),
)
ANTIDEPRESSANTS: tuple[tuple[str, str], ...] = (
    ("sertraline", "100 mg daily"),
    ("mirtazapine", "30 mg at night"),
    ("venlafaxine", "150 mg daily"),
    ("fluoxetine", "20 mg daily"),
)

RISK_CATEGORIES: tuple[str, ...] = (
    "violence_to_others",
    "weapon",
    "threats",
    "self_harm",
    "suicide_attempt",
    "self_neglect",
    "exploitation",
    "non_adherence",
    "substance_misuse",
    "absconding",
)
GP_LETTER_SECTIONS: tuple[str, ...] = (
    "violence_history",
    "non_adherence",
    "relapse_signature",
    "legal_history",
    "what_to_do",
    "route_back",
)

RELATIONSHIPS: tuple[tuple[str, str, float], ...] = (
    # (relationship, sex of the carer: f/m/any, weight)
    ("mother", "f", 0.34),
    ("father", "m", 0.10),
    ("partner", "any", 0.22),
    ("sister", "f", 0.08),
    ("brother", "m", 0.06),
    ("daughter", "f", 0.07),
    ("son", "m", 0.04),
    ("friend", "any", 0.05),
    ("grandmother", "f", 0.04),
)

COMPASS = ("North", "South", "East", "West", "Central")
_PREFIXES = (
    "Ash", "Birch", "Brook", "Cold", "Elm", "Fern", "Hazel", "Holly", "Kings", "Lark",
    "Mill", "Oak", "Rowan", "Stone", "Thorn", "Willow", "Wood", "Yew", "Marsh", "High",
)  # fmt: skip
_SUFFIXES = (
    "bury", "combe", "field", "ford", "gate", "ham", "ley", "mere", "ton", "wick",
    "well", "dale", "thorpe", "hurst", "stow",
)  # fmt: skip
LOCALITIES: tuple[str, ...] = tuple(p + s for p in _PREFIXES for s in _SUFFIXES)
WARD_NAMES: tuple[str, ...] = (
    "Willow", "Cedar", "Rowan", "Beech", "Hawthorn", "Larch", "Maple", "Aspen",
    "Juniper", "Sycamore", "Linden", "Poplar", "Alder", "Elder", "Laurel", "Myrtle",
    "Kestrel", "Heron", "Wren", "Linnet", "Curlew", "Plover", "Skylark", "Swift",
    "Bluebell", "Foxglove", "Primrose", "Campion", "Heather", "Sorrel",
)  # fmt: skip

# Short clinical phrases; kept few and plain so stories read as a record would.
# Family concerns by diagnostic group; {they}, {them}, {their} become he/him/his or she/her/her.
CONCERN_TEXTS: dict[str, tuple[str, ...]] = {
    "psychotic": (
        "Worried {they} has stopped {their} tablets; not sleeping and talking to {them}self",
        "Thinks the neighbours are watching {them} through the walls",
        "Shouting at neighbours last night; family frightened",
        "Found {their} tablets unused in a drawer",
        "Has not been home for two nights and is not answering the phone",
        "Threatened {their} brother when asked about medication",
    ),
    "other": (
        "Very low and said things would be better without {them}",
        "Not eating and has locked {them}self in {their} room",
        "Cutting again; family do not know how to help",
        "Has not been home for two nights and is not answering the phone",
    ),
}
PRONOUNS: dict[str, dict[str, str]] = {
    "male": {"they": "he", "them": "him", "their": "his"},
    "female": {"they": "she", "them": "her", "their": "her"},
}
RESPONSE_TEXTS: tuple[str, ...] = (
    "Called back; home visit arranged for tomorrow",
    "Spoke with family; duty worker visited the same day",
    "Returned call, agreed plan to increase contact and review medication",
    "Left message; letter sent to family with crisis line number",
)
POLICE_TEXTS: dict[str, tuple[str, ...]] = {
    "incident": (
        "Police called to home address after disturbance",
        "Reported to police for shouting in the street at passers-by",
        "Police attended after neighbour reported threats",
    ),
    "arrest": ("Arrested for criminal damage", "Arrested after assault on a neighbour"),
    "warrant": ("Warrant issued for arrest after failing to attend court",),
    "charge": ("Charged with common assault",),
    "court_date": ("Court date set for hearing on assault charge",),
    "liaison_diversion": ("Seen by liaison and diversion team in custody",),
}
DNA_NOTES: tuple[str, ...] = (
    "Telephoned after missed appointment; no answer, voicemail left",
    "Letter sent offering a new appointment",
    "Discussed at team huddle; visit with a colleague planned",
    "Contacted GP surgery to check for recent contact",
)
