"""Evaluators are found by name without importing anything first: EVALUATORS is a plain dict of
"module:function" strings, resolved when a sweep uses one (issue 11: the documented Python call
failed with 'unknown evaluator chip' unless the CLI had imported the chip module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import toy
from chip2chat.errors import Chip2ChatError
from chip2chat.explore.evaluate import CHECKS, EVALUATORS, VECTOR_EVALUATORS, get_evaluator, resolve
from chip2chat.explore.space import SweepSpec
from chip2chat.explore.sweep import run_sweep

ROOT = Path(__file__).parents[2]

DOCUMENTED_CALL = """
import sys
from chip2chat.explore import load_sweep, run_sweep
assert "chip2chat.explore.chip" not in sys.modules  # nothing registered it beforehand
frame = run_sweep(load_sweep("examples/sweep_hbm4.yaml"), sys.argv[1])
print(len(frame), int(frame["error"].isna().sum()))
"""


def test_documented_python_sweep_runs_in_a_fresh_interpreter(tmp_path):
    # a fresh interpreter, as a user's script: no CLI, no test module has imported anything
    p = subprocess.run([sys.executable, "-c", DOCUMENTED_CALL, str(tmp_path / "out")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    rows, ok = map(int, p.stdout.split())
    assert rows > 100 and ok > 0


def test_builtin_evaluators_are_strings_so_no_import_registers_them():
    for table in (EVALUATORS, CHECKS, VECTOR_EVALUATORS):
        for name in ("chip",):
            assert isinstance(table[name], str) and ":" in table[name], (name, table[name])
    assert "import chip2chat.explore.chip" not in "".join(p.read_text() for p in (ROOT / "src/chip2chat/cli").glob("*.py"))


def test_a_user_callable_and_a_module_function_path_both_work(tmp_path, monkeypatch):
    # users may still put their own callables in the dict, or name a function in the sweep
    monkeypatch.setitem(EVALUATORS, "mine", lambda p: {"v": p["x"] * 2})
    mine = run_sweep(SweepSpec(evaluator="mine", base={"x": 1}, grid={"x": [1, 2]}), tmp_path / "a")
    assert sorted(mine["v"]) == [2, 4]
    by_path = run_sweep(SweepSpec(evaluator="toy:toy", base={"y": 0}, grid={"x": [1, 2]}), tmp_path / "b")
    assert sorted(by_path["cost"]) == [1, 4]
    assert get_evaluator("toy:slow") is toy.slow


@pytest.mark.parametrize("ref, mention", [
    ("no_such_module_x:f", "cannot import module 'no_such_module_x'"),
    ("toy:no_such_function", "has no function 'no_such_function'"),
    ("toy:", "neither a callable nor 'module:function'"),
])
def test_an_unresolvable_evaluator_is_one_line(ref, mention):
    # the message names what could not be found, on one line, instead of an ImportError traceback
    with pytest.raises(Chip2ChatError, match=mention) as info:
        resolve(ref, "evaluator 'x'")
    assert "\n" not in str(info.value)
