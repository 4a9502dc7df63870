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
