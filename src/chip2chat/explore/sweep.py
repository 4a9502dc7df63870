"""Run a sweep: expand the spec, skip points already stored, evaluate the rest, store each at once.

    frame = run_sweep(load_sweep("sweep.yaml"), "out/hbm", backend="ray")

Kill it at any moment and run the same command again: finished points are read back from
`<out>/results.duckdb` and never computed twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.explore.backends import run_local, run_ray
from chip2chat.explore.evaluate import get_evaluator
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
    fn = get_evaluator(spec.evaluator)
    by_key = {}
    for point in spec.points():
        by_key.setdefault(point_key(point), point)  # two samples can land on the same point
    out = Path(out_dir)
    store = ResultStore(out)
    try:
        done = store.done_keys() & by_key.keys()
        todo = [p for k, p in by_key.items() if k not in done]
        if progress:
            progress(len(done), len(by_key))
        if backend == "vector":
            _run_vector(spec.evaluator, todo, store, done, len(by_key), progress)
        else:
            if backend == "ray":
                outcomes = run_ray(fn, todo, address=address, num_cpus=num_cpus)
            else:
                outcomes = run_local(fn, todo, workers=workers)
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


def _run_vector(evaluator: str, todo: list[dict], store: ResultStore, done: set, total: int, progress) -> None:
    """Evaluate in chunks with the evaluator's numpy form; each chunk is stored in one transaction."""
    import time

    from chip2chat.explore.chip import VECTOR_EVALUATORS

    if evaluator not in VECTOR_EVALUATORS:
        raise ConfigError("--backend", "backend", f"evaluator {evaluator!r} has no vectorised form; "
                                                   f"vectorised: {', '.join(VECTOR_EVALUATORS)}; use local or ray")
    many = VECTOR_EVALUATORS[evaluator]
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
