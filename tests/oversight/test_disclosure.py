"""Disclosure control: primary suppression of 1 to 7, rounding to 5, rates withheld, national totals exact, and
secondary suppression that an attacker cannot undo from the published totals (property-tested).

The attacker is stronger than any real reader: it knows every published cell *unrounded* and every published total
exactly, then (1) subtracts along rows and columns for as long as some line has one unknown left, and (2) solves
the whole linear system (a suppressed cell is recoverable exactly when its unit vector lies in the row space of the
constraints on the unknowns). Neither may recover any suppressed figure.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.oversight.disclosure import (
    SUPPRESSED,
    DisclosureError,
    ProtectedTable,
    Suppression,
    protect_list,
    protect_table,
    publish_count,
    publish_rate,
    round5,
)


def test_counts_of_one_to_seven_are_stars_and_the_rest_rounded_to_five() -> None:
    assert [publish_count(n) for n in range(0, 14)] == [0, *["*"] * 7, 10, 10, 10, 10, 10, 15]
    assert publish_count(8, national=True) == 8
    assert publish_count(3, national=True) == 3
    assert [round5(n) for n in (22, 23, 27, 28, 100)] == [20, 25, 25, 30, 100]


def test_rates_on_one_to_seven_people_are_withheld() -> None:
    assert publish_rate(3, 7) is None
    assert publish_rate(3, 100) is None  # the numerator is suppressed, so the rate would give it back
    assert publish_rate(30, 100) == 30.0
    assert publish_rate(10, 100, numerator_suppressed=True) is None  # secondary suppression
    assert publish_rate(3, 7, national=True) == pytest.approx(42.9)
    assert publish_rate(0, 100) == 0.0
    assert publish_rate(0, 0) is None


def test_a_single_small_cell_takes_others_with_it() -> None:
    table = protect_table([[3, 20, 40], [12, 30, 25], [50, 9, 60]], ["a", "b", "c"], ["x", "y", "z"])
    primaries = [pos for pos in table.suppressed_cells() if _cell(table, pos).suppression is Suppression.PRIMARY]
    assert primaries == [(0, 0)]
    # no line may hold exactly one suppressed figure
    assert len(table.suppressed_cells()) >= 4
    _assert_safe(table)


def test_national_totals_are_exact_and_never_suppressed() -> None:
    table = protect_table([[3, 20], [12, 31], [50, 9]], ["a", "b", "c"], ["x", "y"], national_totals=True)
    assert [c.published for c in table.column_totals] == [65, 60]
    assert table.grand_total.published == 125
    assert not any(c.suppressed for c in (*table.column_totals, table.grand_total))
    assert [c.published for c in table.row_totals if not c.suppressed] == [
        round5(c.count) for c in table.row_totals if not c.suppressed
    ]
    _assert_safe(table)


def test_a_list_with_its_national_total() -> None:
    cells, total = protect_list([3, 40, 55, 100], ["a", "b", "c", "d"], national_total=True)
    assert total.published == 198
    assert total.national
    assert [c.published for c in cells] == [SUPPRESSED, SUPPRESSED, 55, 100]  # 40 is the smallest to hide 3 with
    assert [c.suppression for c in cells[:2]] == [Suppression.PRIMARY, Suppression.SECONDARY]


def test_one_row_under_national_totals_cannot_be_protected() -> None:
    with pytest.raises(DisclosureError):
        protect_table([[3, 20]], ["a"], ["x", "y"], national_totals=True)


# --- the attacker ---------------------------------------------------------------------------------------------


def _cell(table: ProtectedTable, position: tuple[int, int]):  # type: ignore[no-untyped-def]
    return table.extended()[position[0]][position[1]]


def _lines(table: ProtectedTable) -> list[list[tuple[int, int, int]]]:
    """Each row and column of the extended table as (i, j, sign): the cells minus the total sum to zero. A total
    that is not published is one more unknown."""
    grid = table.extended()
    m, n = len(grid) - 1, len(grid[0]) - 1
    lines = []
    for i in range(m + 1):
        lines.append([(i, j, 1) for j in range(n)] + [(i, n, -1)])
    for j in range(n + 1):
        lines.append([(i, j, 1) for i in range(m)] + [(m, j, -1)])
    return lines


def _recovered_by_subtraction(table: ProtectedTable) -> set[tuple[int, int]]:
    grid = table.extended()
    known = {
        (i, j): c.count
        for i, row in enumerate(grid)
        for j, c in enumerate(row)
        if c.published not in (None, SUPPRESSED)
    }
    hidden = {(i, j) for i, row in enumerate(grid) for j, c in enumerate(row) if (i, j) not in known}
    recovered: set[tuple[int, int]] = set()
    changed = True
    while changed:
        changed = False
        for line in _lines(table):
            missing = [(i, j, s) for i, j, s in line if (i, j) not in known]
            if len(missing) == 1:
                i, j, sign = missing[0]
                rest = sum(s * known[(a, b)] for a, b, s in line if (a, b) in known)
                known[(i, j)] = -rest * sign
                recovered.add((i, j))
                changed = True
    assert all(known[p] == grid[p[0]][p[1]].count for p in recovered)  # the attacker is right when it succeeds
    return recovered & hidden


def _recoverable_by_algebra(table: ProtectedTable) -> set[tuple[int, int]]:
    grid = table.extended()
    unknowns = [(i, j) for i, row in enumerate(grid) for j, c in enumerate(row) if c.published in (None, SUPPRESSED)]
    if not unknowns:
        return set()
    index = {p: k for k, p in enumerate(unknowns)}
    a = np.zeros((len(_lines(table)), len(unknowns)))
    for r, line in enumerate(_lines(table)):
        for i, j, sign in line:
            if (i, j) in index:
                a[r, index[(i, j)]] = sign
    rank = np.linalg.matrix_rank(a)
    found = set()
    for p, k in index.items():
        e = np.zeros(len(unknowns))
        e[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            found.add(p)
    return found


def _assert_safe(table: ProtectedTable) -> None:
    suppressed = set(table.suppressed_cells())
    assert not (_recovered_by_subtraction(table) & suppressed)
    assert not (_recoverable_by_algebra(table) & suppressed)


tables = st.integers(2, 6).flatmap(
    lambda m: st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(st.one_of(st.integers(0, 9), st.integers(0, 60)), min_size=n, max_size=n), min_size=m, max_size=m
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables, st.booleans(), st.booleans(), st.booleans())
def test_no_suppressed_figure_can_be_recovered_from_the_published_totals(
    counts: list[list[int]], national: bool, row_totals: bool, column_totals: bool
) -> None:
    rows = [f"r{i}" for i in range(len(counts))]
    columns = [f"c{j}" for j in range(len(counts[0]))]
    table = protect_table(
        counts, rows, columns, national_totals=national, row_totals=row_totals, column_totals=column_totals
    )
    _assert_safe(table)
    for row in table.extended():
        for cell in row:
            if cell.published is None:
                continue
            if cell.national:
                assert cell.published == cell.count
                assert not cell.suppressed
            elif 1 <= cell.count <= 7:
                assert cell.suppression is Suppression.PRIMARY
                assert cell.published == SUPPRESSED
            elif cell.suppressed:
                assert cell.suppression is Suppression.SECONDARY
                assert cell.published == SUPPRESSED
            else:
                assert cell.published == round5(cell.count)
                assert cell.published % 5 == 0


@settings(max_examples=100, deadline=None)
@given(tables)
def test_without_small_counts_nothing_is_suppressed(counts: list[list[int]]) -> None:
    counts = [[v + 10 if 1 <= v <= 7 else v for v in row] for row in counts]  # every total is then 0 or above 7
    columns = [f"c{j}" for j in range(len(counts[0]))]
    table = protect_table(counts, [f"r{i}" for i in range(len(counts))], columns, national_totals=True)
    assert table.suppressed_cells() == []
