"""Disclosure control for every figure meant for publication (NHS England's HES/ECDS rule).

- Sub-national counts of 1 to 7 are shown as ``*`` (primary suppression); other sub-national counts are rounded to
  the nearest 5 (0 stays 0).
- Rates, proportions and means built on 1 to 7 people are withheld, and so is a rate whose numerator is
  suppressed (it would give the numerator back).
- National totals are shown as they are: neither suppressed nor rounded.
- Secondary suppression: in a table published with its totals, more cells are suppressed until no suppressed cell
  can be worked out from what is published. A table with its row and column totals is a set of linear constraints
  (each line sums to its total); the unknowns are the suppressed cells (and totals that are not published). Each
  cell lies on one row line and one column line, so the unknowns are the edges of a bipartite graph between lines,
  and an unknown is determined by the published figures exactly when its edge is a bridge of that graph (on no
  cycle). So: while some suppressed cell is a bridge, suppress the cheapest path of further cells (smallest counts
  first, never a national figure) that closes a cycle through it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

SUPPRESSED = "*"
SMALL = range(1, 8)  # 1 to 7


class DisclosureError(Exception):
    """The table cannot be protected (e.g. one sub-national row whose cells are national totals)."""


class Suppression(StrEnum):
    PRIMARY = "primary"  # a count of 1 to 7
    SECONDARY = "secondary"  # suppressed so a primary one cannot be worked out


def is_small(count: float) -> bool:
    return 1 <= count <= 7


def round5(count: float) -> int:
    """To the nearest 5, halves up (counts are whole numbers, so halves never occur)."""
    return int(5 * math.floor(count / 5 + 0.5))


def publish_count(count: float, *, national: bool = False) -> int | str:
    """One count as published: national exact; otherwise ``*`` for 1 to 7, else rounded to the nearest 5."""
    if national:
        return int(count)
    if is_small(count):
        return SUPPRESSED
    return round5(count)


def publish_rate(
    numerator: float,
    denominator: float,
    *,
    national: bool = False,
    scale: float = 100.0,
    decimals: int = 1,
    numerator_suppressed: bool | None = None,
) -> float | None:
    """A rate (a percentage by default) as published, or ``None`` when withheld: on 1 to 7 people, or when its
    numerator is suppressed (primary by default; pass ``numerator_suppressed`` for secondary). Computed from the
    unrounded counts."""
    if denominator <= 0:
        return None
    if not national:
        hidden = is_small(numerator) if numerator_suppressed is None else numerator_suppressed
        if is_small(denominator) or hidden:
            return None
    return round(scale * numerator / denominator, decimals)


@dataclass(frozen=True)
class Cell:
    count: int  # the true count: never published where suppressed
    published: int | str | None  # ``*`` when suppressed; None for a total that is not published at all
    suppression: Suppression | None = None
    national: bool = False

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None


@dataclass(frozen=True)
class ProtectedTable:
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    grand_total: Cell

    def published_rows(self) -> list[list[int | str | None]]:
        """Every row as published, with its total last; then the totals row."""
        rows: list[list[int | str | None]] = [
            [c.published for c in row] + [total.published]
            for row, total in zip(self.cells, self.row_totals, strict=True)
        ]
        rows.append([c.published for c in self.column_totals] + [self.grand_total.published])
        return rows

    def suppressed_cells(self) -> list[tuple[int, int]]:
        """Positions in the extended table (totals row and column last) of every suppressed figure."""
        grid = self.extended()
        return [(i, j) for i, row in enumerate(grid) for j, cell in enumerate(row) if cell.suppressed]

    def extended(self) -> list[list[Cell]]:
        grid = [[*row, total] for row, total in zip(self.cells, self.row_totals, strict=True)]
        grid.append([*self.column_totals, self.grand_total])
        return grid


def protect_table(
    counts: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    *,
    national_totals: bool = False,
    row_totals: bool = True,
    column_totals: bool = True,
) -> ProtectedTable:
    """Protect a table of sub-national counts (rows are e.g. providers, columns categories) published with its
    totals. ``national_totals``: the rows cover the whole country, so the column totals and the grand total are
    national figures, published exactly. ``row_totals`` / ``column_totals``: whether those totals are published
    (the grand total is published with either)."""
    m, n = len(counts), len(column_labels)
    if len(row_labels) != m or any(len(row) != n for row in counts):
        raise ValueError("the counts do not match the labels")
    if any(v < 0 or int(v) != v for row in counts for v in row):
        raise ValueError("counts must be whole numbers, at least 0")
    if m == 0 or n == 0:
        raise ValueError("an empty table")
    # the extended table: cells, row totals in column n, column totals in row m, the grand total at (m, n)
    value = [[int(v) for v in row] + [int(sum(row))] for row in counts]
    value.append([int(sum(counts[i][j] for i in range(m))) for j in range(n)] + [int(sum(map(sum, counts)))])
    grand_published = row_totals or column_totals

    def published(i: int, j: int) -> bool:
        if i == m and j == n:
            return grand_published
        if j == n:
            return row_totals
        if i == m:
            return column_totals
        return True

    def national(i: int, j: int) -> bool:
        return national_totals and i == m and published(i, j)

    suppression: dict[tuple[int, int], Suppression] = {
        (i, j): Suppression.PRIMARY
        for i in range(m + 1)
        for j in range(n + 1)
        if published(i, j) and not national(i, j) and is_small(value[i][j])
    }
    _secondary(value, suppression, published, national, m, n)

    def cell(i: int, j: int) -> Cell:
        how = suppression.get((i, j))
        shown: int | str | None
        if not published(i, j):
            shown = None
        elif how is not None:
            shown = SUPPRESSED
        else:
            shown = publish_count(value[i][j], national=national(i, j))
        return Cell(count=value[i][j], published=shown, suppression=how, national=national(i, j))

    return ProtectedTable(
        row_labels=tuple(row_labels),
        column_labels=tuple(column_labels),
        cells=tuple(tuple(cell(i, j) for j in range(n)) for i in range(m)),
        row_totals=tuple(cell(i, n) for i in range(m)),
        column_totals=tuple(cell(m, j) for j in range(n)),
        grand_total=cell(m, n),
    )


def protect_list(
    counts: Sequence[int], labels: Sequence[str], *, national_total: bool = False
) -> tuple[list[Cell], Cell]:
    """A list of sub-national counts published with its total (e.g. providers and England)."""
    table = protect_table([[c] for c in counts], labels, ["count"], national_totals=national_total, row_totals=False)
    return [row[0] for row in table.cells], table.column_totals[0]


# --- secondary suppression ------------------------------------------------------------------------------------


Grid = list[list[int]]
Test = Callable[[int, int], bool]


def _secondary(
    value: Grid, suppression: dict[tuple[int, int], Suppression], published: Test, national: Test, m: int, n: int
) -> None:
    """Add secondary suppressions until no unknown figure is a bridge of the line graph."""
    rows, cols = m + 1, n + 1

    def unknown(i: int, j: int) -> bool:
        return (i, j) in suppression or not published(i, j)

    while True:
        edges = [(i, j) for i in range(rows) for j in range(cols) if unknown(i, j)]
        bridges = [e for e in _bridges(edges, rows, cols) if e in suppression]
        if not bridges:
            return
        i, j = min(bridges, key=lambda e: (value[e[0]][e[1]], e))
        path = _cheapest_cycle_path(i, j, value, unknown, national, rows, cols)
        if path is None:
            raise DisclosureError(
                "cannot protect this table: a suppressed figure could always be worked out from the national totals"
            )
        for cell in path:
            if not unknown(*cell):
                suppression[cell] = Suppression.SECONDARY


def _bridges(edges: list[tuple[int, int]], rows: int, cols: int) -> set[tuple[int, int]]:
    """Tarjan's bridges of the bipartite graph: row-line nodes 0..rows-1, column-line nodes rows..rows+cols-1."""
    adjacency: dict[int, list[tuple[int, int]]] = {v: [] for v in range(rows + cols)}
    for k, (i, j) in enumerate(edges):
        adjacency[i].append((rows + j, k))
        adjacency[rows + j].append((i, k))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: set[tuple[int, int]] = set()
    counter = 0
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[int, int, int]] = [(root, -1, 0)]  # node, edge used to reach it, next neighbour index
        while stack:
            node, via, index = stack[-1]
            if index < len(adjacency[node]):
                stack[-1] = (node, via, index + 1)
                nxt, k = adjacency[node][index]
                if k == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, k, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.add(edges[via])
    return found


