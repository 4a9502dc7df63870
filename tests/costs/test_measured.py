"""The measured fidelity: an operator on a chip with kernel tables takes the table's time (looked
up by hand here through hardware/kernels.py), at the Device's own peaks; a chip without tables,
a custom design or a Device of many chips takes the roofline; FP4 weights on Hopper run W4A16."""

import math

import numpy as np
import pytest

from chip2chat import estimate
from chip2chat.costs.collectives import collective_time
from chip2chat.costs.device import Device
from chip2chat.costs.fidelity import AttentionLayer, MoeLayer
from chip2chat.costs.measured import Grid
from chip2chat.costs.operators import StepCost, attention, gemm, moe_experts
from chip2chat.hardware import kernels
from chip2chat.hardware.load import load_hardware

H200 = load_hardware("h200")[1]
GQA = AttentionLayer(heads=32, kv_heads=8, head_dim=128, kv_dtype="bf16")


def one_call(op, *args, **kw) -> StepCost:
    acc = StepCost(ops=[])
    op(acc, *args, **kw)
    return acc


def test_a_gemm_takes_the_table_time_with_its_launch_in_it():
    # fp8 weights on H200 under TensorRT-LLM: the fp8 (per-tensor) GEMM table at (64, 4096, 4096);
    # the measurement was taken in a CUDA graph, so the step adds no launch overhead of its own
    dev = Device(H200, engine="trtllm")
    acc = one_call(gemm, "g", 64, 4096, 4096, "fp8", 1.0, dev)
    assert dev.fidelity == "measured"
    assert acc.time_s == pytest.approx(kernels.gemm_time("h200-sxm", "trtllm", "fp8", 64, 4096, 4096), rel=1e-12)
    # a block-scaled checkpoint takes the faster of the two FP8 tables (block-scaled: 10.5 vs 17.5 us)
    block = one_call(gemm, "g", 64, 4096, 4096, "fp8", 1.0, Device(H200, engine="trtllm", block_scaled=True))
    by_table = [kernels.gemm_time("h200-sxm", "trtllm", f, 64, 4096, 4096) for f in ("fp8", "fp8_block")]
    assert block.time_s == pytest.approx(min(by_table), rel=1e-12)
    assert block.time_s < acc.time_s
    assert acc.overhead_s == 0.0


def test_decode_and_prefill_attention_take_their_tables_by_shape():
    dev = Device(H200, engine="vllm")
    decode = one_call(attention, "a", 1e9, 1e9, dev, layer=GQA, batch=64, length=2000, decode=True)
    by_hand = kernels.decode_attention_time("h200-sxm", "vllm", "bf16", 128, 64, 2000, 32, 8)
    assert decode.time_s == pytest.approx(by_hand, rel=1e-12) and decode.memory_s == decode.time_s
    prefill = one_call(attention, "p", 1e9, 1e9, dev, layer=GQA, batch=4, length=3000, decode=False)
    by_hand = kernels.context_attention_time("h200-sxm", "vllm", "bf16", 128, 4, 3000, 32, 8)
    assert prefill.time_s == pytest.approx(by_hand, rel=1e-12)


def test_decode_attention_is_set_by_the_group_and_the_context():
    # the tables: efficiency by (sequences x KV heads, context); the same KV read costs more spread
    # over short contexts than over long ones, and a wider group (fewer KV heads) reads less
    dev = Device(H200, engine="trtllm")
    t = [one_call(attention, "a", 0.0, 1.0, dev, layer=GQA, batch=b, length=n).time_s for b, n in ((512, 250),
                                                                                                (32, 4000))]
    assert t[0] > 1.2 * t[1]  # 128,000 cached tokens each
    wide = AttentionLayer(heads=32, kv_heads=4, head_dim=128, kv_dtype="bf16")
    assert one_call(attention, "a", 0.0, 1.0, dev, layer=wide, batch=64, length=4000).time_s < \
        one_call(attention, "a", 0.0, 1.0, dev, layer=GQA, batch=64, length=4000).time_s


