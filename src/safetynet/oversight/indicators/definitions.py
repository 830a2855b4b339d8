"""Every indicator's one definition, in Ibis, against the extract schema (``oversight.schema``).

Written with a deliberately small part of Ibis (integer day arithmetic, equi- and range joins, group-by, one window
function), which compiles alike for SQLite 3.40, PostgreSQL, DuckDB and Spark. Months come from the ``calendar``
table: a reporting month's rows are those whose (possibly shifted) day falls in it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from safetynet.oversight.indicators import KEYS, Direction, Indicator, Tables, Unit

SMI_PATHWAYS = ("eip", "cmht", "assertive_outreach")
INPATIENT = "inpatient"
ATTENDED = ("5", "6")
DNA = "3"
EXPECTED = ("3", "5", "6", "7")
CLINICIANS = ("key_worker", "consultant")


# --- helpers ------------------------------------------------------------------------------------------------------


def _p(table: ir.Table, prefix: str) -> ir.Table:
    """The table with every column renamed ``prefix + name`` (so joins never collide)."""
    return table.select(**{f"{prefix}{name}": table[name] for name in table.columns})


def _reporting_days(tables: Tables) -> ir.Table:
    calendar = tables["calendar"]
    days = calendar.filter(calendar.reporting)
    return days.select(cal_day=days.day, cal_month=days.month)


def _months(tables: Tables) -> ir.Table:
    """Reporting months: month, and the day number of its last day (``m_last``)."""
    days = _reporting_days(tables)
    return days.group_by(month=days.cal_month).agg(m_last=days.cal_day.max())


def _in_month(table: ir.Table, day: ir.IntegerValue, tables: Tables) -> ir.Table:
    """Rows of ``table`` whose ``day`` falls in a reporting month, with that ``month``."""
    days = _reporting_days(tables)
    joined = table.join(days, day == days.cal_day)
    return joined.mutate(month=joined.cal_month).drop("cal_day", "cal_month")


def _open_at_month_end(table: ir.Table, start: str, end: str, tables: Tables) -> ir.Table:
    """One row per reporting month in which the row was open at the end of the month's last day (``m_last``)."""
    months = _months(tables)
    return table.join(months, [table[start] <= months.m_last, table[end].isnull() | (table[end] > months.m_last)])


def _share(base: ir.Table, ids: tuple[str, ...], hits: ir.Table) -> ir.Table:
    """Numerator: rows of ``base`` (by KEYS + ``ids``) that appear in ``hits``; denominator: all rows of ``base``."""
    columns = (*KEYS, *ids)
    found = _p(hits.select(*columns).distinct(), "h_")
    left = base.select(*columns)
    flagged = left.left_join(found, [left[c] == found[f"h_{c}"] for c in columns])
    flagged = flagged.mutate(hit=ibis.ifelse(flagged.h_provider.isnull(), 0, 1))
    return flagged.group_by(list(KEYS)).agg(numerator=flagged.hit.sum(), denominator=flagged.count())


def _count(table: ir.Table) -> ir.Table:
    return table.group_by(list(KEYS)).agg(numerator=table.count())


# --- follow-up after discharge from an adult acute bed (MHS78 / MHS79 / MHS80, and 7 days) -------------------------


def _followed_up(tables: Tables, within: int) -> ir.Table:
    """Eligible discharges from adult acute beds, each with ``followed`` (0/1) within ``within`` days.

    As NHS England's MHSDS 72-hour measure: a discharge counts in the month whose start and end, both moved back by
    ``within + 1`` days, bound its discharge date (so every follow-up window is complete within the month);
    discharges of people who died within ``within`` days are not eligible; follow-up is an attended (code 5 or 6)
    direct contact with the same provider, or a readmission, on one of the ``within`` days after the day of
    discharge (not the day itself)."""
    admissions = tables["admissions"]
    discharges = admissions.filter(admissions.discharged_day.notnull() & admissions.adult_acute)
    discharges = discharges.select(
        provider=discharges.provider,
        team=discharges.ward,
        person=discharges.person,
        admission=discharges.admission,
        discharged_day=discharges.discharged_day,
    )
    people = _p(tables["people"].select("provider", "person", "died_day"), "d_")
    discharges = discharges.left_join(
        people, [discharges.provider == people.d_provider, discharges.person == people.d_person]
    )
    discharges = discharges.filter(
        discharges.d_died_day.isnull() | ((discharges.d_died_day - discharges.discharged_day) > within)
    ).drop("d_provider", "d_person", "d_died_day")
    discharges = _in_month(discharges, discharges.discharged_day + (within + 1), tables)

    contacts = tables["contacts"]
    attended = contacts.filter(contacts.attend_code.isin(ATTENDED) & contacts.direct)
    event_types = {"e_provider": "string", "e_person": "string", "e_day": "int64"}
    events = (
        attended.select(e_provider=attended.provider, e_person=attended.person, e_day=attended.day)
        .cast(event_types)
        .union(
            admissions.select(
                e_provider=admissions.provider, e_person=admissions.person, e_day=admissions.admitted_day
            ).cast(event_types)
        )
    )
    hits = discharges.join(
        events,
        [
            discharges.provider == events.e_provider,
            discharges.person == events.e_person,
            events.e_day > discharges.discharged_day,
            events.e_day <= discharges.discharged_day + within,
        ],
    )
    return _share(discharges, ("admission",), hits)


