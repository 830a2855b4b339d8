"""SPC and funnel charts: accessible SVG to inline in a page, a table alternative, and PNG (matplotlib, Agg).

Each SVG has ``role="img"``, a ``<title>`` and a ``<desc>`` (what the chart shows and what it means, in words) and
is named by ``aria-labelledby``; every point carries its own ``<title>``. Colour is never the only signal: special
cause points are larger and shaped (triangles up / down for high / low), outliers are named on the chart, and the
table alternative (``spc_table`` / ``funnel_table``) says everything the picture does. Colours are Making Data
Count's (as in NHSRplotthedots): grey common cause, blue improvement, orange concern, purple neutral.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from safetynet.oversight.funnel import Flag, Funnel, curve
from safetynet.oversight.spc import ASSURANCE_TEXT, VARIATION_TEXT, PointType, SpcPoint, SpcResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {
    PointType.COMMON_CAUSE: "#7b7d7d",
    PointType.IMPROVEMENT: "#289de0",
    PointType.CONCERN: "#fab428",
    PointType.NEUTRAL_HIGH: "#361475",
    PointType.NEUTRAL_LOW: "#361475",
}
INK = "#212b32"  # NHS.UK text colour
GRID = "#d8dde0"
TARGET = "#de1b1b"
LIMIT95 = "#005eb8"
LIMIT998 = "#330072"
WIDTH, HEIGHT = 720, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 40, 56


@dataclass(frozen=True)
class ChartTable:
    """The table alternative to a chart."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_html(self) -> str:
        head = "".join(f'<th scope="col">{escape(c)}</th>' for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in self.rows)
        return (
            f'<table class="nhsuk-table"><caption class="nhsuk-table__caption">{escape(self.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def number(value: float, percent: bool = False) -> str:
    if percent:
        return f"{100 * value:.1f}%"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step + 1e-9) + 1)]


# --- SPC -------------------------------------------------------------------------------------------------------


def spc_description(result: SpcResult, title: str, unit: str = "") -> str:
    last = result.last_group
    special = [p for p in result.points if p.special_cause]
    parts = [
        f"{title}: {len(result.points)} points from {result.points[0].label} to {result.points[-1].label}.",
        f"Mean {number(last.mean)}{unit}, process limits {number(last.lower_limit)}{unit} to "
        f"{number(last.upper_limit)}{unit}"
        + (f" (from point {result.points[last.start].label})." if last.start else "."),
        f"Variation: {VARIATION_TEXT[result.variation]}.",
    ]
    if result.assurance is not None:
        parts.append(f"Assurance: {ASSURANCE_TEXT[result.assurance]} ({number(result.options.target or 0)}{unit}).")
    if special:
        parts.append(
            f"{len(special)} special-cause point(s): "
            + ", ".join(f"{p.label} ({point_words(p)})" for p in special[:8])
            + ("..." if len(special) > 8 else "")
            + "."
        )
    parts += list(result.warnings)
    return " ".join(parts)


def point_words(point: SpcPoint) -> str:
    """What a special-cause point shows, in words: "improvement", "concern", "neutral high"."""
    return point.point_type.value.removeprefix("special_cause_").replace("_", " ")


def spc_table(result: SpcResult, title: str) -> ChartTable:
    rows = tuple(
        (
            p.label,
            number(p.value),
            number(p.mean),
            number(p.lower_limit),
            number(p.upper_limit),
            "common cause" if p.rule is None else point_words(p),
            "" if p.rule is None else p.rule.value.replace("_", " "),
        )
        for p in result.points
    )
    return ChartTable(title, ("period", "value", "mean", "lower limit", "upper limit", "variation", "rule"), rows)


