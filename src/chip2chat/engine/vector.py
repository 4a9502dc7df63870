"""`estimate_many`: `estimate` for arrays of chip designs at once (vectorised sweeps).

The model, plan, dtypes and request shape are fixed; the chips vary (peak FLOP/s per dtype,
memory bandwidth and capacity, scale-up bandwidth, TDP, ...: costs.device.VARIED). They make one
Device whose rates are numpy arrays, and the replica's steps run on it with the same operator
functions, step timing and static-batch arithmetic as `estimate` (engine.estimate.static_batch),
so the results equal `estimate`'s with fidelity="roofline" chip by chip (tested) at a fraction of
the cost per design. Designs have no measured kernels: a Device of many chips is always timed by
the roofline (costs/device.py), and no serving engine's host time is added.
"""

from __future__ import annotations

import numpy as np

from chip2chat.costs.device import Device
from chip2chat.engine.defaults import GPU_MEMORY_UTILIZATION, INPUT_LEN, MAX_NUM_BATCHED_TOKENS, OUTPUT_LEN
from chip2chat.engine.estimate import static_batch
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.replica import Replica
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.load import load_model


def estimate_many(model: str, reference: Accelerator, *, tp: int = 1, pp: int = 1, ep: int = 1, batch: int = 1,
                  input_len: int = INPUT_LEN, output_len: int = OUTPUT_LEN, weight_dtype: str = "bf16",
                  kv_dtype: str = "bf16", gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION,
                  max_num_batched_tokens: int = MAX_NUM_BATCHED_TOKENS,
                  profile: CalibrationProfile | None = None, **arrays) -> dict[str, np.ndarray]:
    """`estimate`'s main outputs for n chips that differ from `reference` by the given arrays."""
    # no arrays: one chip, still as arrays of one
    device = Device(reference, profile, **(arrays or {"capacity_bytes": [reference.memory.capacity_bytes]}))
    replica = Replica(load_model(model), device, ParallelPlan(tp, pp, ep), weight_dtype, kv_dtype)
    run = static_batch(replica, batch, input_len, output_len, gpu_memory_utilization, max_num_batched_tokens,
                       replica.step_total)
    n = device.capacity_bytes.shape

    def per_chip(value):
        return np.full(n, np.nan) if value is None else np.broadcast_to(value, n)

    return {"fits": per_chip(run.fits), "max_batch": per_chip(run.max_batch), "ttft_s": per_chip(run.ttft_s),
            "tpot_s": per_chip(run.tpot_s), "e2e_s": per_chip(run.e2e_s),
            "output_tokens_per_s": per_chip(run.output_tokens_per_s),
            "output_tokens_per_s_per_device": per_chip(run.output_tokens_per_s_per_device),
            "power_w": per_chip(run.power_w), "energy_per_output_token_j": per_chip(run.energy_per_output_token_j)}