def mhs78(tables: Tables) -> ir.Table:
    eligible = _followed_up(tables, 3)
    return eligible.select(*KEYS, numerator=eligible.denominator)


def mhs79(tables: Tables) -> ir.Table:
    eligible = _followed_up(tables, 3)
    return eligible.select(*KEYS, numerator=eligible.numerator)


def mhs80(tables: Tables) -> ir.Table:
    return _followed_up(tables, 3)


def followed_up_7_days(tables: Tables) -> ir.Table:
    return _followed_up(tables, 7)


# --- key workers -------------------------------------------------------------------------------------------------


def _open_community_episodes(tables: Tables) -> ir.Table:
    episodes = tables["episodes"]
    community = episodes.filter(episodes.pathway != INPATIENT)
    return _open_at_month_end(community, "start_day", "end_day", tables)


def _allocated(open_episodes: ir.Table, tables: Tables) -> ir.Table:
    allocations = _p(tables["key_workers"], "k_")
    return open_episodes.join(
        allocations,
        [
            open_episodes.provider == allocations.k_provider,
            open_episodes.episode == allocations.k_episode,
            allocations.k_start_day <= open_episodes.m_last,
            allocations.k_end_day.isnull() | (allocations.k_end_day > open_episodes.m_last),
        ],
    )


def key_worker_named(tables: Tables) -> ir.Table:
    open_episodes = _open_community_episodes(tables)
    return _share(open_episodes, ("episode",), _allocated(open_episodes, tables))


def days_unallocated(tables: Tables) -> ir.Table:
    open_episodes = _open_community_episodes(tables)
    allocated = _p(_allocated(open_episodes, tables).select("provider", "episode", "month").distinct(), "a_")
    unallocated = open_episodes.left_join(
        allocated,
        [
            open_episodes.provider == allocated.a_provider,
            open_episodes.episode == allocated.a_episode,
            open_episodes.month == allocated.a_month,
        ],
    )
    unallocated = unallocated.filter(unallocated.a_provider.isnull()).drop("a_provider", "a_episode", "a_month")
    allocations = _p(tables["key_workers"], "k_")
    ended = unallocated.join(
        allocations,
        [
            unallocated.provider == allocations.k_provider,
            unallocated.episode == allocations.k_episode,
            allocations.k_end_day.notnull(),
            allocations.k_end_day <= unallocated.m_last,
        ],
    )
    last_end = _p(
        ended.group_by(["provider", "episode", "month"]).agg(last_end=ended.k_end_day.max()),
        "l_",
    )
    since = unallocated.left_join(
        last_end,
        [
            unallocated.provider == last_end.l_provider,
            unallocated.episode == last_end.l_episode,
            unallocated.month == last_end.l_month,
        ],
    )
    start = ibis.ifelse(
        since.l_last_end.notnull() & (since.l_last_end > since.start_day), since.l_last_end, since.start_day
    )
    since = since.mutate(days=since.m_last - start)
    return since.group_by(list(KEYS)).agg(numerator=since.days.sum(), denominator=since.count())


# --- reviews for the SMI caseload --------------------------------------------------------------------------------


def _smi_caseload(tables: Tables) -> ir.Table:
    episodes = tables["episodes"]
    smi = episodes.filter(episodes.pathway.isin(SMI_PATHWAYS))
    caseload = _open_at_month_end(smi, "start_day", "end_day", tables)
    return caseload.select("provider", "team", "month", "person", "m_last").distinct()


