"""Funnel plots for proportions across providers or teams (Spiegelhalter 2005), as NHS-R FunnelPlotR draws them.

Method (FunnelPlotR ``R/od_adjustment.R``, ``R/calculate_limits.R``, ``R/outliers_func.R``, ``R/funnel_plot.R``,
data type "PR"):

- target = pooled proportion, sum(numerators) / sum(denominators);
- arcsine (variance-stabilising) scale: y_i = asin(sqrt(p_i)), target asin(sqrt(target)), s_i = 1 / (2 sqrt(n_i));
  unadjusted z_i = (y_i - target) / s_i;
- winsorisation: z-scores below the 10th percentile are set to it, above the 90th to it (R's default ``quantile``,
  type 7 = numpy's linear interpolation); the 10% is at each end;
- overdispersion phi = mean of the squared winsorised z-scores over all I units;
- between-unit variance (DerSimonian and Laird additive random effects): tau^2 = (I phi - (I - 1)) /
  (sum w - sum w^2 / sum w), w_i = 1 / s_i^2, and 0 when I phi < I - 1;
- limits at denominator n: sin(asin(sqrt(target)) +/- z sqrt(1 / (4 n) + tau^2))^2 with z = 1.959964 (95%) and
  3.090232 (99.8%); the angle is clamped to [0, pi/2] so the limits stay within [0, 1];
- outliers: units outside the limits (FunnelPlotR's default limit is 99.8%; the 95% ones are named too).

One deliberate difference: the adjustment is applied only when phi > 1 (overdispersion), as the brief and the
multiplicative convention ask; FunnelPlotR would also add a small tau^2 for (I - 1) / I <= phi <= 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

Z95 = 1.959964
Z998 = 3.090232
TRIM = 0.1


class Flag(StrEnum):
    HIGH_998 = "above 99.8%"
    LOW_998 = "below 99.8%"
    HIGH_95 = "above 95%"
    LOW_95 = "below 95%"
    WITHIN = "within"


@dataclass(frozen=True)
class Unit:
    name: str
    numerator: float
    denominator: float
    label: str = ""


@dataclass(frozen=True)
class Limits:
    lower95: float
    upper95: float
    lower998: float
    upper998: float


@dataclass(frozen=True)
class FunnelPoint:
    unit: Unit
    proportion: float
    z: float  # unadjusted, arcsine scale
    z_winsorised: float
    limits: Limits  # adjusted if the plot is
    flag: Flag

    @property
    def name(self) -> str:
        return self.unit.name


@dataclass(frozen=True)
class Funnel:
    target: float
    phi: float
    tau2: float
    adjusted: bool
    trim_by: float
    points: tuple[FunnelPoint, ...]
    excluded: tuple[Unit, ...]  # no denominator: cannot be placed

    def limits(self, denominator: float, *, adjusted: bool | None = None) -> Limits:
        return limits_at(
            self.target, denominator, self.tau2 if (self.adjusted if adjusted is None else adjusted) else 0.0
        )

    def outliers(self, level: str = "99.8") -> list[FunnelPoint]:
        """Units outside the 99.8% limits (``level="99.8"``) or outside the 95% limits (``"95"``)."""
        flags = (
            {Flag.HIGH_998, Flag.LOW_998}
            if level == "99.8"
            else {Flag.HIGH_998, Flag.LOW_998, Flag.HIGH_95, Flag.LOW_95}
        )
        return [p for p in self.points if p.flag in flags]


def limits_at(target: float, denominator: float, tau2: float = 0.0) -> Limits:
    centre = math.asin(math.sqrt(target))
    spread = math.sqrt(1 / (4 * denominator) + tau2)

    def bound(z: float) -> float:
        return math.sin(min(max(centre + z * spread, 0.0), math.pi / 2)) ** 2

    return Limits(bound(-Z95), bound(Z95), bound(-Z998), bound(Z998))


def winsorise(z: np.ndarray, trim_by: float = TRIM) -> np.ndarray:
    """FunnelPlotR's ``winsorisation``: values beyond the trim_by and 1 - trim_by quantiles are set to them."""
    low, high = np.quantile(z, [trim_by, 1 - trim_by])
    clipped: np.ndarray = np.clip(z, low, high)
    return clipped


def dispersion(z_winsorised: np.ndarray) -> float:
    return float(np.mean(z_winsorised**2))


def between_variance(phi: float, s: np.ndarray) -> float:
    """FunnelPlotR's ``tau_func`` (DerSimonian and Laird)."""
    n = s.size
    if n == 0 or n * phi < n - 1:
        return 0.0
    w = 1 / s**2
    denominator = float(w.sum() - (w**2).sum() / w.sum())
    if denominator <= 0:
        return 0.0
    return max(0.0, (n * phi - (n - 1)) / denominator)


def funnel(units: Sequence[Unit], *, trim_by: float = TRIM, adjust: bool = True) -> Funnel:
    """The funnel of ``units`` (numerator <= denominator, both >= 0) around their pooled proportion."""
    if not 0 <= trim_by < 0.5:
        raise ValueError("trim_by must be in [0, 0.5)")
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise ValueError("unit names must be unique")
    for unit in units:
        if unit.numerator < 0 or unit.denominator < 0 or unit.numerator > unit.denominator:
            raise ValueError(f"{unit.name}: need 0 <= numerator <= denominator")
    placed = [u for u in units if u.denominator > 0]
    excluded = tuple(u for u in units if u.denominator <= 0)
    if not placed:
        raise ValueError("no unit has a denominator: nothing to plot")
    num = np.array([u.numerator for u in placed], dtype=float)
    den = np.array([u.denominator for u in placed], dtype=float)
    target = float(num.sum() / den.sum())
    y = np.arcsin(np.sqrt(num / den))
    s = 1 / (2 * np.sqrt(den))
    z = (y - math.asin(math.sqrt(target))) / s
    zw = winsorise(z, trim_by)
    phi = dispersion(zw)
    tau2 = between_variance(phi, s) if adjust and phi > 1 else 0.0
    adjusted = tau2 > 0
    points = []
    for unit, p, zi, zwi in zip(placed, num / den, z, zw, strict=True):
        lim = limits_at(target, unit.denominator, tau2)
        points.append(
            FunnelPoint(
                unit=unit, proportion=float(p), z=float(zi), z_winsorised=float(zwi), limits=lim, flag=_flag(p, lim)
            )
        )
    return Funnel(
        target=target, phi=phi, tau2=tau2, adjusted=adjusted, trim_by=trim_by, points=tuple(points), excluded=excluded
    )


def _flag(p: float, lim: Limits) -> Flag:
    if p > lim.upper998:
        return Flag.HIGH_998
    if p < lim.lower998:
        return Flag.LOW_998
    if p > lim.upper95:
        return Flag.HIGH_95
    if p < lim.lower95:
        return Flag.LOW_95
    return Flag.WITHIN


def curve(result: Funnel, low: float, high: float, steps: int = 200) -> tuple[np.ndarray, list[Limits]]:
    """The limits along a range of denominators (log-spaced), for drawing."""
    xs = np.unique(np.geomspace(max(low, 1e-9), max(high, low * 1.0001, 1e-9), steps))
    return xs, [result.limits(float(x)) for x in xs]
