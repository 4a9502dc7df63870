"""One chip, one answer: by catalog name, as an Accelerator object, or copied into a YAML file, a
chip carries its calibration profile, so estimate, simulate, plan and chip give identical results.

(Before, the profile was looked up by catalog id, so an object silently got the default
efficiencies: llama-3.1-70b on h200 tp 8 batch 64 gave TPOT 9.862 ms by name, 9.552 ms by object.)
"""

from __future__ import annotations

import math

import pytest
import yaml

from chip2chat.catalog import read_yaml
from chip2chat.engine.estimate import estimate
from chip2chat.hardware.load import load_hardware
from chip2chat.serving.simulate import simulate

CALIBRATED = {key: entry["calibration"] for key, entry in read_yaml("accelerators.yaml").items()
              if entry.get("calibration") != "default"}
"""Chip -> the profile it names (a chip of the same silicon may name another chip's profile)."""
MODEL = "llama-3.1-8b"


def _doors(chip: str, tmp_path):
    """The same chip three ways: its catalog name, the loaded object, a YAML copy of its entry."""
    path = tmp_path / f"{chip}.yaml"
    path.write_text(yaml.safe_dump(read_yaml("accelerators.yaml")[chip]))
    return chip, load_hardware(chip)[1], str(path)


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        both_nan = isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)
        assert both_nan or x == y, (key, x, y)


def test_every_profile_is_carried_by_its_chip():
    assert len(set(CALIBRATED.values())) >= 13  # the shipped profiles (catalog/calibration/*.yaml)
    for chip, profile in CALIBRATED.items():
        assert load_hardware(chip)[1].calibration == profile


@pytest.mark.parametrize("chip", CALIBRATED)
def test_estimate_and_simulate_are_the_same_by_name_object_and_file(chip, tmp_path):
    results = [estimate(MODEL, hw, batch=16, input_len=512, output_len=64).to_dict() for hw in _doors(chip, tmp_path)]
    assert results[0]["calibration"] == CALIBRATED[chip]
    _same(results[0], results[1])
    _same(results[0], results[2])
    sims = [simulate(MODEL, hw, rate_per_s=5, num_requests=60, input_len=256, output_len=32).summary
            for hw in _doors(chip, tmp_path)]
    _same(sims[0], sims[1])
    _same(sims[0], sims[2])


def test_the_object_door_no_longer_falls_back_to_default_efficiencies():
    # the case: by name 9.862 ms; the object used to give 9.552 ms (default profile). The
    # profile's efficiencies are the roofline's (the measured kernel tables time H200 otherwise)
    by_name = estimate("llama-3.1-70b", "h200", tp=8, batch=64, fidelity="roofline")
    by_object = estimate("llama-3.1-70b", load_hardware("h200")[1], tp=8, batch=64, fidelity="roofline")
    assert by_object.tpot_s == by_name.tpot_s
    assert by_name.tpot_s * 1e3 == pytest.approx(9.862, abs=0.001)


@pytest.mark.parametrize("chip", CALIBRATED)
def test_plan_is_the_same_by_name_object_and_file(chip, tmp_path):
    from chip2chat.datacenter.plan import plan
    from chip2chat.datacenter.scenario import Scenario

    name, obj, path = _doors(chip, tmp_path)
    scenario = Scenario(
        name="doors",
        demand={"years": [{"year": 2027, "daily_users": 1e5}], "sessions_per_user_per_day": 2,
                "turns_per_session": 3, "input_tokens_per_turn": 256, "output_tokens_per_turn": 32},
        service={"model": MODEL, "weight_dtype": "bf16", "kv_dtype": "bf16",
                 "slo": {"p99_ttft_ms": 2000, "p99_tpot_ms": 200}},
        options=[{"name": door, "hardware": hw, "unit_price_usd": 10000}
                 for door, hw in (("name", name), ("object", obj), ("file", path))],
        site={"catalog": "us-hyperscale", "rack_power_kw": 400},
        sizing={"requests_per_point": 100, "search": False})
    table = plan(scenario).table.drop(columns=["option", "cheapest"])
    rows = table.to_dict(orient="records")
    assert rows[0]["calibration"] == CALIBRATED[chip]
    _same(rows[0], rows[1])
    _same(rows[0], rows[2])


def test_chip_compare_is_the_same_by_name_object_and_file(tmp_path):
    from chip2chat.explore.compare import compare_chips
    from chip2chat.silicon.design import load_design
    from chip2chat.silicon.model import evaluate
    from chip2chat.catalog import CATALOG_DIR

    design = load_design(CATALOG_DIR / "designs" / "hbm4-custom.yaml")
    for chip in ("h200-sxm", "mi300x", "b200"):
        rows = compare_chips(design, evaluate(design), list(_doors(chip, tmp_path)), model=MODEL, tp=1, batch=8,
                             input_len=256, output_len=32, weight_dtype="bf16", rate_per_s=2, num_requests=50)
        design_row, *doors = rows
        assert design_row["calibration"] == "default" and doors[0]["calibration"] == chip
        _same(doors[0], doors[1])
        _same(doors[0], doors[2])
