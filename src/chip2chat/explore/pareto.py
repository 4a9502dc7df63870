"""Pareto fronts: the points no other point beats on every objective at once.

Point a dominates b when a is at least as good on every objective and strictly better on one.
Rows with a missing (NaN) objective, e.g. points that raised, are never on the front and
dominate nothing. Equal rows do not dominate each other, so all copies of a best point stay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chip2chat.errors import Chip2ChatError


def pareto_front(df: pd.DataFrame, objectives: dict[str, str]) -> pd.Series:
    """Boolean mask over `df`'s rows: True where the row is non-dominated.

    `objectives` maps a column to "min" or "max".
    """
    costs = _costs(df, objectives)
    mask = np.zeros(len(df), dtype=bool)
    finite = ~np.isnan(costs).any(axis=1)
    if finite.any():
        unique, inverse = _unique_rows(costs[finite])
        mask[finite] = _efficient(unique)[inverse]
    return pd.Series(mask, index=df.index, name="pareto")


def _costs(df: pd.DataFrame, objectives: dict[str, str]) -> np.ndarray:
    """Objective columns as floats, negated where bigger is better, so every column is minimised."""
    if not objectives:
        raise Chip2ChatError("a Pareto front needs at least one objective")
    columns = []
    for name, sense in objectives.items():
        if name not in df.columns:
            raise Chip2ChatError(f"objective {name!r} is not a result column (columns: {', '.join(map(str, df.columns))})")
        if sense not in ("min", "max"):
            raise Chip2ChatError(f"objective {name!r}: sense must be 'min' or 'max', not {sense!r}")
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        columns.append(values if sense == "min" else -values)
    return np.column_stack(columns) if columns else np.empty((len(df), 0))


def _unique_rows(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(costs, axis=0, return_inverse=True), by a lexicographic sort (several times faster)."""
    order = np.lexsort(costs.T[::-1])
    ordered = costs[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _efficient(costs: np.ndarray) -> np.ndarray:
    """Non-dominated mask of distinct rows in lexicographic order (minimisation)."""
    if costs.shape[1] == 2:
        # a row is beaten only by rows before it, and by one of them iff it is no better in the second
        # objective than all of them
        best_before = np.concatenate([[np.inf], np.minimum.accumulate(costs[:-1, 1])])
        return costs[:, 1] < best_before
    # drop each dominated row as soon as a front candidate beats it: the work grows with
    # (rows x front size), not rows squared
    keep = np.arange(len(costs))
    remaining = costs
    i = 0
    while i < len(remaining):
        better_somewhere = np.any(remaining < remaining[i], axis=1)
        better_somewhere[i] = True
        keep, remaining = keep[better_somewhere], remaining[better_somewhere]
        i = int(np.sum(better_somewhere[:i])) + 1
    mask = np.zeros(len(costs), dtype=bool)
    mask[keep] = True
    return mask


def plot_pareto(df: pd.DataFrame, objectives: dict[str, str], path: str | Path, front: pd.Series | None = None) -> None:
    """PNG scatter of the first two objectives, the front (`front`, or pareto_front's) highlighted
    and joined by a line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    (x, x_sense), (y, y_sense) = list(objectives.items())[:2]
    front = pareto_front(df, objectives) if front is None else front
    fig = Figure(figsize=(6, 4.5), dpi=120)
    FigureCanvasAgg(fig)  # no pyplot: no global figure state shared between sweeps
    ax = fig.add_subplot()
    cloud_x, cloud_y = _thinned(pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float),
                                pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float))
    ax.plot(cloud_x, cloud_y, "o", ms=12**0.5, c="0.7", ls="none", label="points")
    on = df[front].sort_values(x)
    ax.plot(on[x], on[y], "o-", c="tab:red", ms=5, label="Pareto front")
    ax.set_xlabel(f"{x} ({x_sense})")
    ax.set_ylabel(f"{y} ({y_sense})")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(Path(path))


def _thinned(x: np.ndarray, y: np.ndarray, cells: tuple[int, int] = (360, 270)) -> tuple[np.ndarray, np.ndarray]:
    """The finite points, one per cell of a grid over them that is about 2 x 2 pixels of the plot:
    the others would be drawn on the same spot, under its marker (a million-point sweep draws in
    well under a second instead of a minute)."""
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if len(x) <= cells[0] * cells[1] // 10:
        return x, y
    column = ((x - x.min()) / (np.ptp(x) or 1.0) * (cells[0] - 1)).astype(np.int64)
    row = ((y - y.min()) / (np.ptp(y) or 1.0) * (cells[1] - 1)).astype(np.int64)
    _, keep = np.unique(column * cells[1] + row, return_index=True)
    keep.sort()
    return x[keep], y[keep]