def test_a_moe_layer_is_one_measured_call_of_the_power_law_table():
    # Mixtral's experts in fp8 on H200 under TensorRT-LLM, 1,024 tokens: the whole layer (routing,
    # both grouped GEMMs, finalise) is one call, timed by the power-law routing table
    dev = Device(H200, engine="trtllm")
    layer = MoeLayer(hidden=4096, inter=14336, top_k=2, num_experts=8, tp=1, ep=1, gated=True, dtype="fp8")
    acc = one_call(moe_experts, layer, 1024, 1024, 1.0, 1.0, dev)
    by_hand = kernels.moe_time("h200-sxm", "trtllm", "fp8", 1024, 4096, 14336, 2, 8, distribution="power_law_1.01")
    assert [op.name for op in acc.ops] == ["moe_experts"] and acc.time_s == pytest.approx(by_hand, rel=1e-12)
    # it does the kernels' work: the same FLOP and bytes (hence energy) as the roofline's five
    roofline = one_call(moe_experts, layer, 1024, 1024, 1.0, 1.0, dev, fidelity="roofline")
    assert len(roofline.ops) == 5 and acc.flops == pytest.approx(roofline.flops)
    assert acc.dynamic_energy_j == pytest.approx(roofline.dynamic_energy_j)


def test_all_reduce_is_the_fastest_measured_kernel_on_the_measured_link():
    dev = Device(H200, engine="trtllm")
    for nbytes in (16e3, 2e6, 64e6):
        assert collective_time("all_reduce", nbytes, 8, dev) == pytest.approx(
            kernels.allreduce_time("h200-sxm", "trtllm", 8, nbytes), rel=1e-12)
    # L40S x8 was measured at 2 GB/s of bus bandwidth, a tenth of its PCIe link: not this system
    l40s = Device(load_hardware("l40s")[1], engine="trtllm")
    assert collective_time("all_reduce", 16e6, 8, l40s) == collective_time("all_reduce", 16e6, 8, l40s,
                                                                          fidelity="roofline")


def test_another_card_of_the_silicon_gets_its_efficiencies_at_its_own_peaks():
    # H200 NVL names h200-sxm's profile and tables: same efficiency at the same shape, so a
    # compute-bound GEMM takes the SXM time x 989.4 / 835.5 (bf16 peaks), a memory-bound one the same
    nvl = Device(load_hardware("h200-nvl")[1], engine="vllm")
    sxm = Device(H200, engine="vllm")
    big = [one_call(gemm, "g", 8192, 8192, 8192, "bf16", 2.0, d).time_s for d in (nvl, sxm)]
    assert big[0] / big[1] == pytest.approx(989.4 / 835.5, rel=1e-9)
    small = [one_call(gemm, "g", 1, 8192, 8192, "bf16", 2.0, d).time_s for d in (nvl, sxm)]
    assert small[0] == pytest.approx(small[1], rel=1e-12)  # both 4.8 TB/s


def test_chips_without_tables_custom_designs_and_arrays_take_the_roofline():
    mi300x = load_hardware("mi300x")[1]
    assert Device(mi300x, engine="vllm").fidelity == "roofline"
    assert Device(H200).fidelity == "roofline"  # no engine, no tables to read
    custom = H200.model_copy(update={"vendor": "custom"})
    assert Device(custom, engine="vllm").fidelity == "roofline"
    many = Device(H200, engine="vllm", bandwidth_bytes_per_s=np.array([4e12, 8e12]))
    assert many.fidelity == "roofline" and many.kernels is None
    with pytest.raises(kernels.MissingKernelTable, match="no measured kernel tables"):
        Device(mi300x, engine="vllm", fidelity="measured")
    # the roofline of a chip without tables is what it was: the engine changes nothing
    a, b = (estimate("llama-3.1-8b", "mi300x", batch=16, engine=e) for e in ("vllm", "sglang"))
    assert a.fidelity == "roofline" and a.tpot_s == b.tpot_s and a.ttft_s == b.ttft_s


def test_no_measured_kernel_beats_the_roofline_of_the_catalog_figures():
    # L40S's 96 MB L2 kept a small GEMM's weights warm in the harness (table efficiency above 1);
    # a serving step streams them from memory, so it takes the roofline's ideal time at best
    l40s = load_hardware("l40s")[1]
    assert kernels.gemm_efficiency("l40s", "trtllm", "bf16", 1, 4096, 4096) > 1.5  # 32 MB of weights
    t = one_call(gemm, "g", 1, 4096, 4096, "bf16", 2.0, Device(l40s, engine="trtllm")).time_s
    assert t == pytest.approx(kernels.gemm_ideal_s(kernels.kernel_tables().peaks("l40s"), "bf16", 1, 4096, 4096))


