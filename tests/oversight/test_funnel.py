"""Funnel plots for proportions, checked against FunnelPlotR's method.

Read in nhs-r-community/FunnelPlotR: ``R/od_adjustment.R`` (``transformed_zscore`` for "PR": arcsine square root,
s = 1 / (2 sqrt(n)); ``winsorisation`` with R's ``quantile`` at trim_by and 1 - trim_by; ``phi_func``;
``tau_func``, DerSimonian-Laird, 0 when n phi < n - 1), ``R/calculate_limits.R`` and ``R/od_limits.R`` (limits
sin(asin(sqrt(target)) +/- z sqrt(s^2 + tau^2))^2, z 1.959964 and 3.090232), ``R/outliers_func.R`` (outside the
limits, inclusive bounds are inside) and ``R/funnel_plot.R`` (target = pooled proportion; phi over all units).
The worked example recomputes every step by hand (its own type-7 quantile), independently of the module.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.oversight.funnel import Flag, Unit, funnel, limits_at


def _quantile7(values: list[float], q: float) -> float:
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    return ordered[lo] + (h - lo) * (ordered[min(lo + 1, len(ordered) - 1)] - ordered[lo])


UNITS = [
    Unit("A", 10, 100),
    Unit("B", 20, 100),
    Unit("C", 30, 100),
    Unit("D", 40, 400),
    Unit("E", 5, 50),
    Unit("F", 90, 300),
    Unit("G", 12, 150),
    Unit("H", 60, 250),
    *(Unit(f"Q{i}", 180 + 3 * i, 1000) for i in range(8)),  # eight large units close to 19%
]


def test_a_worked_example_step_by_step() -> None:
    target = sum(u.numerator for u in UNITS) / sum(u.denominator for u in UNITS)  # 1791 / 9450
    centre = math.asin(math.sqrt(target))
    z = [(math.asin(math.sqrt(u.numerator / u.denominator)) - centre) * 2 * math.sqrt(u.denominator) for u in UNITS]
    low, high = _quantile7(z, 0.1), _quantile7(z, 0.9)
    zw = [min(max(v, low), high) for v in z]
    phi = sum(v * v for v in zw) / len(zw)
    w = [4 * u.denominator for u in UNITS]
    tau2 = (len(UNITS) * phi - (len(UNITS) - 1)) / (sum(w) - sum(x * x for x in w) / sum(w))
    assert phi > 1
    assert tau2 > 0

    result = funnel(UNITS)
    assert result.target == pytest.approx(1791 / 9450)
    assert result.phi == pytest.approx(phi)
    assert result.tau2 == pytest.approx(tau2)
    assert result.adjusted
    assert [p.z for p in result.points] == pytest.approx(z)
    assert [p.z_winsorised for p in result.points] == pytest.approx(zw)
    for point in result.points:
        n = point.unit.denominator
        spread = math.sqrt(1 / (4 * n) + tau2)
        assert point.limits.upper998 == pytest.approx(math.sin(centre + 3.090232 * spread) ** 2)
        assert point.limits.lower95 == pytest.approx(math.sin(centre - 1.959964 * spread) ** 2)
        expected = (
            Flag.HIGH_998
            if point.proportion > point.limits.upper998
            else Flag.LOW_998
            if point.proportion < point.limits.lower998
            else Flag.HIGH_95
            if point.proportion > point.limits.upper95
            else Flag.LOW_95
            if point.proportion < point.limits.lower95
            else Flag.WITHIN
        )
        assert point.flag is expected
    # D (10% of 400) and G (8% of 150) are below the 99.8% limits even with the overdispersion allowed for; A, C
    # and F only beyond 95%. Without the adjustment F (30% of 300) is beyond 99.8% too.
    assert [p.name for p in result.outliers("99.8")] == ["D", "G"]
    assert [p.name for p in result.outliers("95")] == ["A", "C", "D", "F", "G"]
    assert "F" in [p.name for p in funnel(UNITS, adjust=False).outliers("99.8")]


def test_unadjusted_limits_when_asked_or_when_not_overdispersed() -> None:
    plain = funnel(UNITS, adjust=False)
    assert plain.tau2 == 0
    assert not plain.adjusted
    assert plain.points[0].limits == limits_at(plain.target, 100)
    # binomial data drawn at the pooled rate: no overdispersion
    even = [Unit(f"U{i}", 20, 100) for i in range(6)] + [Unit("V", 21, 100), Unit("W", 19, 100)]
    result = funnel(even)
    assert result.phi <= 1
    assert result.tau2 == 0
    assert not result.adjusted
    assert result.outliers("95") == []


def test_units_without_a_denominator_are_set_aside_and_bad_input_refused() -> None:
    result = funnel([*UNITS, Unit("Z", 0, 0)])
    assert [u.name for u in result.excluded] == ["Z"]
    assert len(result.points) == len(UNITS)
    with pytest.raises(ValueError, match="numerator"):
        funnel([Unit("A", 5, 4)])
    with pytest.raises(ValueError, match="unique"):
        funnel([Unit("A", 1, 4), Unit("A", 1, 4)])
    with pytest.raises(ValueError, match="nothing to plot"):
        funnel([Unit("A", 0, 0)])


# --- properties ------------------------------------------------------------------------------------------------

units = st.lists(
    st.tuples(st.integers(1, 5000), st.floats(0, 1)).map(lambda t: (round(t[0] * t[1]), t[0])),
    min_size=3,
    max_size=40,
).map(lambda rows: [Unit(f"P{i}", num, den) for i, (num, den) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(units)
def test_limits_widen_as_denominators_shrink_and_nest(rows: list[Unit]) -> None:
    result = funnel(rows)
    ordered = sorted(result.points, key=lambda p: p.unit.denominator)
    for small, large in itertools.pairwise(ordered):
        assert small.limits.upper998 >= large.limits.upper998 - 1e-12
        assert small.limits.lower998 <= large.limits.lower998 + 1e-12
        assert small.limits.upper95 >= large.limits.upper95 - 1e-12
        assert small.limits.lower95 <= large.limits.lower95 + 1e-12
    for point in result.points:
        lim = point.limits
        assert 0 <= lim.lower998 <= lim.lower95 <= result.target + 1e-12
        assert result.target - 1e-12 <= lim.upper95 <= lim.upper998 <= 1
        outside = point.proportion > lim.upper95 or point.proportion < lim.lower95
        assert (point.flag is not Flag.WITHIN) == outside


@settings(max_examples=150, deadline=None)
@given(units)
def test_no_overdispersion_adjustment_when_phi_is_at_most_one(rows: list[Unit]) -> None:
    result = funnel(rows)
    if result.phi <= 1:
        assert result.tau2 == 0
        assert not result.adjusted
        for point in result.points:
            assert point.limits == limits_at(result.target, point.unit.denominator)
    else:
        # the adjustment only ever widens the limits
        plain = funnel(rows, adjust=False)
        for adjusted, unadjusted in zip(result.points, plain.points, strict=True):
            assert adjusted.limits.upper998 >= unadjusted.limits.upper998 - 1e-12
            assert adjusted.limits.lower998 <= unadjusted.limits.lower998 + 1e-12
        assert len(result.outliers("99.8")) <= len(plain.outliers("99.8"))


@settings(max_examples=100, deadline=None)
@given(units, st.randoms(use_true_random=False))
def test_the_order_of_units_changes_nothing(rows: list[Unit], random: object) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = funnel(rows), funnel(shuffled)
    assert a.phi == pytest.approx(b.phi)
    assert a.tau2 == pytest.approx(b.tau2, abs=1e-15)
    assert {p.name: p.flag for p in a.points} == {p.name: p.flag for p in b.points}


@settings(max_examples=100, deadline=None)
@given(units)
def test_winsorised_z_scores_lie_within_the_trimmed_range(rows: list[Unit]) -> None:
    result = funnel(rows)
    z = [p.z for p in result.points]
    low, high = _quantile7(z, 0.1), _quantile7(z, 0.9)
    for point in result.points:
        assert low - 1e-9 <= point.z_winsorised <= high + 1e-9
        if low <= point.z <= high:
            assert point.z_winsorised == pytest.approx(point.z)
