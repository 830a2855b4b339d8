"""A funnel plot made fit to publish: the funnel over every unit, shown under disclosure control.

Every unit with a denominator is in the funnel's pooled proportion and its overdispersion estimate (leaving small
units out would move the limits everyone else is judged by), but a unit with a count of 1 to 7 in its numerator or
denominator is not shown one by one, nor named; the others' counts are rounded to the nearest 5 and their rates
withheld where the rule says so (``oversight.disclosure``). The published MHSDS funnel (``safetynet national
funnel``) and the national dashboard (``/national``) both publish through this one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from safetynet.oversight.disclosure import is_small, publish_count, publish_rate
from safetynet.oversight.funnel import Flag, Funnel, Unit, funnel


def disclosed(units: Sequence[Unit], *, adjust: bool = True) -> tuple[Funnel, dict[str, Any]]:
    """The funnel as shown (small units taken out) and its publishable figures: pooled percent, dispersion, the
    units shown with their limits and position, and those outside the 95% and 99.8% limits, named."""
    if len(units) < 3:
        raise ValueError(f"only {len(units)} organisations have both figures: too few for a funnel")
    result = funnel(units, adjust=adjust)
    hidden = {u.name for u in units if is_small(u.numerator) or is_small(u.denominator)}
    shown = replace(result, points=tuple(p for p in result.points if p.name not in hidden))

    def named(flags: set[Flag]) -> list[dict[str, str]]:
        return [
            {"code": p.name, "name": p.unit.label, "position": p.flag.value} for p in shown.points if p.flag in flags
        ]

    report = {
        "pooled_percent": round(100 * result.target, 2),
        "phi": round(result.phi, 4),
        "tau2": round(result.tau2, 6),
        "overdispersion_adjusted": result.adjusted,
        "in_funnel": len(result.points),
        "withheld_small_numbers": len(hidden),
        "outside_998": named({Flag.HIGH_998, Flag.LOW_998}),
        "outside_95": named({Flag.HIGH_95, Flag.LOW_95}),
        "units": [
            {
                "code": p.name,
                "name": p.unit.label,
                "numerator": publish_count(p.unit.numerator),
                "denominator": publish_count(p.unit.denominator),
                "percent": publish_rate(p.unit.numerator, p.unit.denominator),
                "lower_998": round(100 * p.limits.lower998, 1),
                "lower_95": round(100 * p.limits.lower95, 1),
                "upper_95": round(100 * p.limits.upper95, 1),
                "upper_998": round(100 * p.limits.upper998, 1),
                "position": p.flag.value,
            }
            for p in sorted(shown.points, key=lambda q: q.name)
        ],
    }
    return shown, report
