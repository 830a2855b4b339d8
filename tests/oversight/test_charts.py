"""SPC and funnel charts: accessible SVG (title, description, a title per point), the table alternative, and PNG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from safetynet.oversight import charts
from safetynet.oversight.funnel import Unit, funnel
from safetynet.oversight.spc import SpcOptions, xmr

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02", "2025-03"]
SERIES = [4, 4, 4, 4, 4, 1, 2, 3, 4, 5, 6, 7, 7.2, 6.8, 7.5]


def test_the_spc_svg_is_labelled_and_says_what_it_shows() -> None:
    result = xmr(SERIES, MONTHS, SpcOptions(target=6))
    svg = charts.spc_svg(result, title="Named key worker <test>", unit="%", id_prefix="kw")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "kw-title kw-desc"
    assert root.find(f"{SVG}title").text == "Named key worker <test>"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "15 points from 2024-01 to 2025-03" in desc
    assert "special cause variation: improvement (higher)" in desc
    assert "hit and miss" in desc
    points = [e for e in root.iter() if e.tag in (f"{SVG}circle", f"{SVG}polygon")]
    assert len(points) == len(SERIES)
    assert all(e.find(f"{SVG}title") is not None for e in points)
    assert "2024-06: 1%, special cause concern (outside limits)" in svg


def test_the_table_alternative_has_every_point() -> None:
    result = xmr(SERIES, MONTHS)
    table = charts.spc_table(result, "Named key worker")
    assert len(table.rows) == len(SERIES)
    assert table.rows[5][0] == "2024-06"
    assert table.rows[5][5] == "concern"
    assert table.rows[5][6] == "outside limits"
    html = table.to_html()
    assert html.count("<tr>") == len(SERIES) + 1
    assert "<caption" in html
    assert 'scope="col"' in html


UNITS = [
    Unit(f"T{i}", n, d, f"Team {i}")
    for i, (n, d) in enumerate([(10, 100), (30, 120), (5, 90), (50, 400), (2, 60), (45, 150)])
]


def test_the_funnel_svg_names_the_outliers() -> None:
    result = funnel(UNITS, adjust=False)
    svg = charts.funnel_svg(result, title="DNA rate by team", x_label="appointments")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    outliers = [p.name for p in result.outliers()]
    assert outliers
    assert all(name in desc for name in outliers)
    labels = [e.text for e in root.iter(f"{SVG}text")]
    assert all(name in labels for name in outliers)
    table = charts.funnel_table(result, "DNA rate by team")
    assert len(table.rows) == len(UNITS)


def test_png_charts_are_written(tmp_path: Path) -> None:
    spc_path, funnel_path = tmp_path / "spc.png", tmp_path / "funnel.png"
    charts.spc_png(xmr(SERIES, MONTHS, SpcOptions(target=6)), spc_path, title="Named key worker", unit="%")
    charts.funnel_png(funnel(UNITS), funnel_path, title="DNA rate by team")
    for path in (spc_path, funnel_path):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        charts.write_chart(tmp_path / "x.jpg", "<svg/>", lambda p: None)
