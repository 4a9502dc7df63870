"""A stopped multi-worker sweep leaves no process behind and loses no finished point (issue 11).

The real `chip2chat sweep --workers 2` runs as a subprocess in its own process group, on a slow
evaluator (tests/explore/toy.py `slow`: 0.4 s for each of the first 4 points, then 30 s; each logs
its key when done). It is stopped while both workers are in the middle of a 30 s point. Ctrl-C
(SIGINT to the group, as a terminal sends it, or to the sweep alone) must end it within 5 s with
exit 130, without waiting for those points; SIGKILL of the sweep must take its workers with it
(they used to keep running). Either way a rerun (with short points) computes exactly the points
that were not stored, each once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from processes import HAS_PROC, default_sigint, descendants, running, wait_until

from chip2chat.explore.space import SweepSpec, point_key
from chip2chat.explore.store import ResultStore

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="reads child processes from /proc")

TOY = Path(__file__).parent / "explore"
STOP_WITHIN_S = 5.0
POINTS = 12


def _spec(tmp_path: Path) -> dict:
    return {"name": "slow", "evaluator": "toy:slow", "grid": {"x": list(range(POINTS))},
            "base": {"log": str(tmp_path / "calls.txt"), "sleep_s": 0.4, "long_from": 4, "long_sleep_s": 30.0}}


def _start(tmp_path: Path, short_points: bool = False) -> subprocess.Popen:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump(_spec(tmp_path)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TOY), os.environ.get("PYTHONPATH", "")])}
    if short_points:
        env["TOY_NO_LONG_SLEEP"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "chip2chat.cli", "sweep", str(spec), "--workers", "2", "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
        preexec_fn=default_sigint)


def _logged(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.txt"
    return log.read_text().split() if log.exists() else []


@pytest.fixture
def busy_sweep(tmp_path):
    """A running sweep whose 4 short points are done and whose workers are in the middle of long
    ones; the keys of the points finished (logged) before it is handed over."""
    proc = _start(tmp_path)
    try:
        assert wait_until(lambda: len(_logged(tmp_path)) >= 4 or proc.poll() is not None, 30.0)
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.3)  # the results of the logged points reach the sweep and are stored
        yield proc, set(_logged(tmp_path)), descendants(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _stop(proc: subprocess.Popen, how) -> float:
    start = time.monotonic()
    how(proc.pid)
    try:
        proc.wait(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_WITHIN_S} s after the signal")
    return time.monotonic() - start


def _assert_no_process_left(children: set[int]) -> None:
    assert len(children) >= 2, "the points did not run in a pool"
    assert wait_until(lambda: not any(running(pid) for pid in children), STOP_WITHIN_S), \
        f"left running: {[pid for pid in children if running(pid)]}"


def _assert_resumes_each_missing_point_once(tmp_path: Path, finished_before: set[str]) -> None:
    with ResultStore(tmp_path / "out") as store:
        stored = store.done_keys()
    assert finished_before <= stored, "a point finished before the stop was not kept"
    everything = {point_key(p) for p in SweepSpec(**_spec(tmp_path)).points()}
    logged_before = len(_logged(tmp_path))
    rerun = _start(tmp_path, short_points=True)
    assert rerun.wait(timeout=60) == 0, rerun.stderr.read()
    recomputed = _logged(tmp_path)[logged_before:]
    assert sorted(recomputed) == sorted(everything - stored)  # each missing point once, no stored one


@pytest.mark.parametrize("whole_group", [True, False], ids=["ctrl-c to the group", "sigint to the sweep"])
def test_ctrl_c_stops_the_sweep_and_its_workers_and_keeps_finished_points(tmp_path, busy_sweep, whole_group):
    proc, finished, children = busy_sweep
    seconds = _stop(proc, lambda pid: (os.killpg if whole_group else os.kill)(pid, signal.SIGINT))
    err = proc.stderr.read()
    assert proc.returncode == 130 and seconds < STOP_WITHIN_S, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), err  # no traceback, no progress bar
    _assert_no_process_left(children)
    _assert_resumes_each_missing_point_once(tmp_path, finished)


def test_sigkill_of_the_sweep_takes_its_workers_with_it(tmp_path, busy_sweep):
    # nothing runs in the sweep after SIGKILL: each worker notices its parent died (Linux's
    # parent-death signal; a watchdog thread elsewhere) and must not go on computing
    proc, finished, children = busy_sweep
    _stop(proc, lambda pid: os.kill(pid, signal.SIGKILL))
    assert proc.returncode == -signal.SIGKILL
    _assert_no_process_left(children)
    _assert_resumes_each_missing_point_once(tmp_path, finished)