def risk_formulation_reviewed(tables: Tables) -> ir.Table:
    caseload = _smi_caseload(tables)
    reviews = tables["risk_reviews"]
    reviews = _p(reviews.filter(reviews.formulation & reviews.safety_plan), "r_")
    hits = caseload.join(
        reviews,
        [
            caseload.provider == reviews.r_provider,
            caseload.person == reviews.r_person,
            reviews.r_day <= caseload.m_last,
            reviews.r_day > caseload.m_last - 182,
        ],
    )
    return _share(caseload, ("person",), hits)


def care_plan_reviewed(tables: Tables) -> ir.Table:
    caseload = _smi_caseload(tables)
    reviews = _p(tables["care_plan_reviews"], "r_")
    hits = caseload.join(
        reviews,
        [
            caseload.provider == reviews.r_provider,
            caseload.person == reviews.r_person,
            reviews.r_day <= caseload.m_last,
            reviews.r_day > caseload.m_last - 365,
        ],
    )
    return _share(caseload, ("person",), hits)


# --- contacts and discharges -------------------------------------------------------------------------------------


def dna_rate(tables: Tables) -> ir.Table:
    contacts = tables["contacts"]
    expected = contacts.filter(contacts.attend_code.isin(EXPECTED))
    expected = _in_month(expected, expected.day, tables)
    return expected.group_by(list(KEYS)).agg(
        numerator=ibis.ifelse(expected.attend_code == DNA, 1, 0).sum(), denominator=expected.count()
    )


def discharged_for_non_attendance(tables: Tables) -> ir.Table:
    episodes = tables["episodes"]
    ended = episodes.filter((episodes.pathway != INPATIENT) & episodes.end_day.notnull())
    ended = _in_month(ended, ended.end_day, tables)
    return ended.group_by(list(KEYS)).agg(
        numerator=ibis.ifelse(ended.discharge_reason.isin(("non_attendance", "disengaged")), 1, 0).sum(),
        denominator=ended.count(),
    )


# --- family concerns, depots, tasks --------------------------------------------------------------------------------


def family_concerns_answered(tables: Tables) -> ir.Table:
    concerns = tables["family_concerns"]
    calendar = tables["calendar"]
    deadlines = calendar.select(w_day=calendar.day, w_next=calendar.next_working_day)
    concerns = concerns.join(deadlines, concerns.raised_day == deadlines.w_day)
    concerns = concerns.mutate(deadline=concerns.w_next).drop("w_day", "w_next")
    concerns = _in_month(concerns, concerns.deadline, tables)
    responses = _p(tables["concern_responses"], "r_")
    hits = concerns.join(
        responses,
        [
            concerns.provider == responses.r_provider,
            concerns.concern == responses.r_concern,
            responses.r_day <= concerns.deadline,
        ],
    )
    return _share(concerns, ("concern",), hits)


def depot_on_time(tables: Tables) -> ir.Table:
    doses = tables["depot_doses"]
    given = doses.filter(doses.given)
    order = ibis.window(group_by=[given.provider, given.prescription], order_by=[given.day, given.dose])
    given = given.mutate(next_day=given.day.lead().over(order))
    prescriptions = _p(tables["depot_prescriptions"], "p_")
    due = given.join(
        prescriptions,
        [given.provider == prescriptions.p_provider, given.prescription == prescriptions.p_prescription],
    )
    due = due.mutate(team=due.p_team, due_day=due.day + due.p_interval_days)
    due = due.filter(due.p_stop_day.isnull() | (due.p_stop_day > due.due_day))
    due = _in_month(due, due.due_day + 7, tables)
    return due.group_by(list(KEYS)).agg(
        numerator=ibis.ifelse(due.next_day.notnull() & (due.next_day <= due.due_day + 7), 1, 0).sum(),
        denominator=due.count(),
    )


def tasks_overdue(tables: Tables) -> ir.Table:
    tasks = tables["tasks"]
    open_tasks = _open_at_month_end(tasks, "created_day", "closed_day", tables)
    return open_tasks.group_by(list(KEYS)).agg(
        numerator=ibis.ifelse(open_tasks.due_day <= open_tasks.m_last, 1, 0).sum(),
        denominator=open_tasks.count(),
    )


