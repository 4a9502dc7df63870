"""run_sweep: resume after a kill without recomputing, errors stored, Pareto column and plot."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import toy  # noqa: F401  registers the "toy" evaluator
from chip2chat.errors import Chip2ChatError
from chip2chat.explore.progress import sweep_progress
from chip2chat.explore.space import SweepSpec
from chip2chat.explore.sweep import run_sweep

HERE = Path(__file__).parent

KILL_AFTER = """
import json, os, sys
sys.path.insert(0, {here!r})
import toy
from chip2chat.explore import SweepSpec, run_sweep

def die_after(done, total):
    if done >= {n}:
        os._exit(3)  # no cleanup at all, like kill -9 right after a point is stored

run_sweep(SweepSpec(**json.loads({spec!r})), {out!r}, progress=die_after)
"""


def toy_spec(log: Path, **kw) -> SweepSpec:
    return SweepSpec(evaluator="toy", base={"y": 1, "log": str(log)}, grid={"x": [0, 1, 2, 3], "y": [1, 2, 3]}, **kw)


def calls(log: Path) -> list[str]:
    return log.read_text().split()


def test_killed_sweep_resumes_and_computes_each_point_once(tmp_path):
    log, out = tmp_path / "calls.txt", tmp_path / "out"
    spec = toy_spec(log)
    script = KILL_AFTER.format(here=str(HERE), n=5, spec=spec.model_dump_json(), out=str(out))
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert killed.returncode == 3, killed.stderr
    assert len(calls(log)) == 5

    seen = []
    frame = run_sweep(spec, out, progress=lambda done, total: seen.append((done, total)))
    assert len(frame) == 12 and frame["key"].is_unique
    assert frame["error"].isna().all()
    # the 5 points finished before the kill were read back, not evaluated again
    assert len(calls(log)) == 12 and len(set(calls(log))) == 12
    assert seen[0] == (5, 12) and seen[-1] == (12, 12)

    # a third run has nothing left to do
    run_sweep(spec, out)
    assert len(calls(log)) == 12


KILL_AFTER_CHUNK = """
import json, os, sys
sys.path.insert(0, {here!r})
import toy
import chip2chat.explore.sweep as sweep
from chip2chat.explore import SweepSpec, run_sweep

sweep.VECTOR_CHUNK = 5

def die_after(done, total):
    if done >= 5:
        os._exit(3)  # killed right after the first chunk was stored

run_sweep(SweepSpec(**json.loads({spec!r})), {out!r}, backend="vector", progress=die_after)
"""


def test_killed_vector_sweep_resumes_and_computes_each_point_once(tmp_path):
    log, out = tmp_path / "calls.txt", tmp_path / "out"
    spec = toy_spec(log)
    script = KILL_AFTER_CHUNK.format(here=str(HERE), spec=spec.model_dump_json(), out=str(out))
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert killed.returncode == 3, killed.stderr
    assert len(calls(log)) == 5

    frame = run_sweep(spec, out, backend="vector")
    assert len(frame) == 12 and frame["key"].is_unique and frame["error"].isna().all()
    assert len(calls(log)) == 12 and len(set(calls(log))) == 12  # the stored chunk was not evaluated again
    assert set(calls(log)) == set(frame["key"])
    local = run_sweep(spec, tmp_path / "local")  # the same rows as point by point
    columns = ["key", "x", "y", "cost", "speed", "label", "error"]
    assert local[columns].sort_values("key").reset_index(drop=True).equals(
        frame[columns].sort_values("key").reset_index(drop=True))


def test_a_sweep_resumes_from_a_store_of_format_1(tmp_path):
    import duckdb

    from chip2chat.explore.space import point_key
    from toy import toy as evaluate

    log, out = tmp_path / "calls.txt", tmp_path / "out"
    spec = toy_spec(log)
    out.mkdir()
    con = duckdb.connect(str(out / "results.duckdb"))  # as chip2chat wrote it before store format 2
    con.execute("CREATE TABLE results (key TEXT PRIMARY KEY, point JSON, result JSON, error TEXT, seconds DOUBLE, "
                "finished_at DOUBLE)")
    for i, point in enumerate(spec.points()[:5]):
        con.execute("INSERT INTO results VALUES (?, ?, ?, NULL, 0.1, ?)",
                    [point_key(point), json.dumps(point), json.dumps(evaluate(point)), float(i)])
    con.close()
    before = len(calls(log))

    frame = run_sweep(spec, out)
    assert len(frame) == 12 and frame["error"].isna().all()
    assert len(calls(log)) - before == 7  # only the 7 points the old store did not hold


def test_evaluator_exception_is_stored_as_one_line_error_and_sweep_goes_on(tmp_path):
    spec = toy_spec(tmp_path / "calls.txt", objectives={"cost": "min", "speed": "max"})
    spec.base["fail_at"] = 2
    frame = run_sweep(spec, tmp_path / "out")
    failed = frame[frame["x"] == 2]
    assert len(frame) == 12 and len(failed) == 3
    assert (failed["error"] == "ValueError: x = 2 is out of range").all()
    assert frame[frame["x"] != 2]["error"].isna().all()
    assert not failed["pareto"].any()  # a failed point has no objectives to be good at


def test_objectives_give_a_pareto_column_and_a_plot(tmp_path):
    spec = toy_spec(tmp_path / "calls.txt", objectives={"cost": "min", "speed": "max"})
    frame = run_sweep(spec, tmp_path / "out")
    assert frame["pareto"].dtype == bool and frame["pareto"].any() and not frame["pareto"].all()
    # x = 0 has the lowest cost at every y, so no point with x > 0 and the same y can beat it
    assert frame[frame["x"] == 0]["pareto"].all()
    assert (tmp_path / "out" / "pareto.png").exists()


def test_misspelt_objective_names_the_columns(tmp_path):
    spec = toy_spec(tmp_path / "calls.txt", objectives={"costt": "min"})
    with pytest.raises(Chip2ChatError, match="'costt'.*cost"):
        run_sweep(spec, tmp_path / "out")


def test_unknown_evaluator_lists_known_ones(tmp_path):
    spec = SweepSpec(evaluator="nope", base={"x": 1})
    with pytest.raises(Chip2ChatError, match="unknown evaluator 'nope'.*toy"):
        run_sweep(spec, tmp_path / "out")


def test_progress_bar_shows_rate_and_eta(tmp_path):
    console = Console(file=io.StringIO(), force_terminal=False, width=120)
    with sweep_progress("toy", console=console) as update:
        run_sweep(toy_spec(tmp_path / "calls.txt"), tmp_path / "out", progress=update)
    text = console.file.getvalue()
    assert "12/12" in text and "pts/s" in text and "eta" in text


def test_spec_round_trips_through_json():
    # the kill test ships the spec to a subprocess as JSON; it must come back equal
    spec = toy_spec(Path("/tmp/x"), objectives={"cost": "min"})
    assert SweepSpec(**json.loads(spec.model_dump_json())) == spec
