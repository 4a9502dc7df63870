"""Scenario, hardware and chip-design files: a bad field is one line naming the file, the field path,
the bad value and what is allowed (see contract.py). Hypothesis mutates the shipped files at random
and holds every loader to the same contract."""

from __future__ import annotations

import copy
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chip2chat.catalog import CATALOG_DIR, read_yaml
from chip2chat.errors import Chip2ChatError
from contract import assert_bad

SCENARIO = yaml.safe_load((CATALOG_DIR / "scenarios" / "voice-assistant.yaml").read_text())
HARDWARE = read_yaml("accelerators.yaml")["h200-sxm"]
DESIGN = yaml.safe_load((CATALOG_DIR / "designs" / "hbm4-custom.yaml").read_text())


def write(tmp_path, data, name="spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def changed(base: dict, path: str, value) -> dict:
    """A copy of `base` with dotted `path` set to `value` (or removed when value is DELETE)."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return data


DELETE = object()


@pytest.mark.parametrize("path, value, mentions", [
    ("site.pue", math.inf, ["site.pue", "finite number"]),
    ("site.pue", 0.9, ["site.pue", "greater than or equal to 1"]),
    ("site.rack_power_kw", "12 kW", ["site.rack_power_kw", "valid number"]),
    ("site.catalog", "mars", ["site", "unknown site 'mars'", "us-hyperscale"]),
    ("demand.years.1.year", 2025, ["demand.years", "year 2025 is given twice"]),
    ("demand.years.0.daily_users", -5, ["demand.years[0].daily_users", "greater than 0"]),
    ("demand.years", [], ["demand.years", "at least 1 item"]),
    ("demand.sessions_per_user_per_day", math.nan, ["sessions_per_user_per_day", "finite number"]),
    ("demand.load_curve.peak_to_mean", 30, ["load_curve.peak_to_mean", "less than or equal to 24"]),
    ("service.slo.p99_ttft_ms", 0, ["service.slo.p99_ttft_ms", "greater than 0"]),
    ("service.slo", DELETE, ["service.slo", "Field required"]),
    ("options", [], ["options", "at least 1 item"]),
    ("options.0.tp", 0, ["options[0].tp", "greater than or equal to 1"]),
    ("options.0", {"name": "X", "hardware": "gb200"}, ["options[0] (X)", "unit_price_usd", "has no price"]),
    ("options.0.nre_usd", 1e9, ["options[0]", "nre_usd is for a design"]),
    ("options.0.tdp", 700, ["options[0].tdp", "700 has no unit", "'700 W'"]),
    ("options.0.hardware", "h900", ["options[0] (H200 x2)", "unknown hardware 'h900'"]),
    ("options.0.colour", "red", ["options[0].colour", "Extra inputs are not permitted"]),
    ("options.0.max_num_seqs", 10000, ["options[0]", "max_num_batched_tokens (8192) must be >= max_num_seqs (10000)"]),
    ("sizing.tolerance", 0, ["sizing.tolerance", "greater than 0"]),
    ("sizing.headroom", {"target_utilization": 0.8}, ["sizing.headroom.target_utilization", "no unit", "80 %"]),
    ("sizing.headroom", {"target_utilization": "2 %"}, ["sizing.headroom.target_utilization", "plausible range"]),
    ("sizing.headroom", {"spare_replicas": -1}, ["sizing.headroom.spare_replicas", "greater than or equal to 0"]),
    ("sizing.grid_points", 14, ["sizing", "grid_points is gone", "bisection"]),
    ("service.prefix_cache", {"shared_prefix_tokens": 5000}, ["prefix_cache", "more than the", "prompt"]),
    ("service.prefix_cache", {"turn_gap": 20}, ["service.prefix_cache.turn_gap", "no unit", "20 s"]),
    ("voice.draws", 10**9, ["voice", "draws"]),
])
def test_plan_scenario_fields(cli, tmp_path, path, value, mentions):
    path_ = write(tmp_path, changed(SCENARIO, path, value))
    assert_bad(cli("plan", path_, "--out", tmp_path / "out"), 2, *mentions)


def test_plan_scenario_that_is_not_a_mapping(cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("- just\n- a list\n")
    assert_bad(cli("plan", path, "--out", tmp_path / "out"), 2, str(path), "expected a mapping")


@pytest.mark.parametrize("path, value, mentions", [
    ("memory.bandwidth", 3.35, ["memory.bandwidth", "3.35 has no unit", "'4.8 TB/s'"]),
    ("memory.bandwidth", "4.8 TB", ["memory.bandwidth", "is in B, expected a quantity in B/s"]),
    ("memory.capacity", "141 kB", ["memory.capacity", "outside the plausible range"]),
    ("memory.generation", "HBM9", ["memory.generation", "'HBM9' is not one of"]),
    ("sram", 128, ["sram", "128 has no unit"]),
    ("tdp", "700 kW", ["tdp", "outside the plausible range 1 W to 100 kW"]),
    ("peak_flops", {"fp8": "1979 TFLOP/s"}, ["peak_flops", "needs at least a bf16"]),
    ("peak_flops.bf16", ".inf TFLOP/s", ["peak_flops.bf16", "cannot read"]),
    ("scale_up.domain", 0, ["scale_up.domain", "greater than or equal to 1"]),
    ("calibration", "h300", ["calibration", "'h300' is not a calibration profile", "h200-sxm"]),
    ("sources", [], ["sources", "at least 1 item"]),
])
def test_hardware_file_fields(cli, tmp_path, path, value, mentions):
    path_ = write(tmp_path, changed(HARDWARE, path, value), "chip.yaml")
    line = assert_bad(cli("estimate", "--model", "llama-3.1-8b", "--hardware", path_), 2, *mentions)
    assert "chip.yaml" in line


@pytest.mark.parametrize("path, value, mentions", [
    ("tdp", 1200, ["tdp", "1200 has no unit"]),
    ("clock", "1.9 THz", ["clock", "outside the plausible range"]),
    ("hbm.stacks", 0, ["hbm.stacks", "greater than or equal to 1"]),
    ("process_node", "N1", ["process_node", "unknown process node 'N1'"]),
    ("calibration", "nope", ["calibration", "not a calibration profile"]),
    ("package", "glass", ["package", "'auto', 'cowos-s' or 'cowos-l'"]),
])
def test_design_file_fields(cli, tmp_path, path, value, mentions):
    path_ = write(tmp_path, changed(DESIGN, path, value), "design.yaml")
    assert_bad(cli("chip", path_, "--num-requests", "50"), 2, *mentions)


def test_chip_with_an_unknown_model_exits_2_not_a_table_of_errors(cli):
    # it used to exit 0 and write the error into every cell
    assert_bad(cli("chip", str(CATALOG_DIR / "designs" / "hbm4-custom.yaml"), "--model", "llama-9"), 2,
               "unknown model 'llama-9'")


def test_chip_whose_model_fits_no_chip_exits_1(cli):
    assert_bad(cli("chip", str(CATALOG_DIR / "designs" / "hbm4-custom.yaml"), "--model", "llama-3.1-405b",
                   "--weight-dtype", "bf16", "--compare", "l40s", "--num-requests", "50"), 1,
               "fits none of the chips", "no room for a KV cache")


# --- hypothesis: random damage to the shipped files -------------------------------------------
BAD_VALUES = st.sampled_from([None, "", "abc", -1, 0, 1e309, float("nan"), True, [], {}, [1, 2], {"x": 1},
                              "12 parsecs", "-5 W", 10**30, "1e999 TB/s"])


def _paths(data, prefix=""):
    """Every dotted path to a value in nested mappings and lists."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path
        yield from _paths(value, path)


def _damaged(base):
    paths = sorted(_paths(base))
    return st.one_of(
        st.tuples(st.sampled_from(paths), BAD_VALUES).map(lambda pv: changed(base, *pv)),
        st.sampled_from(paths).map(lambda p: changed(base, p, DELETE)),
        st.text(min_size=1, max_size=8).map(lambda k: {**copy.deepcopy(base), f"x_{k}": 1}),
    )


def _holds_the_contract(load, data, tmp_path):
    """Loads, or fails with one line naming where: the file, the option, the design (by its name,
    for what the silicon model finds), or the unknown catalog name."""
    path = write(tmp_path, data)
    try:
        load(path)
    except Chip2ChatError as exc:
        message = str(exc)
        assert "\n" not in message and message.strip(), message
        where = ["spec.yaml", "options[", "unknown"] + ([f"{data['name']}: "] if isinstance(data.get("name"), str) else [])
        assert any(w in message for w in where), message


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_damaged(SCENARIO))
def test_damaged_scenarios_load_or_fail_in_one_line(tmp_path, data):
    from chip2chat.datacenter.scenario import load_scenario
    from chip2chat.datacenter.site import resolve_site

    def load(path):
        scenario = load_scenario(path)
        resolve_site(scenario.site)
        scenario.tokens_per_turn()

    _holds_the_contract(load, data, tmp_path)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_damaged(HARDWARE))
def test_damaged_hardware_files_load_or_fail_in_one_line(tmp_path, data):
    from chip2chat.engine.estimate import estimate
    from chip2chat.hardware.load import load_hardware

    def load(path):
        load_hardware.cache_clear()
        estimate("llama-3.1-8b", load_hardware(path)[1], batch=4, input_len=128, output_len=16)

    _holds_the_contract(load, data, tmp_path)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_damaged(DESIGN))
def test_damaged_designs_load_or_fail_in_one_line(tmp_path, data):
    from chip2chat.silicon.design import load_design
    from chip2chat.silicon.model import evaluate, to_accelerator

    def load(path):
        design = load_design(path)
        to_accelerator(design, evaluate(design))

    _holds_the_contract(load, data, tmp_path)
