"""Re-cost recorded operators on many chips at once (numpy), for large design sweeps.

A step's operators (their FLOP, bytes, GEMM tile use, collective messages) depend on the model,
the plan and the batch, not on the chip; only the rates do. So the step is recorded once with
`detail=True` on a reference chip and its operators are re-costed here for arrays of chips, with
the same formulas as `operators.py` and `collectives.py`: time = max(FLOP / rate, bytes /
bandwidth) + launch per operator (a GEMM's max softened near the ridge where the profile says so), latency + bus factor x message / link bandwidth per collective.
"""

from __future__ import annotations

import numpy as np

from chip2chat.costs.collectives import _FACTOR
from chip2chat.costs.operators import OpRecord, softened_max


def step_on(ops: list[OpRecord], hw: dict) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, dynamic joules) of one step on every chip of `hw` (arrays keyed like Device's fields)."""
    seconds = np.zeros_like(hw["memory_bw"], dtype=float)
    joules = np.zeros_like(seconds)
    for op in ops:
        if op.collective:
            bw = np.where(op.ranks <= hw["domain"], hw["link_bw"], hw["scale_out_bw"])
            seconds = seconds + (hw["link_latency_s"] + _FACTOR[op.collective](op.ranks) * op.message_bytes / bw) * op.count
            joules = joules + op.bytes * hw["energy_per_byte"]
            continue
        per_bytes = op.bytes / op.count
        t_m = per_bytes / (hw["attention_bw"] if op.rate == "attention" else hw["memory_bw"])
        if op.rate:
            n = None
            if op.rate == "attention":
                t_c = op.flops / op.count / hw["attention_rate"]
            else:
                t_c = op.flops / op.count / (hw["gemm_rate"][op.rate] * op.util) + hw["gemm_fixed_s"]
                n = hw.get("gemm_ridge_exponent")
            t = softened_max(t_c, t_m, n) if n else np.maximum(t_c, t_m)
            joules = joules + op.flops * hw["energy_per_flop"][op.rate]
        else:
            t = t_m
        seconds = seconds + (t + hw["launch_s"]) * op.count
        joules = joules + op.bytes * hw["energy_per_byte"]
    return seconds + hw["step_overhead_s"], joules


def throttled(seconds: np.ndarray, joules: np.ndarray, hw: dict) -> tuple[np.ndarray, np.ndarray]:
    """The TDP cap of `estimate._throttled`, elementwise; chips with tdp 0 (unknown) are not capped."""
    tdp, static = hw["tdp_w"], hw["static_w"]
    has = tdp > 0
    capped = np.where(has, np.maximum(seconds, joules / np.where(has, tdp - static, 1.0)), seconds)
    return capped, np.where(has, joules + static * capped, 0.0)
