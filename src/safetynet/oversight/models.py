"""The trust's indicator figures as last computed, for the dashboards.

Computing the whole catalogue month by month over a trust takes seconds on a small trust and minutes on a large
one, too long for a page request; ``safetynet indicators refresh`` (and the app's scheduler, nightly) computes them
into these tables and the dashboards read the latest run. Each run is kept whole beside the ones before it, so what
a dashboard showed on a given day can be shown again. The figures are derived data: the record is the truth.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.core.db import Base, UTCDateTime


class IndicatorRun(Base):
    """One computation of the catalogue over the trust: when, by whom, for which months, how long it took."""

    __tablename__ = "indicator_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    computed_by: Mapped[str] = mapped_column(String(200))
    first_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    last_month: Mapped[str] = mapped_column(String(7))
    figures: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class IndicatorFigure(Base):
    """One indicator's numerator and denominator for one team and month, as a run computed them."""

    __tablename__ = "indicator_figures"
    __table_args__ = (Index("ix_indicator_figures_run_indicator", "run_id", "indicator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("indicator_runs.id"))
    indicator: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int | None] = mapped_column(Integer)