def spc_svg(result: SpcResult, *, title: str, unit: str = "", id_prefix: str = "spc") -> str:
    values = [p.value for p in result.points]
    bounds = [g.lower_limit for g in result.groups] + [g.upper_limit for g in result.groups] + values
    if result.options.target is not None:
        bounds.append(result.options.target)
    low, high = min(bounds), max(bounds)
    pad = (high - low) * 0.08 or 1.0
    low, high = low - pad, high + pad
    n = len(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + (plot_w * (i / (n - 1)) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    out = _svg_open(id_prefix, title, spc_description(result, title, unit))
    out += _y_axis(_ticks(low, high), y, unit)
    step = max(1, math.ceil(n / 12))
    for i in range(0, n, step):
        out.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" font-size="11" text-anchor="middle" fill="{INK}">'
            f"{escape(result.points[i].label)}</text>"
        )
    for g in result.groups:
        x0, x1 = x(g.start), x(g.end - 1)
        out.append(_line(x0, y(g.mean), x1, y(g.mean), INK, 1.5, "", "mean"))
        out.append(_line(x0, y(g.upper_limit), x1, y(g.upper_limit), INK, 1, "6 4", "upper process limit"))
        out.append(_line(x0, y(g.lower_limit), x1, y(g.lower_limit), INK, 1, "6 4", "lower process limit"))
    if result.options.target is not None:
        t = result.options.target
        out.append(_line(x(0), y(t), x(n - 1), y(t), TARGET, 1.5, "2 3", f"target {number(t)}{unit}"))
    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    out.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[PointType.COMMON_CAUSE]}" stroke-width="1.5"/>')
    for i, p in enumerate(result.points):
        label = f"{p.label}: {number(p.value)}{unit}, " + (
            "common cause"
            if p.rule is None
            else f"{p.point_type.value.replace('_', ' ')} ({p.rule.value.replace('_', ' ')})"
        )
        out.append(_marker(x(i), y(p.value), p.point_type, p.side, label))
    out.append(
        f'<text x="{LEFT}" y="{HEIGHT - 12}" font-size="12" fill="{INK}">{escape(VARIATION_TEXT[result.variation])}'
        + (f"; {escape(ASSURANCE_TEXT[result.assurance])}" if result.assurance else "")
        + "</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _marker(cx: float, cy: float, kind: PointType, side: int, label: str) -> str:
    colour = COLOURS[kind]
    tip = f"<title>{escape(label)}</title>"
    if kind is PointType.COMMON_CAUSE:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}">{tip}</circle>'
    r = 6.0
    if side > 0:
        pts = f"{cx:.1f},{cy - r:.1f} {cx - r:.1f},{cy + r * 0.8:.1f} {cx + r:.1f},{cy + r * 0.8:.1f}"
    else:
        pts = f"{cx:.1f},{cy + r:.1f} {cx - r:.1f},{cy - r * 0.8:.1f} {cx + r:.1f},{cy - r * 0.8:.1f}"
    return f'<polygon points="{pts}" fill="{colour}" stroke="{INK}" stroke-width="0.75">{tip}</polygon>'


# --- funnel ----------------------------------------------------------------------------------------------------


def funnel_description(result: Funnel, title: str, percent: bool = True) -> str:
    high = [p.name for p in result.points if p.flag is Flag.HIGH_998]
    low = [p.name for p in result.points if p.flag is Flag.LOW_998]
    parts = [
        f"{title}: {len(result.points)} units plotted against their denominators; overall "
        f"{number(result.target, percent)}.",
        "Limits at 95% and 99.8% around the overall figure"
        + (
            f", widened for overdispersion (phi {result.phi:.2f}, tau squared {result.tau2:.5f})."
            if result.adjusted
            else f" (no overdispersion adjustment: phi {result.phi:.2f})."
        ),
        f"Above the 99.8% limit: {', '.join(high) or 'none'}. Below it: {', '.join(low) or 'none'}.",
    ]
    return " ".join(parts)


def funnel_table(result: Funnel, title: str, percent: bool = True) -> ChartTable:
    rows = tuple(
        (
            p.unit.label or p.name,
            number(p.unit.numerator),
            number(p.unit.denominator),
            number(p.proportion, percent),
            f"{number(p.limits.lower95, percent)} to {number(p.limits.upper95, percent)}",
            f"{number(p.limits.lower998, percent)} to {number(p.limits.upper998, percent)}",
            p.flag.value,
        )
        for p in sorted(result.points, key=lambda q: q.proportion)
    )
    columns = ("unit", "numerator", "denominator", "proportion", "95% limits", "99.8% limits", "position")
    return ChartTable(title, columns, rows)


