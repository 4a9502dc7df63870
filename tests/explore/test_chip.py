"""The chip evaluators: scalar and vectorised agree; economics by hand; sweeps from the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from chip2chat.catalog import CATALOG_DIR
from chip2chat.explore.chip import evaluate_chip, evaluate_chip_many
from chip2chat.datacenter.economics import SECONDS_PER_YEAR, economics
from chip2chat.explore.space import SweepSpec

DESIGN = yaml.safe_load((CATALOG_DIR / "designs" / "hbm4-custom.yaml").read_text())
SERVE = {"model": "llama-3.1-70b", "tp": 2, "batch": 64, "input_len": 1024, "output_len": 256}


def test_economics_by_hand():
    # $1,000 chip over 4 years, 500 W at $0.10/kWh, 1,000 tokens/s:
    # capex 1000 / (4 x 31,557,600 s) = 7.92e-6 $/s; energy 500 x 0.10 / 3.6e6 = 1.389e-5 $/s
    m = economics(1000.0, 1, 1000.0, 500.0, {"amortization_years": 4, "electricity_usd_per_kwh": 0.10})
    expected = (1000 / (4 * SECONDS_PER_YEAR) + 500 * 0.10 / 3.6e6) / 1000 * 1e6
    assert m["usd_per_mtok"] == pytest.approx(expected) == pytest.approx(0.02181, abs=1e-5)


def test_vectorised_chip_evaluator_equals_the_scalar_one():
    spec = SweepSpec(evaluator="chip", base={"design": DESIGN, "serve": SERVE},
                     grid={"design.hbm.stacks": [1, 4, 8, 14], "design.hbm.generation": ["HBM3E", "HBM4"],
                           "design.tdp": ["900 W", "1400 W"], "design.peak_flops.bf16": ["2 PFLOP/s", "2.5 PFLOP/s"]})
    points = spec.points()
    many = evaluate_chip_many(spec.table())
    assert len(many) == len(points)
    for point, (result, error) in zip(points, many):
        try:
            one, one_error = evaluate_chip(point), None
        except Exception as exc:  # noqa: BLE001 - the scalar evaluator raises what the sweep stores
            one, one_error = None, str(exc)
        assert (error is None) == (one_error is None), (point, error, one_error)
        if one_error is not None:
            assert error.split(": ")[1] == one_error.split(": ")[1]  # the same field: "<who>: <field>: <problem>"
            continue
        for key, value in one.items():
            if isinstance(value, float) and np.isfinite(value):
                assert result[key] == pytest.approx(value, rel=1e-9), key
            else:
                assert result[key] == value or (np.isnan(result[key]) and np.isnan(value)), key


def test_chip_sim_evaluator_serves_a_workload():
    from chip2chat.explore.chip import evaluate_chip_sim

    r = evaluate_chip_sim({"design": DESIGN, "serve": {"model": "llama-3.1-8b", "num_requests": 50, "rate_per_s": 2,
                                                       "input_len": 512, "output_len": 64}})
    assert r["completed"] == 50 and r["usd_per_mtok"] > 0 and r["p99_tpot_ms"] > 0


def run(*args):
    return subprocess.run([sys.executable, "-m", "chip2chat.cli", *args], capture_output=True, text=True)


def test_cli_check_known_and_a_design(tmp_path):
    p = run("chip", "--check-known", "--json")
    assert p.returncode == 0, p.stderr
    rows = {r["chip"]: r for r in json.loads(p.stdout)}
    assert abs(rows["h100-sxm"]["area_error_pct"]) < 15 and rows["mi300x"]["verdict"].startswith("multi-die")
    p = run("chip", str(CATALOG_DIR / "designs" / "hbm4-custom.yaml"), "-tp", "2", "--num-requests", "100",
            "--compare", "h200", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["silicon"]["unit_cost_usd"] > 0 and [r["chip"] for r in d["serving"]] == ["custom-hbm4", "NVIDIA H200 SXM"]


def test_cli_bad_design_is_one_line(tmp_path):
    bad = tmp_path / "chip.yaml"
    bad.write_text(yaml.safe_dump({**DESIGN, "hbm": {"generation": "HBM9", "stack_height": 8, "stacks": 4}}))
    p = run("chip", str(bad))
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == 2 and len(lines) == 1 and "hbm.generation" in lines[0] and "HBM9" in lines[0]


def test_cli_vector_sweep_then_resume(tmp_path):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump({"name": "t", "evaluator": "chip", "base": {"design": DESIGN, "serve": SERVE},
                                    "grid": {"design.hbm.stacks": [2, 4, 8]},
                                    "objectives": {"usd_per_mtok": "min", "joules_per_token": "min"}}))
    out = tmp_path / "out"
    first = run("sweep", str(spec), "--backend", "vector", "--out", str(out), "--json")
    assert first.returncode == 0, first.stderr
    front = json.loads(first.stdout)
    assert front and all(r["pareto"] for r in front)
    assert (out / "results.duckdb").exists() and (out / "pareto.png").exists() and (out / "results.csv").exists()
    again = run("sweep", str(spec), "--backend", "vector", "--out", str(out), "--json")
    assert json.loads(again.stdout) == front  # nothing recomputed, the same answer
