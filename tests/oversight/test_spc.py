"""SPC (Making Data Count XmR) test vectors, checked against the behaviour of NHSRplotthedots.

What was read, in the NHS-R Community's repository nhs-r-community/NHSRplotthedots:
- ``R/ptd_spc_standard.R`` (commit 8aac3239): mean, moving ranges, screening (``mr < 3.267 * amr`` kept), limits
  2.66 x mean moving range, near limits at 2/3, ``fix_after_n_points``, groups by rebase;
- ``R/ptd_calculate_point_type.R`` (commit f7891af4): the rules and their precedence (outside limits, trend,
  2 in 3, 7 points one side), the side of a trend point, ``ptd_point_type``;
- ``R/ptd_calculate_assurance_type.R`` and ``R/geom_ptd_icon.R``: assurance from the last point's limits, the
  variation icon from the last point (``concern_low`` when improvement is an increase);
- ``tests/testthat/test-ptd_calculate_point_type.R``, ``test-ptd_spc_standard.R`` and
  ``test-ptd_add_short_group_warnings.R`` (commit 8aac3239): the rule vectors used below are theirs (the
  ``part of`` forms), the 2-in-3-on-opposite-sides vector is their last test of ``ptd_spc_standard``, and the
  warning fires for 11 points and not for 12.
The end-to-end vectors are our own, with the expected limits worked out by hand in the comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from safetynet.oversight.spc import (
    Assurance,
    Direction,
    PointType,
    Rule,
    SpcOptions,
    Variation,
    runs_on_one_side,
    trends,
    two_in_three,
    xmr,
)

C, I, X = PointType.COMMON_CAUSE, PointType.IMPROVEMENT, PointType.CONCERN  # noqa: E741


def types(values: Sequence[float], **options: Any) -> list[PointType]:
    return [p.point_type for p in xmr(values, options=SpcOptions(**options)).points]


# --- the rule functions, with NHSRplotthedots' own test vectors --------------------------------------------------


def test_seven_points_on_one_side_as_in_ptd_seven_point_one_side_mean() -> None:
    assert runs_on_one_side([1] * 6, 7) == [False] * 6
    assert runs_on_one_side([1] * 6 + [-1], 7) == [False] * 7
    assert runs_on_one_side([1] * 8 + [-1], 7) == [True] * 8 + [False]
    assert runs_on_one_side([-1] * 8 + [1], 7) == [True] * 8 + [False]
    # a point on the mean breaks a run
    assert runs_on_one_side([1, 1, 1, 0, 1, 1, 1, 1], 7) == [False] * 8
    # configurable: six is enough when the run length is 6
    assert runs_on_one_side([-1] * 6 + [1], 6) == [True] * 6 + [False]


def test_trends_as_in_ptd_seven_point_trend() -> None:
    assert trends([], 7) == []
    assert trends([1, 2, 3, 4, 5, 6], 7) == [0] * 6
    assert trends([1, 2, 3, 3, 4, 5, 6], 7) == [0] * 7  # an equal step breaks a trend
    assert trends(list(range(1, 8)), 7) == [0] * 6 + [1]
    assert trends([2, *range(1, 8), 3], 7) == [0] * 7 + [1, 0]
    assert trends(list(range(7, 0, -1)), 7) == [0] * 6 + [-1]
    assert trends([2, *range(7, 0, -1), 3], 7) == [0] * 7 + [-1, 0]
    assert trends(list(range(1, 7)), 6) == [0] * 5 + [1]


def test_two_in_three_as_in_ptd_two_in_three_and_part_of() -> None:
    same = [1] * 7
    assert two_in_three([True, False, True], [1, 1, 1]) == [True, False, True]
    assert two_in_three([False, True, True], [1, 1, 1]) == [False, True, True]
    assert two_in_three([True, True, False], [1, 1, 1]) == [True, True, False]
    assert two_in_three([bool(v) for v in (0, 0, 1, 0, 1, 0, 0)], same) == [bool(v) for v in (0, 0, 1, 0, 1, 0, 0)]
    assert two_in_three([bool(v) for v in (0, 0, 1, 1, 0, 0, 0)], same) == [bool(v) for v in (0, 0, 1, 1, 0, 0, 0)]
    assert two_in_three([True, False, False, True], [1] * 4) == [False] * 4
    assert two_in_three([True, False, False, True, True], [1] * 5) == [False, False, False, True, True]
    # issue #143: points on opposite sides of the mean never make a 2 in 3
    assert two_in_three([True, False, True], [1, -1, 1]) == [False] * 3
    assert two_in_three([False, True, True], [1, -1, 1]) == [False] * 3
    assert two_in_three([bool(v) for v in (0, 0, 1, 0, 1, 0, 0)], [1, -1, 1, -1, 1, -1, 1]) == [False] * 7


# --- end to end --------------------------------------------------------------------------------------------------


def test_limits_from_the_mean_moving_range() -> None:
    # mean 2, every moving range 1: limits 2 +/- 2.66, near limits 2 +/- 1.7733
    result = xmr([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2])
    group = result.last_group
    assert group.mean == pytest.approx(2)
    assert group.mean_moving_range == pytest.approx(1)
    assert (group.lower_limit, group.upper_limit) == (pytest.approx(-0.66), pytest.approx(4.66))
    assert (group.lower_near, group.upper_near) == (pytest.approx(2 - 2 * 2.66 / 3), pytest.approx(2 + 2 * 2.66 / 3))
    assert all(p.point_type is C for p in result.points)
    assert result.variation is Variation.COMMON_CAUSE
    assert result.assurance is None
    assert result.warnings == ()


def test_screening_leaves_out_large_moving_ranges_and_the_rules_take_precedence() -> None:
    values = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 20]
    # mean 36/12 = 3; moving ranges ten 1s and 19: mean 29/11 = 2.636, and 19 >= 3.267 x 2.636 = 8.61 is left out,
    # so the mean moving range is 1 and the limits 3 +/- 2.66
    screened = xmr(values)
    assert screened.last_group.mean_moving_range == pytest.approx(1)
    assert screened.last_group.upper_limit == pytest.approx(5.66)
    unscreened = xmr(values, options=SpcOptions(screen_outliers=False))
    assert unscreened.last_group.mean_moving_range == pytest.approx(29 / 11)
    assert unscreened.last_group.upper_limit == pytest.approx(3 + 2.66 * 29 / 11)
    # eleven points below the mean (a shift, concern when up is better), of which the 1s are also beyond the near
    # lower limit 3 - 1.773 (two in three, which comes first); 20 is above the upper limit
    last = screened.points[-1]
    assert last.rule is Rule.OUTSIDE_LIMITS
    assert last.point_type is I
    assert [p.rule for p in screened.points[:-1]] == [Rule.TWO_IN_THREE, Rule.SHIFT] * 5 + [Rule.TWO_IN_THREE]
    assert all(Rule.SHIFT in p.rules for p in screened.points[:-1])
    assert types(values) == [X] * 11 + [I]
    assert screened.variation is Variation.IMPROVEMENT_HIGH
    assert types(values, improvement=Direction.DECREASE) == [I] * 11 + [X]
    assert xmr(values, options=SpcOptions(improvement=Direction.DECREASE)).variation is Variation.CONCERN_HIGH
    neutral = xmr(values, options=SpcOptions(improvement=Direction.NEUTRAL))
    assert [p.point_type for p in neutral.points] == [PointType.NEUTRAL_LOW] * 11 + [PointType.NEUTRAL_HIGH]
    assert neutral.variation is Variation.NEUTRAL_HIGH


def test_a_trend_its_direction_and_the_precedence_of_points_outside_the_limits() -> None:
    values = [4, 4, 4, 4, 4, 1, 2, 3, 4, 5, 6, 7]
    # mean 48/12 = 4; moving ranges 0,0,0,0,3,1,1,1,1,1,1: mean 9/11; 3 >= 3.267 x 9/11 = 2.67 is screened out,
    # so the mean moving range is 6/10 and the limits 4 +/- 1.596: 1 and 2 below, 6 and 7 above
    result = xmr(values)
    assert result.last_group.mean_moving_range == pytest.approx(0.6)
    rules = [p.rule for p in result.points]
    assert rules == [None] * 5 + [Rule.OUTSIDE_LIMITS] * 2 + [Rule.TREND] * 3 + [Rule.OUTSIDE_LIMITS] * 2
    # below the lower limit is a concern even inside a rising trend (outside limits comes first); the point on the
    # mean (4) is part of the trend and so an improvement
    assert types(values) == [C] * 5 + [X, X, I, I, I, I, I]
    assert all(Rule.TREND in p.rules for p in result.points[5:])


def test_a_falling_trend_is_low() -> None:
    values = [5.0, 5.2, 4.9, 5.1, 5.0, 5.3, 5.1, 5.0, 4.9, 4.8, 4.7, 4.6, 4.5, 4.4]
    result = xmr(values)
    # mean 68.5/14 = 4.893; from 5.3 the values fall eight times in a row: nine points in trends of seven; the
    # first eight points are above the mean (a shift, the first five shown as one); the mean moving range is
    # 2/13 (the 0.3 and 0.4 steps are under 3.267 x 0.154 = 0.50), the lower limit 4.893 - 0.409 = 4.484, so 4.4
    # is below it
    assert result.last_group.mean_moving_range == pytest.approx(2 / 13)
    rules = [p.rule for p in result.points]
    assert rules == [Rule.SHIFT] * 5 + [Rule.TREND] * 8 + [Rule.OUTSIDE_LIMITS]
    assert {p.side for p in result.points[5:]} == {-1}
    assert [p.point_type for p in result.points] == [I] * 5 + [X] * 9


def test_run_length_is_configurable() -> None:
    values = [6, 4, 6, 4, 6, 4] + [5.5] * 6 + [4, 6, 4, 6, 4, 6]
    # mean 93/18 = 5.167: exactly six points (5.5) in a row above it, between a 4 and a 4; the near limits
    # 5.167 +/- 1.773 x 23/17 = 2.77 to 7.57 keep the 2 in 3 rule quiet
    default = xmr(values)
    six = xmr(values, options=SpcOptions(shift_length=6))
    assert not any(Rule.SHIFT in p.rules for p in default.points)
    assert [Rule.SHIFT in p.rules for p in six.points] == [False] * 6 + [True] * 6 + [False] * 6


def test_two_of_three_near_the_limit_on_opposite_sides_is_common_cause() -> None:
    # NHSRplotthedots' test-ptd_spc_standard.R: symmetric data, the last two points 5.5 and -5.5
    values = [1.0, -1.0] * 8
    values[14], values[15] = 5.5, -5.5
    result = xmr(values)
    # mean 0; moving ranges 13 x 2, 6.5 and 11 (11 screened out): mean moving range 32.5/14, near limit 4.12
    assert result.last_group.mean_moving_range == pytest.approx(32.5 / 14)
    assert [p.close_to_limits for p in result.points[-2:]] == [True, True]
    assert [p.point_type for p in result.points[-2:]] == [C, C]


def test_two_of_three_beyond_the_near_limit_on_one_side() -> None:
    values = [2.5, 3.5] * 6 + [5.8, 3.6, 5.8]
    # mean 51.2/15 = 3.413; moving ranges 11 x 1, 2.3, 2.2, 2.2: mean 17.7/14 = 1.264; near upper limit
    # 3.413 + 1.773 x 1.264 = 5.655, upper limit 6.776: the two 5.8s are near it, with 3.6 above the mean between
    result = xmr(values)
    group = result.last_group
    assert group.upper_near == pytest.approx(51.2 / 15 + 2 * 2.66 / 3 * 17.7 / 14)
    assert group.upper_near < 5.8 < group.upper_limit
    flagged = [p.index for p in result.points if p.rule is Rule.TWO_IN_THREE]
    assert flagged == [12, 14]
    assert {result.points[i].point_type for i in flagged} == {I}


def test_rebasing_recalculates_the_limits_from_the_rebase_point() -> None:
    values = [1, 2] * 6 + [11, 12] * 6
    labels = [f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 13)]
    whole = xmr(values, labels)
    # as one group (mean 6.5, limits 3.84 to 9.16) every point is outside the limits
    assert all(p.rule is Rule.OUTSIDE_LIMITS for p in whole.points)
    rebased = xmr(values, labels, SpcOptions(rebase=("2024-01",)))
    assert [(g.start, g.points, g.mean) for g in rebased.groups] == [(0, 12, 1.5), (12, 12, 11.5)]
    assert all(p.point_type is C for p in rebased.points)
    assert [p.group for p in rebased.points] == [0] * 12 + [1] * 12
    with pytest.raises(ValueError, match="rebase points not in the series"):
        xmr(values, labels, SpcOptions(rebase=("2025-01",)))


def test_a_fixed_baseline_keeps_its_limits() -> None:
    values = [1, 2] * 6 + [3, 4] * 6
    fixed = xmr(values, options=SpcOptions(fix_after_n_points=12))
    group = fixed.last_group
    assert (group.mean, group.mean_moving_range, group.baseline_points) == (1.5, 1.0, 12)
    # after the baseline: 4 is beyond the near limit 3.27 (two of three), 3 is not (but all twelve are a shift)
    assert [p.rule for p in fixed.points[12:]] == [Rule.SHIFT, Rule.TWO_IN_THREE] * 6
    assert all(p.point_type is I for p in fixed.points[12:])
    assert fixed.last_group.upper_limit == pytest.approx(1.5 + 2.66)
    unfixed = xmr(values)
    assert unfixed.last_group.mean == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("improvement", "target", "assurance"),
    [
        (Direction.INCREASE, 10.0, Assurance.CONSISTENT_FAIL),
        (Direction.INCREASE, -5.0, Assurance.CONSISTENT_PASS),
        (Direction.INCREASE, 2.0, Assurance.HIT_AND_MISS),
        (Direction.DECREASE, 10.0, Assurance.CONSISTENT_PASS),
        (Direction.DECREASE, -5.0, Assurance.CONSISTENT_FAIL),
        (Direction.DECREASE, 4.66, Assurance.HIT_AND_MISS),  # on the limit is not beyond it
        (Direction.NEUTRAL, 10.0, None),
    ],
)
def test_assurance_compares_the_target_with_the_process_limits(
    improvement: Direction, target: float, assurance: Assurance | None
) -> None:
    values = [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]  # limits -0.66 to 4.66
    result = xmr(values, options=SpcOptions(improvement=improvement, target=target))
    assert result.assurance is assurance


def test_assurance_uses_the_last_group() -> None:
    values = [1, 2] * 6 + [11, 12] * 6
    result = xmr(values, options=SpcOptions(rebase=("13",), target=5.0))
    assert result.assurance is Assurance.CONSISTENT_PASS  # 5 is below the second group's lower limit


def test_fewer_than_twelve_points_are_warned_about() -> None:
    assert xmr([1, 2] * 6).warnings == ()
    eleven = xmr([1, 2] * 5 + [1])
    assert len(eleven.warnings) == 1
    assert "fewer than 12 points" in eleven.warnings[0]
    assert eleven.last_group.short
    # a short group after a rebase is warned about too
    rebased = xmr([1, 2] * 10, options=SpcOptions(rebase=("15",)))
    assert [g.short for g in rebased.groups] == [False, True]


def test_refuses_what_it_cannot_chart() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        xmr([])
    with pytest.raises(ValueError, match="finite"):
        xmr([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="differ in length"):
        xmr([1, 2], ["a"])
    with pytest.raises(ValueError, match="between 2 and 12"):
        SpcOptions(shift_length=1)


def test_a_constant_series_has_no_special_cause_and_no_width() -> None:
    result = xmr([5.0] * 12)
    assert result.last_group.mean_moving_range == 0
    assert all(p.point_type is C for p in result.points)