def test_the_pure_python_reader_equals_the_table_reader():
    axes, log_eff = kernels.table_slice("decode_attention", "b200", "sglang", "fp8_d128", group=5.0)
    grid = Grid([[math.log(x) for x in a] for a in axes], log_eff.tolist())
    rng = np.random.default_rng(0)
    for b, n in zip(rng.uniform(0.5, 3e5, 50), rng.uniform(1.0, 2e5, 50)):
        expected = kernels.decode_attention_efficiency("b200", "sglang", "fp8", 128, b, n, 5.0)
        assert grid(b, n) == pytest.approx(expected, rel=1e-12)


def test_fp4_weights_on_hopper_run_w4a16():
    # H200 has no FP4 tensor cores: gpt-oss's MXFP4 experts run as W4A16 (TensorRT-LLM's
    # mxfp4_w4a16 MoE table), dense layers at bf16 with 4-bit weights. The tables say it is slower
    # than fp8 to prefill (dequantising to bf16 math) and faster than bf16 to decode (half the bytes)
    def run(weights, batch, input_len):
        return estimate("gpt-oss-120b", "h200", tp=4, batch=batch, input_len=input_len, output_len=64,
                        weight_dtype=weights, kv_dtype="fp8", engine="trtllm")

    assert run("fp4", 1, 8192).ttft_s > 1.1 * run("fp8", 1, 8192).ttft_s
    assert run("fp4", 1, 1024).tpot_s < 0.85 * run("bf16", 1, 1024).tpot_s
    assert Device(H200).compute_dtype["fp4"] == "bf16"  # the roofline too: bf16 math, 4-bit bytes
    hopper_moe = kernels.moe_time("h200-sxm", "trtllm", "mxfp4_w4a16", 8192, 2880, 2880, 4, 128, 1, 4)
    assert hopper_moe > kernels.moe_time("h200-sxm", "trtllm", "fp8", 8192, 2880, 2880, 4, 128, 1, 4)


def test_block_scaled_fp8_checkpoints_take_the_faster_fp8_kernel():
    # DeepSeek-V3's config.json says weight_block_size [128, 128]: vLLM's per-tensor FP8 MoE on H200
    # (0.09-0.14 of the roofline) is not what it runs, and vLLM's block-scaled GEMM measured on B200
    # (~0.01) is an untuned fallback: both FP8 tables, the faster; Llama quantised per tensor keeps
    # the per-tensor tables
    from chip2chat.costs.measured import formats
    from chip2chat.engine.factory import get_replica

    assert formats("moe", "fp8", "fp8") == ("fp8", "fp8_block")
    llama = get_replica("llama-3.1-70b", "h200-sxm", 4, 1, 1, "fp8", "fp8", engine="vllm")
    assert not llama.model.spec.fp8_block_scaled and not llama.device.kernels.block_scaled
    ds = get_replica("deepseek-v3", "h200-sxm", 8, 1, 8, "fp8", "fp8", engine="vllm")
    assert ds.model.spec.fp8_block_scaled and ds.device.kernels.block_scaled
    layer, times = ds._layers[-1].moe, ds.device.kernels
    shape = (layer.hidden, layer.inter, layer.top_k, layer.num_experts, layer.tp, layer.ep, layer.gated)

    def moe_by_hand(fmt):
        per_expert, elems, local = kernels.moe_axes(16, *shape)
        eff = min(1.0, float(kernels.moe_efficiency("h200-sxm", "vllm", fmt, per_expert, elems, local,
                                                     "power_law_1.01")))
        return float(kernels.moe_ideal_s(times.peaks, fmt, 16, *shape)) / eff

    assert times.moe(layer, 16, 1.0) == pytest.approx(min(moe_by_hand("fp8"), moe_by_hand("fp8_block")), rel=1e-9)
    assert moe_by_hand("fp8") > 3 * moe_by_hand("fp8_block")
    b200 = get_replica("deepseek-v3", "b200", 8, 1, 8, "fp8", "fp8", engine="vllm").device.kernels

    def gemm_by_hand(fmt):
        eff = min(1.0, float(kernels.gemm_efficiency("b200", "vllm", fmt, 1, 7168, 2048)))
        return float(kernels.gemm_ideal_s(b200.peaks, fmt, 1, 7168, 2048)) / eff

    assert b200.gemm(1, 7168, 2048, "fp8")[0] == pytest.approx(min(gemm_by_hand("fp8"), gemm_by_hand("fp8_block")))
    assert gemm_by_hand("fp8_block") > 10 * gemm_by_hand("fp8")
    # one measured format (bf16) is that format's table
    assert formats("gemm", "bf16", "bf16") == ("bf16",)