def funnel_svg(
    result: Funnel, *, title: str, x_label: str = "denominator", percent: bool = True, id_prefix: str = "funnel"
) -> str:
    dens = [p.unit.denominator for p in result.points]
    x_low, x_high = max(1.0, min(dens) * 0.8), max(dens) * 1.1
    xs, lims = curve(result, x_low, x_high, 120)
    props = [p.proportion for p in result.points]
    y_low = max(0.0, min([*props, *(lim.lower998 for lim in lims[len(lims) // 8 :])]) - 0.02)
    y_high = min(1.0, max([*props, *(lim.upper998 for lim in lims[len(lims) // 8 :])]) + 0.02)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    log_low, log_high = math.log10(x_low), math.log10(x_high)

    def x(v: float) -> float:
        return LEFT + plot_w * (math.log10(v) - log_low) / (log_high - log_low or 1)

    def y(v: float) -> float:
        clamped = min(max(v, y_low), y_high)
        return TOP + plot_h * (1 - (clamped - y_low) / (y_high - y_low or 1))

    out = _svg_open(id_prefix, title, funnel_description(result, title, percent))
    out += _y_axis(_ticks(y_low, y_high), y, "", percent)
    for t in [10**k for k in range(math.floor(log_low), math.ceil(log_high) + 1)] + [
        m * 10**k for k in range(math.floor(log_low), math.ceil(log_high) + 1) for m in (2, 5)
    ]:
        if x_low <= t <= x_high:
            out.append(
                f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 18}" font-size="11" text-anchor="middle" '
                f'fill="{INK}">{number(t)}</text>'
            )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - BOTTOM + 36}" font-size="12" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)} (log scale)</text>'
    )
    out.append(_line(LEFT, y(result.target), WIDTH - RIGHT, y(result.target), INK, 1.5, "", "overall"))
    for name, colour, dash in (
        ("lower95", LIMIT95, "6 4"),
        ("upper95", LIMIT95, "6 4"),
        ("lower998", LIMIT998, ""),
        ("upper998", LIMIT998, ""),
    ):
        pts = " ".join(f"{x(float(v)):.1f},{y(getattr(lim, name)):.1f}" for v, lim in zip(xs, lims, strict=True))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.25"{dash_attr}>'
            f"<title>{'95%' if '95' in name else '99.8%'} limit</title></polyline>"
        )
    for p in result.points:
        outlier = p.flag in (Flag.HIGH_998, Flag.LOW_998)
        kind = PointType.CONCERN if outlier else PointType.COMMON_CAUSE
        side = 1 if p.flag is Flag.HIGH_998 else -1
        label = (
            f"{p.unit.label or p.name}: {number(p.unit.numerator)} of {number(p.unit.denominator)} = "
            f"{number(p.proportion, percent)} ({p.flag.value})"
        )
        out.append(_marker(x(p.unit.denominator), y(p.proportion), kind, side, label))
        if outlier:
            out.append(
                f'<text x="{x(p.unit.denominator) + 8:.1f}" y="{y(p.proportion) + 4:.1f}" font-size="11" '
                f'fill="{INK}">{escape(p.name)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


# --- SVG pieces ------------------------------------------------------------------------------------------------


def _svg_open(id_prefix: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="sn-chart" font-family="Arial, sans-serif">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="{INK}">{escape(title)}</text>',
    ]


def _y_axis(ticks: Sequence[float], y: object, unit: str, percent: bool = False) -> list[str]:
    assert callable(y)
    out = []
    for t in ticks:
        yy = y(t)
        out.append(
            f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" fill="{INK}">'
            f"{escape(number(t, percent) + unit)}</text>"
        )
    return out


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float, dash: str, label: str) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="{width}"'
        f"{dash_attr}><title>{escape(label)}</title></line>"
    )


# --- PNG (matplotlib, Agg) -------------------------------------------------------------------------------------


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 5.2), dpi=120)
    FigureCanvasAgg(figure)
    return figure


def spc_png(result: SpcResult, path: Path, *, title: str, unit: str = "") -> None:
    figure = _figure()
    ax = figure.add_subplot(1, 1, 1)
    xs = list(range(len(result.points)))
    ax.plot(xs, [p.value for p in result.points], color=COLOURS[PointType.COMMON_CAUSE], linewidth=1.5, zorder=1)
    for g in result.groups:
        span = [g.start, g.end - 1]
        ax.plot(span, [g.mean] * 2, color=INK, linewidth=1.5, label="mean" if g.index == 0 else None)
        ax.plot(
            span,
            [g.upper_limit] * 2,
            color=INK,
            linewidth=1,
            linestyle="--",
            label="process limits" if g.index == 0 else None,
        )
        ax.plot(span, [g.lower_limit] * 2, color=INK, linewidth=1, linestyle="--")
    if result.options.target is not None:
        ax.axhline(result.options.target, color=TARGET, linestyle=":", linewidth=1.5, label="target")
    for kind, text in (
        (PointType.COMMON_CAUSE, "common cause"),
        (PointType.IMPROVEMENT, "improvement"),
        (PointType.CONCERN, "concern"),
        (PointType.NEUTRAL_HIGH, "neutral"),
        (PointType.NEUTRAL_LOW, None),
    ):
        chosen = [(i, p) for i, p in enumerate(result.points) if p.point_type is kind]
        if not chosen:
            continue
        for side, marker in ((1, "^"), (-1, "v"), (0, "o")):
            some = [(i, p.value) for i, p in chosen if (p.side > 0) - (p.side < 0) == side]
            if some:
                ax.scatter(
                    [i for i, _ in some],
                    [v for _, v in some],
                    color=COLOURS[kind],
                    marker=marker,
                    s=25 if kind is PointType.COMMON_CAUSE else 70,
                    edgecolors=INK if kind is not PointType.COMMON_CAUSE else "none",
                    linewidths=0.6,
                    zorder=3,
                    label=text,
                )
                text = None
    step = max(1, math.ceil(len(xs) / 12))
    ax.set_xticks(xs[::step], [result.points[i].label for i in xs[::step]], rotation=0, fontsize=9)
    ax.set_ylabel(unit.strip() or "value")
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold", color=INK)
    subtitle = VARIATION_TEXT[result.variation] + (f"; {ASSURANCE_TEXT[result.assurance]}" if result.assurance else "")
    ax.text(0, -0.14, subtitle, transform=ax.transAxes, fontsize=10, color=INK)
    ax.grid(axis="y", color=GRID)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
    figure.tight_layout()
    figure.savefig(path, format="png")


def funnel_png(result: Funnel, path: Path, *, title: str, x_label: str = "denominator", percent: bool = True) -> None:
    figure = _figure()
    ax = figure.add_subplot(1, 1, 1)
    dens = [p.unit.denominator for p in result.points]
    xs, lims = curve(result, max(1.0, min(dens) * 0.8), max(dens) * 1.1, 200)
    scale = 100 if percent else 1
    ax.axhline(result.target * scale, color=INK, linewidth=1.5, label=f"overall {number(result.target, percent)}")
    for name, colour, style, text in (
        ("lower95", LIMIT95, "--", "95% limits"),
        ("upper95", LIMIT95, "--", None),
        ("lower998", LIMIT998, "-", "99.8% limits"),
        ("upper998", LIMIT998, "-", None),
    ):
        ax.plot(
            xs, [getattr(lim, name) * scale for lim in lims], color=colour, linestyle=style, linewidth=1.2, label=text
        )
    inside = [p for p in result.points if p.flag not in (Flag.HIGH_998, Flag.LOW_998)]
    outside = [p for p in result.points if p.flag in (Flag.HIGH_998, Flag.LOW_998)]
    ax.scatter(
        [p.unit.denominator for p in inside],
        [p.proportion * scale for p in inside],
        s=22,
        color=COLOURS[PointType.COMMON_CAUSE],
        zorder=3,
        label="within 99.8%",
    )
    for p in outside:
        marker = "^" if p.flag is Flag.HIGH_998 else "v"
        ax.scatter(
            [p.unit.denominator],
            [p.proportion * scale],
            s=70,
            marker=marker,
            color=COLOURS[PointType.CONCERN],
            edgecolors=INK,
            linewidths=0.6,
            zorder=4,
        )
        ax.annotate(
            p.name,
            (p.unit.denominator, p.proportion * scale),
            xytext=(6, 2),
            textcoords="offset points",
            fontsize=9,
            color=INK,
        )
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(f"{x_label} (log scale)")
    ax.set_ylabel("per cent" if percent else "proportion")
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold", color=INK)
    adjusted = (
        f"overdispersion allowed for (phi {result.phi:.2f})"
        if result.adjusted
        else f"no overdispersion adjustment (phi {result.phi:.2f})"
    )
    ax.text(
        0,
        -0.16,
        f"{len(result.points)} units; {adjusted}; outliers beyond 99.8% named",
        transform=ax.transAxes,
        fontsize=10,
        color=INK,
    )
    ax.grid(color=GRID)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    figure.tight_layout()
    figure.savefig(path, format="png")


def write_chart(path: Path, svg: str, png: object) -> None:
    """Write ``svg`` to a .svg path, or call ``png(path)`` for a .png one."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(svg + "\n", encoding="utf-8")
    elif suffix == ".png":
        assert callable(png)
        png(path)
    else:
        raise ValueError(f"{path}: the chart must be a .png or .svg file")
