"""The chips added for issue 13 (H100 PCIe, H100 NVL, H200 NVL, GB300) carry NVIDIA's published
figures, dense, and serve models as their memory says they should."""

import pytest

import chip2chat as c2c
from chip2chat.catalog import read_yaml
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import RUNTIME_RESERVED_BYTES, memory_budget
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model

GIB, TB = 2**30, 1e12

# NVIDIA's tables quote Tensor Core FLOP/s with 2:4 sparsity; the catalog holds half (dense).
SPARSE_TFLOPS = {
    "h100-pcie": {"bf16": 1513, "fp8": 3026},     # H100 PCIe column
    "h100-nvl": {"bf16": 1671, "fp8": 3341},      # H100 NVL column
    "h200-nvl": {"bf16": 1671, "fp8": 3341},      # H200 NVL column
    "gb300": {"bf16": 5000, "fp8": 10000},        # Blackwell Ultra datasheet, GB300 NVL72 per GPU
}


@pytest.mark.parametrize("chip, sparse", SPARSE_TFLOPS.items())
def test_peaks_are_half_of_nvidias_sparse_figures(chip, sparse):
    flops = load_hardware(chip)[1].peak_flops
    for dtype, tflops in sparse.items():
        assert flops[dtype] == pytest.approx(tflops / 2 * 1e12, rel=1e-3)


@pytest.mark.parametrize("chip, capacity_gib, bandwidth_tb_s, tdp_w", [
    ("h100-pcie", 80, 2.0, 350),
    ("h100-nvl", 94, 3.9, 400),    # TDP configurable 350-400 W: the top of the range
    ("h200-nvl", 141, 4.8, 600),
    ("gb300", 279, 8.0, 1400),     # NVIDIA's per-GPU 279 GB, not the 288 GB of physical HBM
])
def test_memory_and_power_as_published(chip, capacity_gib, bandwidth_tb_s, tdp_w):
    hw = load_hardware(chip)[1]
    assert hw.memory.capacity_bytes == capacity_gib * GIB
    assert hw.memory.bandwidth_bytes_per_s == bandwidth_tb_s * TB
    assert hw.tdp_w == tdp_w


def test_each_new_chip_names_its_profile_and_says_why():
    # same silicon -> that silicon's profile; GB300 -> its own (the documented default efficiencies
    # and its measured kernel tables)
    wanted = {"h100-pcie": "h100-sxm", "h100-nvl": "h100-sxm", "h200-nvl": "h200-sxm", "gb300": "gb300"}
    entries = read_yaml("accelerators.yaml")
    for chip, profile in wanted.items():
        assert load_hardware(chip)[1].calibration == profile
        assert "Calibration:" in entries[chip]["notes"]


def test_h100_pcie_keeps_its_own_sm_count_under_the_sxm_profile():
    assert load_hardware("h100-pcie")[1].num_cores == 114  # the SXM profile says 132


def test_llama_70b_bf16_on_two_h200_nvl_fits_with_room_for_kv():
    # 70.6B params x 2 bytes / 2 chips = 70.6 GB per chip of 0.9 x 141 GiB = 136.3 GB usable
    replica = get_replica("llama-3.1-70b", "h200-nvl", 2, 1, 1, "bf16", "bf16")
    budget = memory_budget(replica, 0.9, 8192, 256)
    weights = load_model("llama-3.1-70b").weight_bytes("bf16") / 2
    assert budget.weights_bytes == pytest.approx(weights)
    assert budget.usable_bytes == pytest.approx(0.9 * 141 * GIB)
    kv = budget.usable_bytes - weights - budget.activation_bytes - RUNTIME_RESERVED_BYTES
    assert budget.kv_capacity_bytes == pytest.approx(kv)
    # 80 layers x 8 KV heads x 128 x (K+V) x 2 bytes, halved by TP 2 = 163,840 bytes per token per chip
    assert kv / 163_840 > 350_000
    est = c2c.estimate(model="llama-3.1-70b", hardware="H200 NVL", tp=2, batch=64, input_len=1024, output_len=256)
    assert est.fits and est.num_devices == 2


def test_llama_70b_bf16_does_not_fit_one_h200_nvl_but_two_h100_nvl_leave_less_kv():
    # 141 GB of bf16 weights exceed 0.9 x 141 GiB; on 2 x 94 GiB the same weights leave ~17 GB per chip
    one = memory_budget(get_replica("llama-3.1-70b", "h200-nvl", 1, 1, 1, "bf16", "bf16"), 0.9, 8192, 256)
    assert one.kv_capacity_bytes < 0
    h100_nvl = memory_budget(get_replica("llama-3.1-70b", "h100-nvl", 2, 1, 1, "bf16", "bf16"), 0.9, 8192, 256)
    h200_nvl = memory_budget(get_replica("llama-3.1-70b", "h200-nvl", 2, 1, 1, "bf16", "bf16"), 0.9, 8192, 256)
    assert 0 < h100_nvl.kv_capacity_bytes < h200_nvl.kv_capacity_bytes / 3


def test_h200_nvl_decodes_like_h200_sxm_but_prefills_slower():
    # same HBM and profile: a memory-bound decode step costs the same (within 2%: near the ridge
    # point the profile softens the roofline, so the lower compute peak shows a little); a
    # compute-bound prefill scales with the dense peak (835.5 vs 989.4 TFLOP/s)
    kw = dict(model="llama-3.1-70b", tp=2, batch=1, input_len=4096, output_len=64)
    nvl, sxm = c2c.estimate(hardware="h200-nvl", **kw), c2c.estimate(hardware="h200-sxm", **kw)
    assert nvl.decode_bound == sxm.decode_bound == "memory"
    assert nvl.decode_breakdown_s["memory_s"] == pytest.approx(sxm.decode_breakdown_s["memory_s"], rel=0.02)
    assert nvl.prefill_bound == "compute" and 1.1 < nvl.ttft_s / sxm.ttft_s < 989.4 / 835.5 * 1.05


def test_gb300_holds_ten_times_the_deepseek_r1_batch_of_gb200_on_four_gpus():
    # 671B params in fp8 = 168 GB per chip on 4 chips: 0.9 x 186 GiB (GB200) leaves ~10 GB for KV,
    # 0.9 x 279 GiB (GB300) ~100 GB
    kw = dict(model="deepseek-r1", tp=4, batch=8, input_len=1024, output_len=256, weight_dtype="fp8")
    gb300, gb200 = c2c.estimate(hardware="GB300", **kw), c2c.estimate(hardware="GB200", **kw)
    assert gb300.weights_bytes_per_device == gb200.weights_bytes_per_device == pytest.approx(168.2e9, rel=0.01)
    assert gb300.max_batch > 10 * gb200.max_batch > 0