def _cheapest_cycle_path(
    i: int, j: int, value: Grid, unknown: Test, national: Test, rows: int, cols: int
) -> list[tuple[int, int]] | None:
    """The cheapest path of figures from row line i to column line j other than (i, j) itself: figures already
    unknown cost nothing, others their count plus one (fewer, smaller cells first); national figures are barred."""
    start, goal = i, rows + j
    best: dict[int, float] = {start: 0.0}
    back: dict[int, tuple[int, tuple[int, int]]] = {}
    queue: list[tuple[float, int]] = [(0.0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best.get(node, math.inf):
            continue
        neighbours: list[tuple[int, tuple[int, int]]] = (
            [(rows + c, (node, c)) for c in range(cols)]
            if node < rows
            else [(r, (r, node - rows)) for r in range(rows)]
        )
        for nxt, cell in neighbours:
            if cell == (i, j) or national(*cell):
                continue
            step = 0.0 if unknown(*cell) else value[cell[0]][cell[1]] + 1.0
            if cost + step < best.get(nxt, math.inf):
                best[nxt] = cost + step
                back[nxt] = (node, cell)
                heapq.heappush(queue, (cost + step, nxt))
    if goal not in best:
        return None
    path: list[tuple[int, int]] = []
    node = goal
    while node != start:
        node, cell = back[node]
        path.append(cell)
    return path
