"""`estimate`: hand-checkable bounds, invariants (hypothesis), fit and bad input."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat import estimate
from chip2chat.errors import Chip2ChatError, NotFoundError
from chip2chat.hardware.load import load_hardware


def test_70b_bf16_decode_batch1_on_8x_h200_between_one_and_two_weight_reads():
    # Decode at batch 1 must read every weight once per token: at least weights / peak bandwidth.
    # The roofline is within 2x of that; the measured kernels of each engine within 2.5x: on 8
    # chips a layer's GEMMs are small (a 7168 x 8192 gate/up shard reads at 0.8 of the bandwidth)
    # and 80 layers x 8 kernels of fixed cost (attention ~13 us at batch 1, norms, all-reduces)
    # add 3-4 ms, as engines measure (vLLM and TensorRT-LLM serve it at ~7 ms a token)
    read_once = estimate("llama-3.1-70b", "h200", tp=8, batch=1).weights_bytes_per_device / 4.8e12
    roofline = estimate("llama-3.1-70b", "h200", tp=8, batch=1, input_len=1024, output_len=256, fidelity="roofline")
    assert read_once < roofline.tpot_s < 2 * read_once and roofline.decode_bound == "memory"
    for engine in ("trtllm", "vllm", "sglang"):
        r = estimate("llama-3.1-70b", "h200", tp=8, batch=1, input_len=1024, output_len=256, engine=engine)
        assert r.fidelity == "measured" and read_once < r.tpot_s < 2.5 * read_once
        assert r.decode_bound == "memory"


def test_json_keys_required_by_the_cli_contract():
    d = estimate("llama-3.1-8b", "h100").to_dict()
    for key in ("fits", "max_batch", "ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "decode_bound",
                "weights_bytes_per_device", "kv_bytes_per_token", "power_w", "energy_per_output_token_j"):
        assert key in d


def test_e2e_is_ttft_plus_remaining_decode_steps():
    r = estimate("llama-3.1-8b", "h200", batch=8, input_len=512, output_len=100)
    assert r.e2e_s == pytest.approx(r.ttft_s + 99 * r.tpot_s)
    assert r.output_tokens_per_s == pytest.approx(8 * 100 / r.e2e_s)


def test_max_batch_is_the_fit_boundary():
    r = estimate("llama-3.1-70b", "h100", tp=4, batch=1, input_len=2048, output_len=2048)
    assert estimate("llama-3.1-70b", "h100", tp=4, batch=r.max_batch, input_len=2048, output_len=2048).fits
    assert not estimate("llama-3.1-70b", "h100", tp=4, batch=r.max_batch + 1, input_len=2048,
                        output_len=2048).fits


@settings(max_examples=25)
@given(batch=st.one_of(st.integers(1, 600), st.integers(600, 10**7)))
def test_max_batch_does_not_depend_on_the_batch_asked_for(batch):
    # it used to count the logits of the asked batch as fixed memory: 0 for a huge batch
    first = estimate("llama-3.1-8b", "h200", batch=1, input_len=1024, output_len=256)
    r = estimate("llama-3.1-8b", "h200", batch=batch, input_len=1024, output_len=256)
    assert r.max_batch == first.max_batch > 0
    assert r.fits == (batch <= r.max_batch)


def test_weights_that_do_not_fit_report_zero_batch():
    r = estimate("llama-3.1-70b", "h100", tp=1)
    assert not r.fits and r.max_batch == 0
    assert r.weights_bytes_per_device > r.memory_available_bytes_per_device


def test_fp8_weights_halve_decode_time_when_memory_bound():
    # half the weight bytes: the roofline takes ~0.6 of the time; the measured kernels gain less at
    # batch 1, where fp8 GEMMs pay a fixed cost (quantising the activations, 7-13 us a GEMM on
    # TensorRT-LLM's tables), and still gain on a 2-chip shard under every engine
    bf16 = estimate("llama-3.1-70b", "h200", tp=8, batch=1, fidelity="roofline")
    fp8 = estimate("llama-3.1-70b", "h200", tp=8, batch=1, weight_dtype="fp8", fidelity="roofline")
    assert fp8.tpot_s < 0.75 * bf16.tpot_s
    for engine in ("trtllm", "vllm", "sglang"):
        bf16 = estimate("llama-3.1-70b", "h200", tp=2, batch=1, engine=engine)
        fp8 = estimate("llama-3.1-70b", "h200", tp=2, batch=1, weight_dtype="fp8", engine=engine)
        assert fp8.tpot_s < 0.8 * bf16.tpot_s


def test_moe_decode_reads_only_routed_experts_at_batch_1():
    # Mixtral at batch 1 touches 2 of 8 experts per layer: much faster than reading all 46.7B
    r = estimate("mixtral-8x7b", "h200", tp=2, batch=1)
    all_weights_time = r.weights_bytes_per_device / 4.8e12
    assert r.tpot_s < 0.6 * all_weights_time


def test_power_never_exceeds_tdp():
    for batch in (1, 64, 512):
        r = estimate("llama-3.1-8b", "h100", batch=batch, input_len=2048, output_len=128)
        assert r.power_w_per_device <= 700 + 1e-6


def test_unpublished_tdp_gives_no_power():
    r = estimate("llama-3.1-8b", "tpu-v6e", batch=1)
    assert r.power_w is None and r.energy_per_output_token_j is None and r.tpot_s > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(tp=3), "does not divide the 64 attention heads"),
    (dict(input_len=0), "input_len must be a positive integer"),
    (dict(output_len=-1), "output_len must be a positive integer"),
    (dict(batch=0), "batch must be a positive integer"),
    (dict(weight_dtype="fp6"), "weight dtype 'fp6' is not one of"),
    (dict(input_len=200_000), "exceeds llama-3.1-70b's context of 131072"),
    (dict(ep=2), "needs a mixture-of-experts model"),
])
def test_bad_input_says_what_to_change(kwargs, message):
    with pytest.raises(Chip2ChatError, match=message):
        estimate("llama-3.1-70b", "h200", **kwargs)


def test_unknown_model_names_closest():
    with pytest.raises(NotFoundError, match="closest: llama-3.1-70b"):
        estimate("llama-3.1-70", "h200")


def _scaled(hw_name, bandwidth=1.0, flops=1.0):
    hw = load_hardware(hw_name)[1]
    mem = hw.memory.model_copy(update={"bandwidth_bytes_per_s": hw.memory.bandwidth_bytes_per_s * bandwidth})
    return hw.model_copy(update={"memory": mem,
                                 "peak_flops": {k: v * flops for k, v in hw.peak_flops.items()}})


shapes = st.fixed_dictionaries({
    "batch": st.integers(1, 256), "input_len": st.integers(1, 8192), "output_len": st.integers(1, 2048),
    "model": st.sampled_from(["llama-3.1-8b", "mixtral-8x7b", "qwen3-30b-a3b", "gpt-oss-120b"]),
})


@given(shape=shapes, factor=st.floats(1.0, 8.0))
def test_more_bandwidth_is_never_slower(shape, factor):
    kw = dict(shape, tp=2, weight_dtype="fp8")
    base = estimate(hardware=_scaled("h100-sxm"), **kw)
    fast = estimate(hardware=_scaled("h100-sxm", bandwidth=factor), **kw)
    assert fast.tpot_s <= base.tpot_s * (1 + 1e-12) and fast.ttft_s <= base.ttft_s * (1 + 1e-12)


@given(shape=shapes, factor=st.floats(1.0, 8.0))
def test_more_flops_is_never_slower(shape, factor):
    kw = dict(shape, tp=2)
    base = estimate(hardware=_scaled("h100-sxm"), **kw)
    fast = estimate(hardware=_scaled("h100-sxm", flops=factor), **kw)
    assert fast.tpot_s <= base.tpot_s * (1 + 1e-12) and fast.ttft_s <= base.ttft_s * (1 + 1e-12)


@given(shape=shapes)
def test_tokens_out_equal_batch_times_output(shape):
    r = estimate(hardware="h200", tp=2, **shape)
    assert math.isclose(r.output_tokens_per_s * r.e2e_s, shape["batch"] * shape["output_len"])


def test_expert_parallel_exchanges_tokens_as_the_engines_do():
    # Qwen3-235B-A22B on 8 chips, 94 MoE layers, hidden 4096, bf16 activations, 1024 tokens a step.
    # EP=8 inside TP=8: tokens are on every chip after the attention all-reduce, so one all-reduce of
    # 1024 x 4096 x 2 bytes sums the experts' outputs, as for TP=8 without EP.
    # Attention DP: the step's tokens are all-gathered to every chip before the experts and
    # reduce-scattered after, each a (8-1)/8 share of the 1024 x 4096 x 2-byte buffer per chip.
    from chip2chat.costs.collectives import collective_time
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.replica import StepShape

    def seconds(replica, name):
        cost = replica.step_cost(StepShape.uniform_decode(1024, 192, replica.windows), detail=True)
        return sum(op.seconds for op in cost.ops if op.name == name)

    step_bytes = 1024 * 4096 * 2
    ep = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8")
    tp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 1, "fp8", "fp8")
    assert seconds(ep, "moe_all_reduce") == pytest.approx(94 * collective_time("all_reduce", step_bytes, 8, ep.device))
    assert seconds(ep, "moe_all_reduce") == pytest.approx(seconds(tp, "moe_all_reduce"))
    dp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8", attention_dp=True, fidelity="roofline")
    gather = collective_time("all_gather", step_bytes, 8, dp.device)
    assert gather == pytest.approx(dp.device.link_latency_s + 7 / 8 * step_bytes / dp.device.link_bw)
    assert seconds(dp, "moe_all_gather") == pytest.approx(94 * gather)
    assert seconds(dp, "moe_reduce_scatter") == pytest.approx(94 * gather)


def test_attention_dp_holds_each_kv_head_once_and_experts_split():
    # Qwen3-235B-A22B has 4 KV heads: TP=8 keeps one head per chip, each replicated on 2 chips
    # (1/4 of a token's KV per chip); attention DP keeps whole tokens on one chip (1/8 on average)
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.memory import kv_bytes_per_token_per_device, memory_budget, routed_expert_bytes

    tp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8")
    dp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8", attention_dp=True, fidelity="roofline")
    full = dp.model.kv_bytes_per_token("fp8")
    assert kv_bytes_per_token_per_device(tp) == pytest.approx(full / 4)
    assert kv_bytes_per_token_per_device(dp) == pytest.approx(full / 8)
    # routed experts: 94 layers x 128 experts x 3 x 4096 x 1536 fp8 bytes; the rest is whole on every chip
    routed = routed_expert_bytes(dp)
    assert routed == pytest.approx(94 * 128 * 3 * 4096 * 1536)
    total = dp.model.weight_bytes("fp8")
    assert memory_budget(dp, 0.9, 8192, 256).weights_bytes == pytest.approx(total - routed + routed / 8)
    assert memory_budget(tp, 0.9, 8192, 256).weights_bytes == pytest.approx(total / 8)


def test_attention_dp_drops_the_attention_all_reduce_and_splits_the_tokens():
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.replica import StepShape

    dp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8", attention_dp=True, fidelity="roofline")
    cost = dp.step_cost(StepShape.uniform_decode(1024, 192, dp.windows), detail=True)
    names = {op.name for op in cost.ops}
    assert "attn_all_reduce" not in names and "moe_all_gather" in names
    # each chip projects QKV for its own 1024 / 8 = 128 tokens with the whole 4096 -> (64 + 2 x 4) x 128 weight
    (qkv,) = [op for op in cost.ops if op.name == "qkv_proj"]
    assert qkv.flops == pytest.approx(94 * 2 * 128 * 4096 * (64 + 8) * 128)


@pytest.mark.parametrize("model, tp, ep, message", [
    ("llama-3.1-8b", 2, 2, "needs a mixture-of-experts model; .* is dense"),
    ("qwen3-235b-a22b", 8, 4, r"expert-parallel-size equal to tensor-parallel-size \(8\), got 4"),
])
def test_attention_dp_needs_moe_with_ep_equal_to_tp(model, tp, ep, message):
    with pytest.raises(Chip2ChatError, match=message):
        estimate(model, "h200", tp=tp, ep=ep, attention_dp=True, weight_dtype="fp8")


@given(shape=shapes.map(lambda s: {**s, "model": "gpt-oss-120b" if s["model"] == "llama-3.1-8b" else s["model"]}))
def test_attention_dp_keeps_tokens_in_equal_tokens_out(shape):
    r = estimate(hardware="h200", tp=2, ep=2, attention_dp=True, **shape)
    assert math.isclose(r.output_tokens_per_s * r.e2e_s, shape["batch"] * shape["output_len"])


def test_busiest_expert_rank_reproduces_the_measurement_it_comes_from():
    # TensorRT-LLM measured DeepSeek-R1 at EP 32 (8 experts per rank): busiest rank 1 + 1.564 of the mean
    from chip2chat.engine.expert_load import busiest_rank_factor, expected_max_normal

    assert busiest_rank_factor(32, 8) == pytest.approx(2.564, abs=1e-3)
    assert expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-4)  # E[max of 2] = 1/sqrt(pi)
    assert busiest_rank_factor(1, 128) == 1.0
    # more experts per rank average out; more ranks have a busier maximum; never beyond all tokens on one rank
    assert busiest_rank_factor(8, 32) < busiest_rank_factor(8, 16) < busiest_rank_factor(8, 4)
    assert busiest_rank_factor(4, 16) < busiest_rank_factor(8, 16) < busiest_rank_factor(16, 16)
    assert busiest_rank_factor(2, 0.01) == 2.0


def test_expert_gemms_run_the_busiest_ranks_tokens():
    # Qwen3-235B-A22B, attention DP over 8 chips, 1024 tokens x top-8 = 8192 token-expert pairs: each
    # rank's mean is 1024, the busiest (16 of 128 experts per rank) gets 1024 x busiest_rank_factor(8, 16)
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.expert_load import busiest_rank_factor
    from chip2chat.engine.replica import StepShape

    dp = get_replica("qwen3-235b-a22b", "h200", 8, 1, 8, "fp8", "fp8", attention_dp=True, fidelity="roofline")
    cost = dp.step_cost(StepShape.uniform_decode(1024, 192, dp.windows), detail=True)
    (gate_up,) = [op for op in cost.ops if op.name == "experts_gate_up"]
    rows = 1024 * 8 / 8 * busiest_rank_factor(8, 16)
    assert gate_up.flops == pytest.approx(94 * 2 * rows * (2 * 1536) * 4096)
