"""Statistical process control the Making Data Count way: XmR charts ("plot the dots").

The reference implementation is the NHS-R Community's R package NHSRplotthedots (``ptd_spc``); this module follows
its source (``R/ptd_spc_standard.R``, ``R/ptd_calculate_point_type.R``, ``R/ptd_calculate_assurance_type.R``,
``R/ptd_add_short_group_warnings.R``, ``R/geom_ptd_icon.R``) point for point, with the run lengths made
configurable (NHSRplotthedots fixes both at 7):

- per rebase group: centre line = mean; moving ranges |y[i] - y[i-1]|; with screening (the default, as in
  NHSRplotthedots) moving ranges of 3.267 x the mean moving range or more are left out and the mean recomputed;
  process limits = mean +/- 2.66 x mean moving range; "near" limits at 2/3 of that distance. A fixed baseline
  (``fix_after_n_points``) computes the mean and moving ranges from the group's first n points only.
- special causes, in NHSRplotthedots' order of precedence: a point outside the process limits; a trend of
  ``trend_length`` points each strictly higher (or lower) than the one before; two of three consecutive points on the
  same side of the mean beyond the near limit (but inside the process limits; only those points are flagged); a
  shift of ``shift_length`` points on the same side of the mean (a point on the mean breaks it). Runs never cross a
  rebase point.
- each special-cause point is high or low (above / below the mean, or the trend's direction) and so improvement or
  concern by the improvement direction, or neutral high / low.
- variation icon: the last point's type; assurance icon (when a target is set and the direction is not neutral):
  the target against the last group's process limits.
- a group of fewer than 12 points is warned about (its limits are trial limits).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

LIMIT = 2.66
NEAR = 2 * LIMIT / 3
SCREEN = 3.267
WARNING_THRESHOLD = 12


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    NEUTRAL = "neutral"

    @property
    def sign(self) -> int:
        return {Direction.INCREASE: 1, Direction.DECREASE: -1, Direction.NEUTRAL: 0}[self]


class Rule(StrEnum):
    """The four special-cause rules (NHSRplotthedots' labels in the docstrings)."""

    OUTSIDE_LIMITS = "outside_limits"  # "Above UCL" / "Below LCL"
    TREND = "trend"  # "7 Point Trend (Increasing)" / "(Decreasing)"
    TWO_IN_THREE = "two_in_three"  # "2 in 3 Above CL" / "Below CL"
    SHIFT = "shift"  # "7 Points Above CL" / "Below CL"


class PointType(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "special_cause_improvement"
    CONCERN = "special_cause_concern"
    NEUTRAL_HIGH = "special_cause_neutral_high"
    NEUTRAL_LOW = "special_cause_neutral_low"


class Variation(StrEnum):
    """The Making Data Count variation icons (NHSRplotthedots' icon file names)."""

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT_HIGH = "improvement_high"
    IMPROVEMENT_LOW = "improvement_low"
    CONCERN_HIGH = "concern_high"
    CONCERN_LOW = "concern_low"
    NEUTRAL_HIGH = "neutral_high"
    NEUTRAL_LOW = "neutral_low"


class Assurance(StrEnum):
    CONSISTENT_PASS = "consistent_pass"  # noqa: S105 (not a password)
    CONSISTENT_FAIL = "consistent_fail"
    HIT_AND_MISS = "hit_and_miss"  # NHSRplotthedots: "inconsistent"


VARIATION_TEXT = {
    Variation.COMMON_CAUSE: "common cause variation",
    Variation.IMPROVEMENT_HIGH: "special cause variation: improvement (higher)",
    Variation.IMPROVEMENT_LOW: "special cause variation: improvement (lower)",
    Variation.CONCERN_HIGH: "special cause variation: concern (higher)",
    Variation.CONCERN_LOW: "special cause variation: concern (lower)",
    Variation.NEUTRAL_HIGH: "special cause variation: neither improvement nor concern (higher)",
    Variation.NEUTRAL_LOW: "special cause variation: neither improvement nor concern (lower)",
}
ASSURANCE_TEXT = {
    Assurance.CONSISTENT_PASS: "the process will consistently pass the target",
    Assurance.CONSISTENT_FAIL: "the process will consistently fail the target",
    Assurance.HIT_AND_MISS: "the process will hit and miss the target (the target is inside the process limits)",
}


@dataclass(frozen=True)
class SpcOptions:
    improvement: Direction = Direction.INCREASE
    target: float | None = None
    shift_length: int = 7
    trend_length: int = 7
    screen_outliers: bool = True
    fix_after_n_points: int | None = None
    rebase: tuple[str, ...] = ()
    warning_threshold: int = WARNING_THRESHOLD

    def __post_init__(self) -> None:
        for name in ("shift_length", "trend_length"):
            if not 2 <= getattr(self, name) <= 12:
                raise ValueError(f"{name} must be between 2 and 12 (Making Data Count uses 6 or 7)")
        if self.fix_after_n_points is not None and self.fix_after_n_points < 2:
            raise ValueError("fix_after_n_points must be at least 2")
        if self.target is not None and not math.isfinite(self.target):
            raise ValueError("target must be a finite number")


@dataclass(frozen=True)
class SpcGroup:
    """One rebase group: its limits and how many points they rest on."""

    index: int
    start: int
    end: int  # exclusive
    baseline_points: int
    mean: float
    mean_moving_range: float
    lower_limit: float
    upper_limit: float
    lower_near: float
    upper_near: float
    short: bool  # fewer than the warning threshold: trial limits

    @property
    def points(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class SpcPoint:
    index: int
    label: str
    value: float
    group: int
    mean: float
    lower_limit: float
    upper_limit: float
    relative_to_mean: int  # -1 below, 0 on, 1 above
    outside_limits: bool
    close_to_limits: bool
    rules: tuple[Rule, ...]  # every rule the point is part of
    rule: Rule | None  # the one it is shown for (precedence: outside, trend, two in three, shift)
    side: int  # 1 high / increasing, -1 low / decreasing, 0 common cause
    point_type: PointType

    @property
    def special_cause(self) -> bool:
        return self.point_type is not PointType.COMMON_CAUSE


@dataclass(frozen=True)
class SpcResult:
    options: SpcOptions
    points: tuple[SpcPoint, ...]
    groups: tuple[SpcGroup, ...]
    variation: Variation
    assurance: Assurance | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def last_group(self) -> SpcGroup:
        return self.groups[-1]


def xmr(values: Sequence[float], labels: Sequence[str] | None = None, options: SpcOptions | None = None) -> SpcResult:
    """An XmR chart of ``values`` in time order (no gaps), labelled by ``labels`` (e.g. months)."""
    opts = options or SpcOptions()
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("values must be a non-empty sequence of numbers")
    if not np.all(np.isfinite(y)):
        raise ValueError("values must be finite numbers, with no gaps (NHSRplotthedots: no gaps in the series)")
    names = [str(i + 1) for i in range(y.size)] if labels is None else [str(label) for label in labels]
    if len(names) != y.size:
        raise ValueError("labels and values differ in length")
    if len(set(names)) != len(names):
        raise ValueError("labels must be unique")
    unknown = [label for label in opts.rebase if label not in names]
    if unknown:
        raise ValueError(f"rebase points not in the series: {', '.join(unknown)}")
    starts = sorted({0, *(names.index(label) for label in opts.rebase)})
    bounds = list(zip(starts, [*starts[1:], y.size], strict=True))

    groups: list[SpcGroup] = []
    points: list[SpcPoint] = []
    for number, (start, end) in enumerate(bounds):
        group = _limits(y[start:end], number, start, opts)
        groups.append(group)
        points += _classify(y[start:end], names[start:end], group, opts)
    warnings: list[str] = []
    short = [g for g in groups if g.short]
    if short:
        warnings.append(
            f"{len(short)} group(s) have fewer than {opts.warning_threshold} points: their limits are trial "
            "limits, to be revised with each new point."
        )
    return SpcResult(
        options=opts,
        points=tuple(points),
        groups=tuple(groups),
        variation=_variation(points[-1], opts.improvement),
        assurance=_assurance(groups[-1], opts),
        warnings=tuple(warnings),
    )


def _limits(y: np.ndarray, number: int, start: int, opts: SpcOptions) -> SpcGroup:
    base = y[: opts.fix_after_n_points] if opts.fix_after_n_points else y
    mean = float(base.mean())
    mr = np.abs(np.diff(base))
    amr = float(mr.mean()) if mr.size else 0.0
    if opts.screen_outliers and amr > 0:
        kept = mr[mr < SCREEN * amr]
        amr = float(kept.mean())
    return SpcGroup(
        index=number,
        start=start,
        end=start + y.size,
        baseline_points=int(base.size),
        mean=mean,
        mean_moving_range=amr,
        lower_limit=mean - LIMIT * amr,
        upper_limit=mean + LIMIT * amr,
        lower_near=mean - NEAR * amr,
        upper_near=mean + NEAR * amr,
        short=y.size < opts.warning_threshold,
    )


def runs_on_one_side(relative: Sequence[int], length: int) -> list[bool]:
    """Points that are part of ``length`` or more consecutive points on the same side of the mean."""
    ends = [
        i >= length - 1 and relative[i] != 0 and all(relative[i - k] == relative[i] for k in range(1, length))
        for i in range(len(relative))
    ]
    return _part_of(ends, length)


def trends(y: Sequence[float], length: int) -> list[int]:
    """+1 / -1 where a point ends ``length`` points each strictly higher / lower than the last, else 0."""
    found = []
    for i in range(len(y)):
        if i < length - 1:
            found.append(0)
            continue
        steps = [float(np.sign(y[j] - y[j - 1])) for j in range(i - length + 2, i + 1)]
        found.append(1 if all(s == 1 for s in steps) else -1 if all(s == -1 for s in steps) else 0)
    return found


def _part_of(ends: Sequence[bool], length: int) -> list[bool]:
    """NHSRplotthedots' ``ptd_part_of_seven_trend``: a point is part of a run if a run ends at it or within the
    next ``length - 1`` points."""
    return [any(ends[i : i + length]) for i in range(len(ends))]


def two_in_three(close: Sequence[bool], relative: Sequence[int]) -> list[bool]:
    """Points near a limit that are two (or three) of three consecutive points on the same side of the mean beyond
    the near limit (NHSRplotthedots' ``ptd_two_in_three`` and ``ptd_part_of_two_in_three``)."""
    n = len(close)
    c = [0, 0, *(int(v) for v in close), 0, 0]
    r = [0, 0, *relative, 0, 0]
    flagged = []
    for i in range(n):
        windows = (range(i, i + 3), range(i + 1, i + 4), range(i + 2, i + 5))
        hit = any(sum(c[j] for j in w) >= 2 and abs(sum(r[j] for j in w)) == 3 for w in windows)
        flagged.append(hit and bool(close[i]))
    return flagged


def _classify(y: np.ndarray, names: Sequence[str], group: SpcGroup, opts: SpcOptions) -> list[SpcPoint]:
    values = [float(v) for v in y]
    relative = [int(np.sign(v - group.mean)) for v in values]
    outside = [v > group.upper_limit or v < group.lower_limit for v in values]
    close = [not o and (v < group.lower_near or v > group.upper_near) for v, o in zip(values, outside, strict=True)]
    trend_ends = trends(values, opts.trend_length)
    in_trend = _part_of([t != 0 for t in trend_ends], opts.trend_length)
    in_shift = runs_on_one_side(relative, opts.shift_length)
    in_two = two_in_three(close, relative)
    steps = [int(np.sign(b - a)) for a, b in itertools.pairwise(values)]
    points = []
    for i, value in enumerate(values):
        rules = tuple(
            rule
            for rule, hit in (
                (Rule.OUTSIDE_LIMITS, outside[i]),
                (Rule.TREND, in_trend[i]),
                (Rule.TWO_IN_THREE, in_two[i]),
                (Rule.SHIFT, in_shift[i]),
            )
            if hit
        )
        rule = rules[0] if rules else None
        if rule is Rule.TREND:
            # NHSRplotthedots: a point in a trend with the next point in one too takes the step to the right
            right = i + 1 < len(values) and in_trend[i + 1]
            side = (steps[i] if i < len(steps) else steps[-1]) if right else (steps[i - 1] if i > 0 else 0)
        elif rule is None:
            side = 0
        else:
            side = relative[i]
        points.append(
            SpcPoint(
                index=group.start + i,
                label=names[i],
                value=value,
                group=group.index,
                mean=group.mean,
                lower_limit=group.lower_limit,
                upper_limit=group.upper_limit,
                relative_to_mean=relative[i],
                outside_limits=outside[i],
                close_to_limits=close[i],
                rules=rules,
                rule=rule,
                side=side,
                point_type=_point_type(side, opts.improvement),
            )
        )
    return points


def _point_type(side: int, improvement: Direction) -> PointType:
    if side == 0:
        return PointType.COMMON_CAUSE
    if improvement is Direction.NEUTRAL:
        return PointType.NEUTRAL_HIGH if side > 0 else PointType.NEUTRAL_LOW
    return PointType.IMPROVEMENT if side * improvement.sign > 0 else PointType.CONCERN


def _variation(last: SpcPoint, improvement: Direction) -> Variation:
    up = improvement is Direction.INCREASE
    return {
        PointType.COMMON_CAUSE: Variation.COMMON_CAUSE,
        PointType.NEUTRAL_HIGH: Variation.NEUTRAL_HIGH,
        PointType.NEUTRAL_LOW: Variation.NEUTRAL_LOW,
        PointType.IMPROVEMENT: Variation.IMPROVEMENT_HIGH if up else Variation.IMPROVEMENT_LOW,
        PointType.CONCERN: Variation.CONCERN_LOW if up else Variation.CONCERN_HIGH,
    }[last.point_type]


def _assurance(group: SpcGroup, opts: SpcOptions) -> Assurance | None:
    if opts.target is None or opts.improvement is Direction.NEUTRAL:
        return None
    up = opts.improvement is Direction.INCREASE
    if opts.target > group.upper_limit:
        return Assurance.CONSISTENT_FAIL if up else Assurance.CONSISTENT_PASS
    if opts.target < group.lower_limit:
        return Assurance.CONSISTENT_PASS if up else Assurance.CONSISTENT_FAIL
    return Assurance.HIT_AND_MISS


def summary(result: SpcResult) -> dict[str, object]:
    """A plain dictionary for JSON output."""
    return {
        "options": {
            "improvement": str(result.options.improvement),
            "target": result.options.target,
            "shift_length": result.options.shift_length,
            "trend_length": result.options.trend_length,
            "screen_outliers": result.options.screen_outliers,
            "fix_after_n_points": result.options.fix_after_n_points,
            "rebase": list(result.options.rebase),
        },
        "variation": str(result.variation),
        "assurance": None if result.assurance is None else str(result.assurance),
        "warnings": list(result.warnings),
        "groups": [
            {
                "start": g.start,
                "points": g.points,
                "mean": g.mean,
                "lower_limit": g.lower_limit,
                "upper_limit": g.upper_limit,
                "short": g.short,
            }
            for g in result.groups
        ],
        "points": [
            {
                "label": p.label,
                "value": p.value,
                "mean": p.mean,
                "lower_limit": p.lower_limit,
                "upper_limit": p.upper_limit,
                "point_type": str(p.point_type),
                "rule": None if p.rule is None else str(p.rule),
            }
            for p in result.points
        ],
    }
