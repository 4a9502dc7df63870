"""Run a sweep: expand the spec, skip points already stored, evaluate the rest, store each at once.

    frame = run_sweep(load_sweep("sweep.yaml"), "out/hbm", backend="ray")

Kill it at any moment and run the same command again: finished points are read back from
`<out>/results.duckdb` and never computed twice. Before any work the evaluator's check (if it has
one) reads the first point, so a misspelt field stops the sweep with one line naming it.

The points stay columns (a PointTable) from expansion to the returned frame: hashed in bulk, and
with the `vector` backend evaluated, stored and read back a chunk of columns at a time.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.explore.backends import run_local, run_ray
from chip2chat.explore.evaluate import Results, get_check, get_evaluator, get_vector_evaluator
from chip2chat.explore.pareto import pareto_front, plot_pareto
from chip2chat.explore.space import PointTable, SweepSpec, hex_keys
from chip2chat.explore.store import ResultStore, joined

BACKENDS = ("local", "ray", "vector")
VECTOR_CHUNK = 122_880
"""Points evaluated and stored together by the vector backend: a killed sweep loses at most these
(about a second of work). DuckDB's row group: a chunk is written straight to the database file
as a whole row group, not through the write-ahead log, which halves the cost of storing it."""


def run_sweep(spec: SweepSpec, out_dir: str | Path, backend: str = "local", address: str | None = None,
              workers: int = 1, num_cpus: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Evaluate every point of `spec` not yet in `<out_dir>`'s store; return all of its rows.

    The frame has one row per point of this spec (see ResultStore.frame) and, when the spec has
    objectives, a boolean `pareto` column. With two or more objectives `<out_dir>/pareto.png`
    plots the first two.
    """
    if backend not in BACKENDS:
        raise ConfigError("--backend", "backend", f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError("--workers", "workers", f"expected a whole number of processes >= 1, got {workers!r}")
    fn = get_evaluator(spec.evaluator)
    many = get_vector_evaluator(spec.evaluator) if backend == "vector" else None
    table = spec.table()
    keys = table.keys()
    _, first = np.unique(keys, return_index=True)  # two samples can land on the same point: keep the first
    first.sort()
    table, keys = table.take(first), keys[first]
    check = get_check(spec.evaluator)
    if check is not None and len(table):
        check(table[0])
    out = Path(out_dir)
    store = ResultStore(out)
    try:
        todo = np.flatnonzero(~np.isin(keys, store.stored_keys()))
        done = len(keys) - len(todo)
        if progress:
            progress(done, len(keys))
        if backend == "vector":
            _run_vector(many, table, keys, todo, store, done, progress)
        else:
            at: dict[int, int] = {}  # id of a point handed to the backend -> its row in the table
            points = _handed_out(table, todo, at)
            outcomes = (run_ray(fn, points, address=address, num_cpus=num_cpus) if backend == "ray"
                        else run_local(fn, points, workers=workers))
            _store_as_finished(outcomes, at, table, keys, store, done, progress)
        results = store.results()
    finally:
        store.close()
    frame = _frame(table, keys, results)
    if spec.objectives:
        frame["pareto"] = _front(frame, spec.objectives)
        if len(spec.objectives) >= 2 and frame["pareto"].any():
            plot_pareto(frame, spec.objectives, out / "pareto.png", frame["pareto"])
    return frame


def _frame(table: PointTable, keys: np.ndarray, results: pd.DataFrame) -> pd.DataFrame:
    """The stored rows of the points of `table` (whose keys are `keys`), in the order they finished,
    with the points' columns (from the table: the same values the store holds)."""
    at = pd.Index(keys).get_indexer(results["key"].to_numpy())
    mine = at >= 0
    results = results[mine]
    return joined(hex_keys(results["key"].to_numpy()), table.take(at[mine]).frame(), results)


class SweepFailed(Chip2ChatError):
    """Every point of a sweep ended in an error: nothing to compare (exit code 1, as a plan that
    does not fit)."""

    exit_code = 1


def require_a_result(frame: pd.DataFrame) -> None:
    """Raise SweepFailed with the count and the first error when no point of `frame` succeeded."""
    if len(frame) and frame["error"].notna().all():
        raise SweepFailed(f"all {len(frame):,} points of the sweep failed; the first: {frame['error'].iloc[0]}")


def _handed_out(table: PointTable, todo: np.ndarray, at: dict[int, int]) -> Iterator[dict]:
    """The points at `todo` as dicts, each noted in `at` (by id: a backend yields the same object
    back) until it comes back."""
    for i in todo.tolist():
        point = table[i]
        at[id(point)] = i
        yield point


def _store_as_finished(outcomes: Iterator[list], at: dict[int, int], table: PointTable, keys: np.ndarray,
                       store: ResultStore, done: int, progress) -> None:
    """Store each list of points a backend yields (those that finished together) in one insert."""
    with closing(outcomes):  # on Ctrl-C too: the backend stops its workers at once
        for finished in outcomes:
            index = np.array([at.pop(id(point)) for point, *_ in finished], dtype=np.intp)
            results = Results.of([(result, error) for _, result, error, _ in finished], len(index))
            store.add_table(keys[index], table.take(index), results, [seconds for *_, seconds in finished])
            done += len(index)
            if progress:
                progress(done, len(keys))


def _run_vector(many: Callable, table: PointTable, keys: np.ndarray, todo: np.ndarray, store: ResultStore,
                done: int, progress) -> None:
    """Evaluate in chunks with the evaluator's numpy form; each chunk is stored in one transaction."""
    import time

    for start in range(0, len(todo), VECTOR_CHUNK):
        index = todo[start:start + VECTOR_CHUNK]
        chunk = table.take(index)
        began = time.perf_counter()
        results = Results.of(many(chunk), len(chunk))
        store.add_table(keys[index], chunk, results, (time.perf_counter() - began) / len(chunk))
        done += len(index)
        if progress:
            progress(done, len(keys))


def _front(frame: pd.DataFrame, objectives: dict[str, str]) -> pd.Series:
    """The Pareto mask; all False when no point succeeded (so no result columns exist yet)."""
    missing = [name for name in objectives if name not in frame.columns]
    if missing and frame["error"].notna().all():
        return pd.Series(False, index=frame.index)
    if missing:
        known = [c for c in frame.columns if c not in ("key", "error", "seconds")]
        raise Chip2ChatError(f"objective {missing[0]!r} is not a column of the results; columns: {', '.join(known)}")
    return pareto_front(frame, objectives)
