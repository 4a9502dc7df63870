"""Refactors keep the numbers: every validation prediction, the `simulate` metrics of the README
examples (one case per scheduler and cluster path) and the default plan's results.csv equal the
recorded reference to 1e-9 relative. scripts/record_reference.py writes the reference; re-record
only for a change meant to move numbers, and say why in the commit message.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"
RTOL = 1e-9


def _recorder():
    spec = importlib.util.spec_from_file_location("record_reference", ROOT / "scripts" / "record_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _same(recorded, now, where: str) -> None:
    if isinstance(recorded, float) or isinstance(now, float):
        if recorded is None or now is None:
            assert recorded == now, where
        elif math.isnan(recorded):
            assert math.isnan(now), f"{where}: {now} (recorded NaN)"
        else:
            assert now == pytest.approx(recorded, rel=RTOL, abs=1e-12), f"{where}: {now} vs recorded {recorded}"
    else:
        assert now == recorded, f"{where}: {now!r} vs recorded {recorded!r}"


def test_simulate_metrics_are_unchanged():
    recorded = json.loads((REFERENCE / "simulate.json").read_text())
    now = json.loads(json.dumps(_recorder().simulations()))  # the same JSON round trip as the record
    assert now.keys() == recorded.keys()
    for case, metrics in recorded.items():
        assert now[case].keys() == metrics.keys(), case
        for key, value in metrics.items():
            _same(value, now[case][key], f"{case}.{key}")


def _frames_equal(recorded: pd.DataFrame, now: pd.DataFrame, what: str) -> None:
    assert list(now.columns) == list(recorded.columns), what
    assert len(now) == len(recorded), what
    for column in recorded.columns:
        for i, (a, b) in enumerate(zip(recorded[column].tolist(), now[column].tolist())):
            if isinstance(a, float) and isinstance(b, float):
                _same(a, b, f"{what} row {i} {column}")
            elif not (pd.isna(a) and pd.isna(b)):
                assert str(a) == str(b), f"{what} row {i} {column}: {b!r} vs recorded {a!r}"


def test_default_plan_results_are_unchanged(tmp_path):
    now_path = tmp_path / "plan.csv"
    _recorder().plan_table().to_csv(now_path, index=False, float_format="%.17g")
    _frames_equal(pd.read_csv(REFERENCE / "plan_results.csv"), pd.read_csv(now_path), "plan")


def test_every_validation_prediction_is_unchanged(tmp_path):
    now_path = tmp_path / "validation.csv"
    _recorder().validation().to_csv(now_path, index=False, float_format="%.17g")
    _frames_equal(pd.read_csv(REFERENCE / "validation.csv"), pd.read_csv(now_path), "validation")
