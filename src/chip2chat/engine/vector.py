"""`estimate_many`: `estimate` for arrays of chip designs at once (vectorised sweeps).

The model, plan, dtypes and request shape are fixed; the chips vary (peak FLOP/s per dtype,
memory bandwidth and capacity, scale-up bandwidth, TDP, ...). Each step is recorded once on
a reference chip and re-costed for all chips with numpy (`costs.vector`), so the results equal
`estimate`'s chip by chip (tested) at a fraction of the cost per design.
"""

from __future__ import annotations

import numpy as np

from chip2chat.costs.device import achievable
from chip2chat.costs.vector import step_on, throttled
from chip2chat.engine.estimate import prefill_steps
from chip2chat.engine.factory import get_replica
from chip2chat.engine.memory import kv_bytes_per_sequence, largest_batch, memory_budget
from chip2chat.engine.replica import StepShape
from chip2chat.hardware.calibration import CalibrationProfile, load_profile
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator

# what a design varies: per-chip arrays (any subset; the rest come from the reference chip)
FIELDS = ("peak_flops", "bandwidth_bytes_per_s", "capacity_bytes", "link_bandwidth_bytes_per_s", "tdp_w",
          "energy_per_flop_j", "static_power_w")


def hardware_arrays(reference: Accelerator, profile: CalibrationProfile, n: int, **arrays) -> dict:
    """Device-like fields as arrays of n chips: `arrays` override the reference chip's values."""
    unknown = set(arrays) - set(FIELDS)
    if unknown:
        raise ValueError(f"cannot vary {sorted(unknown)}; vectorised fields: {', '.join(FIELDS)}")

    def get(name, default):
        return np.broadcast_to(np.asarray(arrays.get(name, default), dtype=float), (n,))

    varied = arrays.get("peak_flops", {})
    peaks = {d: np.broadcast_to(np.asarray(varied.get(d, p), dtype=float), (n,)) for d, p in reference.peak_flops.items()}
    link = reference.scale_up
    a = achievable(peaks, get("bandwidth_bytes_per_s", reference.memory.bandwidth_bytes_per_s),
                   get("link_bandwidth_bytes_per_s", link.bandwidth_bytes_per_s),
                   link.scale_out_bandwidth_bytes_per_s, get("tdp_w", reference.tdp_w or 0.0),
                   reference.memory.energy_per_bit_j or energy_per_bit_j(reference.memory.generation), profile,
                   arrays.get("energy_per_flop_j", reference.energy_per_flop_j),
                   None if "static_power_w" not in arrays and reference.static_power_w is None
                   else get("static_power_w", reference.static_power_w))
    used = {d: reference.flops_for(d)[1] for d in ("bf16", "fp16", "fp8", "int8", "fp4", "int4")}
    a["gemm_rate"] = {d: a["gemm_rate"][u] for d, u in used.items()}
    a["energy_per_flop"] = {**{d: a["energy_per_flop"][u] for d, u in used.items()},
                            "attention": a["energy_per_flop"]["attention"]}
    a.update(tdp_w=get("tdp_w", reference.tdp_w or 0.0), capacity_bytes=get("capacity_bytes",
             reference.memory.capacity_bytes), launch_s=profile.launch_overhead_s, gemm_fixed_s=profile.gemm_fixed_s,
             gemm_ridge_exponent=profile.gemm_ridge_exponent,
             step_overhead_s=profile.step_overhead_s, domain=link.domain,
             link_latency_s=link.latency_s if link.latency_s is not None else profile.collective_latency_s)
    return a


def estimate_many(model: str, reference: Accelerator, *, tp: int = 1, pp: int = 1, ep: int = 1, batch: int = 1,
                  input_len: int = 1024, output_len: int = 256, weight_dtype: str = "bf16", kv_dtype: str = "bf16",
                  gpu_memory_utilization: float = 0.9, max_num_batched_tokens: int = 8192,
                  profile: CalibrationProfile | None = None, **arrays) -> dict[str, np.ndarray]:
    """`estimate`'s main outputs for n chips that differ from `reference` by the given arrays."""
    profile = profile or load_profile(reference.calibration)
    n = max((np.size(v) if not isinstance(v, dict) else max(np.size(x) for x in v.values())) for v in arrays.values()) \
        if arrays else 1
    hw = hardware_arrays(reference, profile, n, **arrays)
    replica = get_replica(model, reference, tp, pp, ep, weight_dtype, kv_dtype, profile)

    ttft = np.zeros(n)
    prefill_j = np.zeros(n)
    for times, shape in prefill_steps(batch, input_len, max_num_batched_tokens):
        t, j = throttled(*step_on(replica.step_cost(shape, detail=True).ops, hw), hw)
        ttft, prefill_j = ttft + times * t, prefill_j + times * j
    decode = replica.step_cost(StepShape.uniform_decode(batch, input_len + output_len // 2, replica.windows),
                               detail=True)
    tpot, decode_j = throttled(*step_on(decode.ops, hw), hw)
    e2e = ttft + (output_len - 1) * tpot

    budget = memory_budget(replica, gpu_memory_utilization, max_num_batched_tokens, batch)
    usable = hw["capacity_bytes"] * gpu_memory_utilization
    kv_seq = kv_bytes_per_sequence(replica, input_len + output_len)
    fixed = budget.fixed_bytes
    devices = replica.plan.num_devices
    has_power = hw["tdp_w"] > 0
    energy_tok = np.where(has_power, (prefill_j + (output_len - 1) * decode_j) * devices / (batch * output_len), np.nan)
    return {
        "fits": fixed + batch * kv_seq <= usable,
        "max_batch": largest_batch(replica, usable, gpu_memory_utilization, max_num_batched_tokens,
                                   input_len + output_len),
        "ttft_s": ttft, "tpot_s": tpot, "e2e_s": e2e,
        "output_tokens_per_s": batch * output_len / e2e,
        "output_tokens_per_s_per_device": batch * output_len / e2e / devices,
        "power_w": np.where(has_power, decode_j / tpot * devices, np.nan),
        "energy_per_output_token_j": energy_tok,
    }