def alert_burden(tables: Tables) -> ir.Table:
    staff = tables["staff"]
    clinicians = staff.filter(staff.role.isin(CLINICIANS))
    teams = clinicians.group_by(["provider", "team"]).agg(clinicians=clinicians.count())
    teams = teams.cross_join(_months(tables).select("month"))
    tasks = tables["tasks"]
    opened = _in_month(tasks, tasks.created_day, tables)
    opened = _p(_count(opened), "t_")
    burden = teams.left_join(
        opened,
        [teams.provider == opened.t_provider, teams.team == opened.t_team, teams.month == opened.t_month],
    )
    return burden.select(*KEYS, numerator=burden.t_numerator.fill_null(0), denominator=burden.clinicians)


# --- readmission and re-referral ---------------------------------------------------------------------------------


def _readmitted(tables: Tables, within: int) -> ir.Table:
    admissions = tables["admissions"]
    discharges = admissions.filter(admissions.discharged_day.notnull())
    discharges = discharges.select(
        provider=discharges.provider,
        team=discharges.ward,
        person=discharges.person,
        admission=discharges.admission,
        discharged_day=discharges.discharged_day,
    )
    discharges = _in_month(discharges, discharges.discharged_day + within, tables)
    later = _p(admissions.select("person", "admitted_day"), "r_")
    hits = discharges.join(
        later,
        [
            discharges.person == later.r_person,
            later.r_admitted_day > discharges.discharged_day,
            later.r_admitted_day <= discharges.discharged_day + within,
        ],
    )
    return _share(discharges, ("admission",), hits)


def readmitted_30(tables: Tables) -> ir.Table:
    return _readmitted(tables, 30)


def readmitted_90(tables: Tables) -> ir.Table:
    return _readmitted(tables, 90)


def re_referred(tables: Tables) -> ir.Table:
    episodes = tables["episodes"]
    ended = episodes.filter(
        (episodes.pathway != INPATIENT)
        & episodes.end_day.notnull()
        & (episodes.discharge_reason.isnull() | (episodes.discharge_reason != "died"))
    )
    ended = _in_month(ended, ended.end_day + 182, tables)
    referrals = _p(tables["referrals"].select("person", "referred_day"), "r_")
    hits = ended.join(
        referrals,
        [
            ended.person == referrals.r_person,
            referrals.r_referred_day > ended.end_day,
            referrals.r_referred_day <= ended.end_day + 182,
        ],
    )
    return _share(ended, ("episode",), hits)


# --- waiting for a second contact (comparable with MRS03) ---------------------------------------------------------


def waiting_second_contact(tables: Tables) -> ir.Table:
    teams = _p(tables["teams"].select("provider", "team", "pathway"), "t_")
    referrals = tables["referrals"]
    referrals = referrals.filter(referrals.status != "declined")
    referrals = referrals.join(teams, [referrals.provider == teams.t_provider, referrals.team == teams.t_team])
    referrals = referrals.filter(referrals.t_pathway.isin(SMI_PATHWAYS)).drop("t_provider", "t_team", "t_pathway")

    contacts = tables["contacts"]
    attended = _p(contacts.filter(contacts.attend_code.isin(ATTENDED) & contacts.direct), "c_")
    seen = referrals.join(
        attended,
        [
            referrals.provider == attended.c_provider,
            referrals.person == attended.c_person,
            referrals.team == attended.c_team,
            attended.c_day >= referrals.referred_day,
        ],
    )
    order = ibis.window(group_by=[seen.provider, seen.referral], order_by=[seen.c_day, seen.c_contact])
    seen = seen.mutate(rank=ibis.row_number().over(order))
    second = _p(
        seen.filter(seen.rank == 1).select(provider=seen.provider, referral=seen.referral, day=seen.c_day), "s_"
    )

    episodes = _p(tables["episodes"], "e_")
    closed = referrals.join(
        episodes,
        [
            referrals.provider == episodes.e_provider,
            referrals.person == episodes.e_person,
            referrals.team == episodes.e_team,
            episodes.e_end_day.notnull(),
            episodes.e_end_day >= referrals.referred_day,
        ],
    )
    closed = _p(closed.group_by(["provider", "referral"]).agg(day=closed.e_end_day.min()), "x_")

    spells = referrals.left_join(
        second, [referrals.provider == second.s_provider, referrals.referral == second.s_referral]
    )
    spells = spells.left_join(closed, [spells.provider == closed.x_provider, spells.referral == closed.x_referral])
    spells = spells.select(
        "provider", "team", "referral", "referred_day", stop_day=spells.s_day, closed_day=spells.x_day
    )
    months = _months(tables)
    waiting = spells.join(
        months,
        [
            spells.referred_day <= months.m_last,
            spells.stop_day.isnull() | (spells.stop_day > months.m_last),
            spells.closed_day.isnull() | (spells.closed_day > months.m_last),
        ],
    )
    return waiting.group_by(list(KEYS)).agg(
        numerator=ibis.ifelse((waiting.m_last - waiting.referred_day) > 28, 1, 0).sum(),
        denominator=waiting.count(),
    )


