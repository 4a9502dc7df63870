"""A step costs the same by every route: step_cost (split by bound), step_total (time and energy
only) and fast_step (body memoised, attention without the operator calls) share the operators."""

import pytest

from chip2chat.engine.factory import get_replica
from chip2chat.engine.replica import StepShape


@pytest.mark.parametrize("model, hardware, tp, pp, ep", [
    ("llama-3.1-8b", "h100", 1, 1, 1),
    ("gpt-oss-120b", "h200", 2, 1, 1),  # sliding-window and full attention layers
    ("llama-3.1-70b", "h200", 4, 2, 1),  # pipeline: micro-batches and sends
    ("deepseek-v3", "b200", 8, 1, 8),  # MLA and experts
])
def test_fast_step_and_step_total_equal_step_cost(model, hardware, tp, pp, ep):
    replica = get_replica(model, hardware, tp, pp, ep, "fp8", "bf16")
    decode = StepShape.uniform_decode(48, 3000, replica.windows)
    mixed = StepShape(prefill=((0, 700), (4096, 512)), decode_count=48, decode_keys=decode.decode_keys)
    for shape in (decode, mixed, StepShape(prefill=((0, 2048),))):
        cost = replica.step_cost(shape)
        for seconds, joules in (replica.fast_step(shape), replica.fast_step(shape),  # memo miss, then hit
                                (replica.step_total(shape).time_s, replica.step_total(shape).dynamic_energy_j)):
            assert seconds == pytest.approx(cost.time_s, rel=1e-12)
            assert joules == pytest.approx(cost.dynamic_energy_j, rel=1e-12)


def test_attention_dp_step_waits_for_the_rank_holding_the_prompt():
    # 8 attention-DP ranks, 64 decoding sequences (8 per rank) and ONE prompt chunk of 4,096 tokens:
    # the chunk is not split between ranks, so the busiest rank runs 8 + 4,096 tokens through its
    # QKV projection, not (64 + 4,096) / 8 = 520; eight chunks of 512 spread one per rank
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.replica import StepShape

    r = get_replica("mixtral-8x7b", "h200-sxm", 8, 1, 8, "fp8", "fp8", attention_dp=True, fidelity="roofline")
    decode = ((None, 64 * 1000.0),)

    def qkv_flops(prefill):
        cost = r.step_cost(StepShape(prefill=prefill, decode_count=64, decode_keys=decode), detail=True)
        return sum(op.flops for op in cost.ops if op.name == "qkv_proj")

    per_token = qkv_flops(((0, 8),) * 8) / (64 / 8 + 8)  # 8 chunks of 8 tokens: one per rank
    assert qkv_flops(((0, 4096),)) == pytest.approx(per_token * (8 + 4096))
    assert qkv_flops(((0, 512),) * 8) == pytest.approx(per_token * (8 + 512))
    # nine chunks: one rank holds two of them
    assert qkv_flops(((0, 512),) * 9) == pytest.approx(per_token * (8 + 1024))
    # without attention DP the step is the same tokens, split by TP instead
    tp = get_replica("mixtral-8x7b", "h200-sxm", 8, 1, 8, "fp8", "fp8", fidelity="roofline")
    one = tp.step_cost(StepShape(prefill=((0, 4096),), decode_count=64, decode_keys=decode))
    eight = tp.step_cost(StepShape(prefill=((0, 512),) * 8, decode_count=64, decode_keys=decode))
    assert one.flops < eight.flops * 1.2  # same tokens; only attention pairs differ
