"""Backends: a process pool and Ray give the same results as evaluating in-process."""

from __future__ import annotations

import sys
import time

import pytest

import toy
from chip2chat.errors import Chip2ChatError
from chip2chat.explore.backends import call_point, run_local
from chip2chat.explore.evaluate import EVALUATORS
from chip2chat.explore.space import SweepSpec
from chip2chat.explore.store import ResultStore
from chip2chat.explore.sweep import run_sweep

SPEC = SweepSpec(evaluator="toy", base={"y": 0, "fail_at": 3}, grid={"x": [0, 1, 2, 3, 4, 5], "y": [1, 2]},
                 random={"samples": 2, "seed": 3, "params": {"z": {"low": 0.0, "high": 1.0}}},
                 objectives={"cost": "min", "speed": "max"})


def comparable(frame):
    return frame.drop(columns=["seconds"]).sort_values("key").reset_index(drop=True)


def test_call_point_turns_exceptions_and_bad_results_into_errors():
    assert call_point(toy.toy, {"x": 3, "y": 1, "fail_at": 3})[1] == "ValueError: x = 3 is out of range"
    result, error, seconds = call_point(lambda p: {"v": [1, 2]}, {})
    assert result is None and "flat numbers" in error and seconds >= 0


def test_process_pool_yields_every_point_once():
    points = SPEC.points()
    outcomes = [outcome for finished in run_local(toy.toy, points, workers=3) for outcome in finished]
    assert sorted(p["x"] + p["z"] for p, *_ in outcomes) == sorted(p["x"] + p["z"] for p in points)
    assert sum(err is not None for _, _, err, _ in outcomes) == 4  # x = 3 at 2 y values x 2 samples


def test_pool_and_in_process_sweeps_agree(tmp_path):
    serial = run_sweep(SPEC, tmp_path / "serial")
    pooled = run_sweep(SPEC, tmp_path / "pool", workers=3)
    assert len(serial) == 24
    assert comparable(serial).equals(comparable(pooled))


def test_ray_and_local_sweeps_agree(tmp_path):
    # Ray workers are fresh interpreters that import `toy` by module path: this also checks that
    # a local Ray hands them the driver's sys.path (tests/explore is on it, not installed)
    ray = pytest.importorskip("ray")
    local = run_sweep(SPEC, tmp_path / "local")
    start = time.perf_counter()
    remote = run_sweep(SPEC, tmp_path / "ray", backend="ray", num_cpus=2)
    assert time.perf_counter() - start < 30
    assert not ray.is_initialized()  # it started Ray, so it shut it down
    assert comparable(local).equals(comparable(remote))
    assert remote["pareto"].sum() == local["pareto"].sum() > 0


def test_ray_failure_outside_the_evaluator_stops_and_stores_nothing(tmp_path, monkeypatch):
    # an evaluator whose module the Ray workers cannot import: that is the setup's fault, not
    # the points', so no point may be stored as done (a rerun after the fix must compute them)
    pytest.importorskip("ray")
    (tmp_path / "hidden_eval.py").write_text("def hidden(point):\n    return {'v': point['x']}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import hidden_eval

    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    monkeypatch.setitem(EVALUATORS, "hidden", hidden_eval.hidden)
    spec = SweepSpec(evaluator="hidden", base={}, grid={"x": [1, 2, 3]})
    with pytest.raises(Chip2ChatError, match="Ray could not evaluate a point.*rerun to resume"):
        run_sweep(spec, tmp_path / "out", backend="ray", num_cpus=2)
    with ResultStore(tmp_path / "out") as store:
        assert store.done_keys() == set()