# --- the catalogue -----------------------------------------------------------------------------------------------

MONTH_SHIFTED = "reporting month moved back {n} days (the month whose days, shifted, contain the event)"
MHSDS_72H = "NHS England's MHSDS monthly statistics, 72-hour follow-up (menh_publications 02_72HOURS); Safetynet record"

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        id="MHS78",
        title="Discharges from adult acute beds eligible for 72-hour follow-up",
        numerator="Discharges from adult acute beds in the reporting period moved back 4 days, excluding people "
        "who died within 3 days of discharge",
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.NEITHER,
        source=MHSDS_72H,
        period=MONTH_SHIFTED.format(n=4),
        define=mhs78,
        mhsds="MHS78",
    ),
    Indicator(
        id="MHS79",
        title="Discharges from adult acute beds followed up within 72 hours",
        numerator="Of MHS78, those with an attended (AttendOrDNACode 5 or 6) direct contact with the same provider, "
        "or a readmission, on one of the 3 days after the day of discharge",
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.UP,
        source=MHSDS_72H,
        period=MONTH_SHIFTED.format(n=4),
        define=mhs79,
        mhsds="MHS79",
    ),
    Indicator(
        id="MHS80",
        title="Proportion of discharges from adult acute beds followed up within 72 hours",
        numerator="MHS79",
        denominator="MHS78",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source=MHSDS_72H,
        period=MONTH_SHIFTED.format(n=4),
        define=mhs80,
        target=">= 80% (national ambition)",
        mhsds="MHS80",
    ),
    Indicator(
        id="FUP07",
        title="Discharges from adult acute beds followed up within 7 days",
        numerator="Eligible discharges (as MHS78, window 7 days) with an attended direct contact or a readmission "
        "on one of the 7 days after the day of discharge",
        denominator="Eligible discharges in the reporting period moved back 8 days",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="The former CPA 7-day follow-up standard, built as MHS80; Safetynet record",
        period=MONTH_SHIFTED.format(n=8),
        define=followed_up_7_days,
    ),
    Indicator(
        id="KW01",
        title="Open community episodes with a named key worker",
        numerator="Open episodes with a current key worker allocation at the end of the month",
        denominator="Episodes open with a community team (not a ward) at the end of the month",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="Safetynet record (key_worker_allocations; MHS006MHCareCoord); rule SN10",
        period="snapshot at the end of each reporting month",
        define=key_worker_named,
        target="100%",
    ),
    Indicator(
        id="KW02",
        title="Days unallocated (open episodes with no key worker)",
        numerator="Sum, over unallocated open episodes, of days since the episode began or its last key worker "
        "allocation ended, whichever is later",
        denominator="Open community episodes with no key worker at the end of the month",
        unit=Unit.MEAN_DAYS,
        direction=Direction.DOWN,
        source="Safetynet record; rule SN10",
        period="snapshot at the end of each reporting month",
        define=days_unallocated,
    ),
    Indicator(
        id="SMI01",
        title="SMI caseload with a risk formulation and safety plan reviewed in the last 6 months",
        numerator="People on the caseload with a risk assessment holding a formulation and a safety plan in the "
        "182 days up to the end of the month",
        denominator="People with an open episode on an SMI pathway (EIP, CMHT, assertive outreach), per team",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="Safetynet record (risk_assessments); rule SN05; NICE NG225",
        period="snapshot at the end of each reporting month",
        define=risk_formulation_reviewed,
    ),
    Indicator(
        id="CPR01",
        title="SMI caseload with a care plan reviewed in the last 12 months",
        numerator="People on the caseload with a care plan review in the 365 days up to the end of the month",
        denominator="People with an open episode on an SMI pathway, per team",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="Safetynet record (care_plan_reviews; MHS702CPAReview); rule SN19",
        period="snapshot at the end of each reporting month",
        define=care_plan_reviewed,
    ),
    Indicator(
        id="DNA01",
        title="Did-not-attend rate",
        numerator="Contacts with AttendOrDNACode 3 (did not attend, no warning)",
        denominator="Contacts the person was expected at: codes 3, 5, 6, 7",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record (contacts; MHS201CareContact AttendOrDNACode)",
        period="contact day in the reporting month",
        define=dna_rate,
    ),
    Indicator(
        id="DIS01",
        title="Discharges with non-attendance as the reason",
        numerator="Community episodes ended with reason non_attendance or disengaged",
        denominator="Community episodes ended",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record (episodes.discharge_reason); rule SN03",
        period="discharge day in the reporting month",
        define=discharged_for_non_attendance,
        target="0",
    ),
    Indicator(
        id="FAM01",
        title="Family concerns answered by the end of the next working day",
        numerator="Concerns with a recorded response on or before the next working day after the day raised",
        denominator="Concerns whose next working day falls in the month",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="Safetynet record (family_concerns, family_concern_responses); rule SN01; England bank holidays",
        period="the response deadline's day in the reporting month",
        define=family_concerns_answered,
        target="100%",
    ),
    Indicator(
        id="DEP01",
        title="Depot doses given on time",
        numerator="Doses due whose next dose was given by 7 days after the due day",
        denominator="Doses due (each given dose plus the prescription's interval) on a prescription not stopped by "
        "then, whose 7-day grace ended in the month",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        source="Safetynet record (prescriptions, depot_administrations); rule SN06",
        period=MONTH_SHIFTED.format(n=7) + ", from the due day",
        define=depot_on_time,
    ),
    Indicator(
        id="TSK01",
        title="Safety-net tasks overdue",
        numerator="Open tasks due on or before the last day of the month",
        denominator="Tasks open at the end of the month",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet tasks",
        period="snapshot at the end of each reporting month",
        define=tasks_overdue,
    ),
    Indicator(
        id="TSK02",
        title="Alert burden per clinician",
        numerator="Safety-net tasks opened in the month for the team",
        denominator="Clinicians in the team (key workers and consultants)",
        unit=Unit.RATE,
        direction=Direction.NEITHER,
        source="Safetynet tasks and staff",
        period="task opened in the reporting month",
        define=alert_burden,
        notes="High burden breeds alert fatigue; low burden with low other indicators may mean rules are off.",
    ),
    Indicator(
        id="RAD30",
        title="Readmission within 30 days of discharge",
        numerator="Discharges followed by another admission (any ward, any provider) within 30 days",
        denominator="Discharges from a ward in the reporting period moved back 30 days",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record (admissions; MHS501HospProvSpell)",
        period=MONTH_SHIFTED.format(n=30),
        define=readmitted_30,
    ),
    Indicator(
        id="RAD90",
        title="Readmission within 90 days of discharge",
        numerator="Discharges followed by another admission (any ward, any provider) within 90 days",
        denominator="Discharges from a ward in the reporting period moved back 90 days",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record (admissions; MHS501HospProvSpell)",
        period=MONTH_SHIFTED.format(n=90),
        define=readmitted_90,
    ),
    Indicator(
        id="RRF01",
        title="Re-referral within 6 months of discharge",
        numerator="Community discharges followed by a new referral (any team, any provider) within 182 days",
        denominator="Community episodes ended (not by death) in the reporting period moved back 182 days",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record (episodes, referrals; MHS101Referral)",
        period=MONTH_SHIFTED.format(n=182),
        define=re_referred,
    ),
    Indicator(
        id="WAIT01",
        title="Referrals waiting more than 4 weeks for a second contact",
        numerator="Of those waiting, referrals received more than 28 days before the end of the month",
        denominator="Referrals (not declined) to an SMI-pathway community team still waiting for a second attended "
        "direct contact, with no episode with that team closed since, at the end of the month (as MRS03)",
        unit=Unit.PERCENT,
        direction=Direction.DOWN,
        source="Safetynet record; comparable with NHS England's MRS03 (community mental health 4-week waits)",
        period="snapshot at the end of each reporting month",
        define=waiting_second_contact,
        mhsds="MRS03 (denominator)",
    ),
)
