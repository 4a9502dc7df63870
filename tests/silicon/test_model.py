"""Silicon model: formulas by hand, invariants, the known chips, and bad input."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chip2chat.errors import ConfigError
from chip2chat.silicon.catalog import load_catalog
from chip2chat.silicon.design import design_from_dict
from chip2chat.validate.silicon import check_known
from chip2chat.silicon.model import dies_per_wafer, evaluate, murphy_yield, to_accelerator

BASE = dict(name="t", process_node="N3", compute_dies=1, peak_flops={"bf16": "1000 TFLOP/s", "fp8": "2000 TFLOP/s"},
            sram="100 MB", hbm={"generation": "HBM3E", "stack_height": 12, "stacks": 4},
            scale_up={"bandwidth": "900 GB/s"}, tdp="700 W")


def design(**changes):
    raw = {**BASE, **changes}
    return design_from_dict(raw, "test")


def test_dies_per_wafer_by_hand():
    # 100 mm2 on a 300 mm wafer: pi 150^2 / 100 - pi 300 / sqrt(200) = 706.86 - 66.64 = 640.2
    assert dies_per_wafer(100e-6) == pytest.approx(640.22, abs=0.01)


def test_murphy_yield_by_hand():
    # A = 1 cm2, D0 = 0.1 /cm2: AD = 0.1, ((1 - e^-0.1) / 0.1)^2 = 0.9056
    assert murphy_yield(1e-4, 0.1e4) == pytest.approx(((1 - math.exp(-0.1)) / 0.1) ** 2) == pytest.approx(0.9056, abs=1e-4)
    assert murphy_yield(1e-4, 0.0) == 1.0


def test_area_and_cost_by_hand():
    cat = load_catalog()
    n3 = cat.nodes["N3"]
    r = evaluate(design())
    tensor = 1000e12 * n3.tensor_area_m2_per_flops * cat.spare_compute  # 1.8 GHz default clock
    sram = 100e6 / n3.sram_bytes_per_m2 * cat.spare_sram
    io = 4 * cat.hbm_phy_area_m2["HBM3E"] + 900e9 * cat.link_area_m2_per_byte_s + cat.pcie_area_m2
    die = (tensor + sram + io) / (1 - cat.uncore_fraction)
    assert r.die_area_m2 == pytest.approx(die)
    die_cost = n3.wafer_price_usd / (dies_per_wafer(die) * murphy_yield(die, n3.defect_density_per_m2))
    assert r.die_cost_usd == pytest.approx(die_cost)
    hbm = 4 * 36 * 2**30 * cat.hbm_cost_usd_per_byte["HBM3E"]  # 12-Hi HBM3E: 36 GiB a stack
    package = (die + 4 * cat.hbm_site_area_m2) * cat.package_usd_per_m2
    assert r.unit_cost_usd == pytest.approx(die_cost + hbm + package + cat.test_fraction * (die_cost + package))


@given(stacks=st.integers(1, 3), more=st.integers(1, 3))
def test_more_hbm_stacks_never_lower_cost_or_capacity(stacks, more):
    # a ~730 mm2 N3 die has room for 4 stacks (two per edge): cap the total there
    more = min(more, 4 - stacks)
    a = evaluate(design(hbm={"generation": "HBM3E", "stack_height": 12, "stacks": stacks}))
    b = evaluate(design(hbm={"generation": "HBM3E", "stack_height": 12, "stacks": stacks + more}))
    assert b.unit_cost_usd > a.unit_cost_usd and b.hbm_capacity_bytes > a.hbm_capacity_bytes
    assert b.hbm_bandwidth_bytes_per_s > a.hbm_bandwidth_bytes_per_s


def test_known_chips_land_within_15_percent_and_their_tdp():
    rows = {r["chip"]: r for r in check_known()}
    for chip in ("h100-sxm", "h200-sxm"):
        assert abs(rows[chip]["area_error_pct"]) <= 15
        assert rows[chip]["within_tdp"]
    assert rows["mi300x"]["verdict"].startswith("multi-die")


def test_over_the_reticle_without_enough_dies_names_the_area():
    with pytest.raises(ConfigError, match=r"compute_dies: a compute die of [\d,]+ mm2 exceeds the reticle limit of 858 mm2"):
        evaluate(design(peak_flops={"bf16": "3000 TFLOP/s"}))
    assert evaluate(design(peak_flops={"bf16": "3000 TFLOP/s"}, compute_dies=2)).compute_dies == 2


@pytest.mark.parametrize("changes, message", [
    (dict(hbm={"generation": "HBM9", "stack_height": 8, "stacks": 4}), r"hbm.generation: .*unknown HBM generation 'HBM9'; allowed: HBM2, HBM2E, HBM3, HBM3E, HBM4"),
    (dict(hbm={"generation": "HBM3E", "stack_height": 12, "stacks": 14}), r"hbm.stacks: 14 stacks need .* allowed: 1-\d+"),
    (dict(hbm={"generation": "HBM3E", "stack_height": 12, "stacks": 0}), r"hbm.stacks: Input should be greater than or equal to 1"),
    (dict(tdp="-5 W"), r"tdp: -5 W is outside the plausible range 1 W to 100 kW"),
    (dict(sram="0 MB"), r"sram: 0 B is outside the plausible range 10 kB to 1 TB"),
    (dict(sram=128), r"sram: 128 has no unit; write it with one, e.g. '141 GB'"),
    (dict(tdp=700), r"tdp: 700 has no unit; write it with one, e.g. '700 W'"),
    (dict(process_node="N1"), r"process_node: .*unknown process node 'N1'; allowed: N7, N5, N4, N3, N2"),
    (dict(hbm={"generation": "HBM4", "stack_height": 9, "stacks": 4}), r"hbm.stack_height: HBM4 has no 9-high stack .* allowed: 12, 16"),
])
def test_bad_designs_are_one_line_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(design(**changes))


def test_design_serves_through_the_engine_with_its_node_energy():
    from chip2chat import estimate

    d = design()
    hw = to_accelerator(d, evaluate(d))
    r = estimate("llama-3.1-70b", hw, tp=4, batch=16, weight_dtype="fp8")
    assert r.fits and r.tpot_s > 0 and r.energy_per_output_token_j > 0
    assert hw.energy_per_flop_j["bf16"] == pytest.approx(load_catalog().nodes["N3"].energy_per_flop_bf16_j)
