"""What patient-view reads about a person, kept between calls while nothing about them has been recorded since.

patient-view answers with the findings open now, so every call runs the rules as known now. Reading the person's
facts is the expensive part of that; running the rules again is cheap. So the service keeps each person's
``History`` (every version of every fact) with a fingerprint of their record: for each kind of fact, how many rows
are theirs and the highest row id. The record is append-only (a correction or an entry in error is a new version;
nothing is updated or deleted), so any fact recorded about them since, including one recorded late or backdated,
changes the fingerprint and their history is read again; reading the fingerprint is one indexed query.

What is deliberately not kept: the findings. Time alone opens findings (a deadline passes with no reply, weeks go
by without contact), so the rules run again on every call, as known at that call's moment; a person's tasks are
reconciled with them only when they differ (``tasks.runner.reconcile`` writes nothing otherwise). The teams (whose
names and pathways the rules read) are compared on every call too, and the rule settings (mode and parameters) are
read on every call and validated again only when they changed.

A unit of work that has itself written about the person bypasses what is kept (what it sees is not yet committed).
Each process keeps its own, at most ``CAPACITY`` people, least recently asked about dropped first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import TextClause, select, text

from safetynet.core.context import Context
from safetynet.record.registry import FACT_MODELS
from safetynet.record.writes import touched
from safetynet.rules.facts import History, TeamInfo, load_history
from safetynet.tasks import service as tasks
from safetynet.tasks.models import RuleSetting
from safetynet.tasks.runner import Settings

CAPACITY = 5000

Fingerprint = tuple[Any, ...]


def _fingerprint_query() -> TextClause:
    """One row: for each fact table, the person's row count and highest row id, as ``count * 2**32 + max(id)``.

    Count and max in one aggregate on purpose: PostgreSQL answers a lone ``max(id) WHERE patient_id = ...`` by walking
    the primary key backwards until it meets one of the person's rows (most of a big table for someone recorded
    early: 60 ms a call on a 2,000-person trust), where beside ``count(*)`` both come from the patient index. One
    scalar subquery per table, not a UNION, which PostgreSQL would hand to parallel workers (30 ms to start them).
    """
    tables = sorted({model.__tablename__ for model in FACT_MODELS.values()})
    columns = ", ".join(
        f"(SELECT count(*) * 4294967296 + coalesce(max(id), 0) FROM {t} WHERE patient_id = :patient_id)" for t in tables
    )
    return text(f"SELECT {columns}")  # table names from the model registry, never from input


_FINGERPRINT = _fingerprint_query()
_TEAMS = text("SELECT id, name, pathway FROM teams")


class Histories:
    """People's histories kept with their fingerprints, per database; safe to share between request threads."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple[str, str], tuple[Fingerprint, History]] = OrderedDict()
        self._settings: dict[str, tuple[str, Settings]] = {}
        self._lock = threading.Lock()
        self.reads = 0  # histories read from the database (for tests and benchmarks)

    def history(self, ctx: Context, patient_id: str) -> History:
        """The person's history, as recorded now: the one kept if nothing about them was recorded since."""
        if patient_id in touched(ctx):
            return load_history(ctx.session, patient_id)
        database = _database(ctx)
        fingerprint = tuple(ctx.session.execute(_FINGERPRINT, {"patient_id": patient_id}).one())
        teams = {i: TeamInfo(n, p) for i, n, p in ctx.session.execute(_TEAMS)}
        key = (database, patient_id)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == fingerprint and kept[1].directory.teams == teams:
                self._kept.move_to_end(key)
                return kept[1]
        # Read after the fingerprint: what is kept is never older than its fingerprint says (at worst, newer, and
        # read again next time).
        history = load_history(ctx.session, patient_id)
        with self._lock:
            self.reads += 1
            self._kept[key] = (fingerprint, history)
            self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return history

    def settings(self, ctx: Context) -> Settings:
        """Each rule's mode and parameters (``tasks.service.rule_settings``), validated again only when changed."""
        rows = ctx.session.execute(select(RuleSetting.rule_id, RuleSetting.mode, RuleSetting.parameters)).all()
        stamp = json.dumps(sorted([list(row) for row in rows]), sort_keys=True, default=str)
        database = _database(ctx)
        kept = self._settings.get(database)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        made = tasks.rule_settings(ctx)
        self._settings[database] = (stamp, made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._settings.clear()


def _database(ctx: Context) -> str:
    return ctx.session.get_bind().engine.url.render_as_string(hide_password=True)


HISTORIES = Histories()
