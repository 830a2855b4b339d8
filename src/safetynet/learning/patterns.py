"""Repeated patterns in a chronology: the relapse cycle, runs of non-attendance, repeated refusals, and rules whose
findings kept reopening. Each admission and discharge looked only at that day; this looks at the whole story."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from safetynet.learning.chronology import NOT_ATTENDED, Chronology, Entry

CYCLE_WINDOW = timedelta(days=90)  # non-adherence this long before an admission counts as preceding it
VIOLENCE = frozenset({"violence_to_others", "weapon", "threats"})


@dataclass(frozen=True, slots=True)
class Cycle:
    """One turn of the cycle: stopping or refusing treatment, (violence), then admission."""

    admission: Entry
    non_adherence: tuple[Entry, ...]
    violence: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive contacts not attended (did not attend, no access), with nothing attended between them."""

    first: Entry
    last: Entry
    count: int


@dataclass(frozen=True, slots=True)
class Patterns:
    cycles: list[Cycle]
    admissions: int
    non_attendance_runs: list[Run]
    depot_refusals: int
    reopened: dict[str, int]  # rule id -> how many times its finding opened (only rules that opened twice or more)

    @property
    def relapse_cycle(self) -> bool:
        """Two or more admissions each preceded by stopping or refusing medication."""
        return len(self.cycles) >= 2

    def sentences(self) -> list[str]:
        out: list[str] = []
        if self.cycles:
            word = "admission" if len(self.cycles) == 1 else "admissions"
            head = "Relapse cycle: " if self.relapse_cycle else ""
            out.append(
                f"{head}{len(self.cycles)} of {self.admissions} {word} followed stopping or refusing medication "
                f"within {CYCLE_WINDOW.days} days"
                + (
                    f"; {sum(bool(c.violence) for c in self.cycles)} also followed violence or threats."
                    if any(c.violence for c in self.cycles)
                    else "."
                )
            )
        if self.depot_refusals >= 2:
            out.append(f"Depot refused {self.depot_refusals} times.")
        long_runs = [r for r in self.non_attendance_runs if r.count >= 2]
        if long_runs:
            longest = max(r.count for r in long_runs)
            out.append(f"{len(long_runs)} run(s) of missed contacts in a row (longest {longest}).")
        for rule_id, times in sorted(self.reopened.items()):
            out.append(f"{rule_id} opened {times} times.")
        return out


def find(chronology: Chronology) -> Patterns:
    entries = [e for e in chronology.entries if not e.entered_in_error]
    admissions = [e for e in entries if e.event == "admission"]
    signals = [e for e in entries if _non_adherence(e)]
    violence = [e for e in entries if _violent(e)]
    cycles = []
    for admission in admissions:
        before = tuple(
            s for s in signals if admission.occurred_at - CYCLE_WINDOW <= s.occurred_at <= admission.occurred_at
        )
        if before:
            hurt = tuple(v for v in violence if before[0].occurred_at <= v.occurred_at <= admission.occurred_at)
            cycles.append(Cycle(admission, before, hurt))
    opened = Counter(p.rule_id for p in chronology.periods)
    return Patterns(
        cycles=cycles,
        admissions=len(admissions),
        non_attendance_runs=_runs([e for e in entries if e.kind == "contacts"]),
        depot_refusals=sum(e.event == "depot refused" for e in entries),
        reopened={rule_id: n for rule_id, n in opened.items() if n >= 2},
    )


def _non_adherence(e: Entry) -> bool:
    if e.event in ("medication stopped", "depot refused"):
        return True
    if e.kind == "adherence_reports":
        return e.fields.get("status") in ("non_adherent", "partial")
    return e.kind == "risk_events" and e.fields.get("category") == "non_adherence"


def _violent(e: Entry) -> bool:
    if e.kind == "risk_events":
        return e.fields.get("category") in VIOLENCE
    return e.kind == "partner_information" and bool(e.fields.get("violence") or e.fields.get("weapon"))


def _runs(contacts: list[Entry]) -> list[Run]:
    runs: list[Run] = []
    current: list[Entry] = []
    for contact in contacts:
        if contact.fields.get("outcome") in NOT_ATTENDED:
            current.append(contact)
        elif contact.fields.get("outcome") == "attended":
            if current:
                runs.append(Run(current[0], current[-1], len(current)))
            current = []
    if current:
        runs.append(Run(current[0], current[-1], len(current)))
    return runs
