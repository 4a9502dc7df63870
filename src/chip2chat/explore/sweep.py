"""Run a sweep: expand the spec, skip points already stored, evaluate the rest, store each at once.

    frame = run_sweep(load_sweep("sweep.yaml"), "out/hbm", backend="ray")

Kill it at any moment and run the same command again: finished points are read back from
`<out>/results.duckdb` and never computed twice. Before any work the evaluator's check (if it has
one) reads the first point, so a misspelt field stops the sweep with one line naming it.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Callable

import pandas as pd

from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.explore.backends import run_local, run_ray
from chip2chat.explore.evaluate import get_check, get_evaluator, get_vector_evaluator
from chip2chat.explore.pareto import pareto_front, plot_pareto
from chip2chat.explore.space import SweepSpec, point_key
from chip2chat.explore.store import ResultStore

BACKENDS = ("local", "ray", "vector")
VECTOR_CHUNK = 20_000  # points evaluated and stored together by the vector backend


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
    by_key = {}
    for point in spec.points():
        by_key.setdefault(point_key(point), point)  # two samples can land on the same point
    check = get_check(spec.evaluator)
    if check is not None and by_key:
        check(next(iter(by_key.values())))
    out = Path(out_dir)
    store = ResultStore(out)
    try:
        done = store.done_keys() & by_key.keys()
        todo = [p for k, p in by_key.items() if k not in done]
        if progress:
            progress(len(done), len(by_key))
        if backend == "vector":
            _run_vector(many, todo, store, done, len(by_key), progress)
        else:
            if backend == "ray":
                outcomes = run_ray(fn, todo, address=address, num_cpus=num_cpus)
            else:
                outcomes = run_local(fn, todo, workers=workers)
            with closing(outcomes):  # on Ctrl-C too: the backend stops its workers at once
                for point, result, error, seconds in outcomes:
                    store.add(point_key(point), point, result, error, seconds)
                    done.add(point_key(point))
                    if progress:
                        progress(len(done), len(by_key))
        frame = store.frame()
    finally:
        store.close()
    frame = frame[frame["key"].isin(by_key.keys())].reset_index(drop=True)
    if spec.objectives:
        frame["pareto"] = _front(frame, spec.objectives)
        if len(spec.objectives) >= 2 and frame["pareto"].any():
            plot_pareto(frame, spec.objectives, out / "pareto.png")
    return frame


class SweepFailed(Chip2ChatError):
    """Every point of a sweep ended in an error: nothing to compare (exit code 1, as a plan that
    does not fit)."""

    exit_code = 1


def require_a_result(frame: pd.DataFrame) -> None:
    """Raise SweepFailed with the count and the first error when no point of `frame` succeeded."""
    if len(frame) and frame["error"].notna().all():
        raise SweepFailed(f"all {len(frame):,} points of the sweep failed; the first: {frame['error'].iloc[0]}")


def _run_vector(many: Callable, todo: list[dict], store: ResultStore, done: set, total: int, progress) -> None:
    """Evaluate in chunks with the evaluator's numpy form; each chunk is stored in one transaction."""
    import time

    for start in range(0, len(todo), VECTOR_CHUNK):
        chunk = todo[start:start + VECTOR_CHUNK]
        began = time.perf_counter()
        outcomes = many(chunk)
        seconds = (time.perf_counter() - began) / len(chunk)
        keys = [point_key(p) for p in chunk]
        store.add_many([(k, p, r, e, seconds) for k, p, (r, e) in zip(keys, chunk, outcomes)])
        done.update(keys)
        if progress:
            progress(len(done), total)


def _front(frame: pd.DataFrame, objectives: dict[str, str]) -> pd.Series:
    """The Pareto mask; all False when no point succeeded (so no result columns exist yet)."""
    missing = [name for name in objectives if name not in frame.columns]
    if missing and frame["error"].notna().all():
        return pd.Series(False, index=frame.index)
    if missing:
        known = [c for c in frame.columns if c not in ("key", "error", "seconds")]
        raise Chip2ChatError(f"objective {missing[0]!r} is not a column of the results; columns: {', '.join(known)}")
    return pareto_front(frame, objectives)
