"""Operator and collective costs against hand calculations."""

import pytest

from chip2chat.costs.collectives import collective_time
from chip2chat.costs.device import Device
from chip2chat.costs.operators import StepCost, gemm
from chip2chat.costs.roofline import tile_utilization
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.load import load_hardware

PROFILE = CalibrationProfile(gemm_efficiency={"bf16": 0.8, "fp8": 0.8}, memory_efficiency=0.9,
                             launch_overhead_s=0.0, collective_efficiency=1.0, collective_latency_s=5e-6,
                             gemm_fixed_s=0.0)  # set: a profile without kernel tables takes the fitted 8 us
H100 = Device(load_hardware("h100-sxm")[1], PROFILE)


def test_big_gemm_is_compute_bound_at_calibrated_peak():
    # 8192^3 bf16: 2 x 8192^3 = 1.1e12 FLOP; tiles 128 x 64 = 8192 tiles = 62.06 waves of 132
    acc = StepCost()
    gemm(acc, "g", 8192, 8192, 8192, "bf16", 2.0, H100)
    tiles = (8192 // 64) * (8192 // 128)
    wave_util = tiles / (-(-tiles // 132) * 132)
    expected = 2 * 8192**3 / (989.4e12 * 0.8 * wave_util)
    assert acc.compute_s == pytest.approx(expected) and acc.memory_s == 0


def test_decode_gemm_is_memory_bound_reading_weights():
    # batch 1 x 8192 -> 8192 bf16: 134 MB of weights at 0.9 x 3.35 TB/s
    acc = StepCost()
    gemm(acc, "g", 1, 8192, 8192, "bf16", 2.0, H100)
    nbytes = 8192 * 8192 * 2 + (8192 + 8192) * 2
    assert acc.memory_s == pytest.approx(nbytes / (3.35e12 * 0.9)) and acc.compute_s == 0


def test_tile_padding_penalises_ragged_shapes():
    assert tile_utilization(64 * 132, 128, 4096, H100) == pytest.approx(1.0)
    assert tile_utilization(65 * 132, 128, 4096, H100) < 0.6  # one row over a tile doubles the tiles


def test_ring_all_reduce_by_hand():
    # 8 ranks, 64 MB: 2 x 7/8 x 64e6 / 450e9 + 5 us
    assert collective_time("all_reduce", 64e6, 8, H100) == pytest.approx(5e-6 + 2 * 7 / 8 * 64e6 / 450e9)
    assert collective_time("all_reduce", 64e6, 1, H100) == 0.0


def test_groups_past_the_domain_use_scale_out_bandwidth():
    inside = collective_time("all_reduce", 64e6, 8, H100)
    across = collective_time("all_reduce", 64e6, 16, H100)
    assert across > 5 * inside  # 50 GB/s NIC vs 450 GB/s NVLink


def test_energy_of_a_peak_gemm_equals_tdp_minus_static():
    # the default energy model: the best dense GEMM draws exactly the TDP
    acc = StepCost()
    gemm(acc, "g", 64 * 132, 128 * 64, 16384, "bf16", 2.0, H100)
    power = acc.dynamic_energy_j / acc.time_s + H100.static_w
    assert power == pytest.approx(700, rel=0.03)


def test_unmeasured_dtype_scales_the_chips_own_bf16_efficiency():
    # MI300X reaches 0.51 of bf16 peak (MAMF); its unmeasured fp8 must not jump to the 0.70 default
    from chip2chat.hardware.calibration import load_profile

    p = load_profile("mi300x")
    assert p.gemm_peak_efficiency("fp8") == pytest.approx(p.gemm_peak_efficiency("bf16") * 0.70 / 0.75)


def test_grouped_gemm_is_one_kernel_whose_tiles_share_the_waves():
    # 16 experts of 64 x 384 x 4096: 1 x 3 = 3 tiles each, 48 tiles in one wave of 132 cores
    # (split-K as the profile says), one launch; run one by one each would fill 3 cores at a time
    dev = Device(load_hardware("h100-sxm")[1], PROFILE.model_copy(update={"launch_overhead_s": 1e-6}))
    grouped, single = StepCost(), StepCost()
    gemm(grouped, "experts", 64, 384, 4096, "bf16", 2.0, dev, groups=16)
    gemm(single, "expert", 64, 384, 4096, "bf16", 2.0, dev, count=16)
    assert grouped.flops == pytest.approx(single.flops) and grouped.bytes == pytest.approx(single.bytes)
    assert grouped.overhead_s == pytest.approx(dev.launch_s)
    assert single.overhead_s == pytest.approx(16 * dev.launch_s)
    assert tile_utilization(64, 384, 4096, dev, groups=16) > tile_utilization(64, 384, 4096, dev)
    # here both read 16 experts' weights at the same bandwidth: the launches make the difference
    assert grouped.memory_s == pytest.approx(single.memory_s) and grouped.compute_s <= single.compute_s
