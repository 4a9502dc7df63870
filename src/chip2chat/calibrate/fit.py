"""Fit a CalibrationProfile from raw microbenchmarks (pure numpy; no validation data ever).

- gemm_efficiency per dtype: the best achieved FLOP/s over the chip's dense peak (maximum
  achievable matmul FLOPS, as Stas Bekman's MAMF finder defines it), over GEMMs big enough to
  be compute-bound (>= 1 GFLOP);
- memory_efficiency: the best achieved bandwidth over peak, copies of >= 64 MB;
- attention_efficiency: the best prefill-attention FLOP/s over the bf16 peak;
- launch_overhead_s: the fastest tiny kernel measured (<= 0.1 GFLOP and 10 MB), if any;
- collective_latency_s and collective_efficiency: a line t = a + n_bus / b through the
  all-reduce timings (n_bus = 2(p-1)/p x message; least squares on relative error), b over the
  per-direction link peak.
A quantity with no measurement keeps the default profile's value.
"""

from __future__ import annotations

import numpy as np

from chip2chat.calibrate.raw import RawMeasurement
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.spec import Accelerator


def fit_profile(rows: list[RawMeasurement], hw: Accelerator, name: str, source: str) -> CalibrationProfile:
    fields: dict = {"name": name, "sources": [source]}
    gemm = {}
    for dtype in sorted({r.dtype for r in rows if r.kind == "gemm"}):
        achieved = [r.flops / r.seconds for r in rows if r.kind == "gemm" and r.dtype == dtype and r.flops >= 1e9]
        if achieved and dtype in hw.peak_flops:
            gemm[dtype] = _sig(max(achieved) / hw.peak_flops[dtype])
    if gemm:
        fields["gemm_efficiency"] = gemm
    copies = [r.bytes / r.seconds for r in rows if r.kind == "memcpy" and r.bytes >= 64e6]
    if copies:
        fields["memory_efficiency"] = _sig(min(1.0, max(copies) / hw.memory.bandwidth_bytes_per_s))
    attn = [r.flops / r.seconds for r in rows if r.kind == "attention_prefill" and r.flops > 0]
    if attn:
        fields["attention_efficiency"] = _sig(min(1.0, max(attn) / hw.flops_for("bf16")[0]))
    tiny = [r.seconds for r in rows if r.kind in ("gemm", "memcpy") and r.flops <= 1e8 and r.bytes <= 1e7]
    if tiny:
        fields["launch_overhead_s"] = float(min(tiny))
    reduce = [r for r in rows if r.kind == "all_reduce" and r.ranks > 1]
    if len(reduce) >= 2:
        latency, bus_bw = fit_latency_bandwidth(
            np.array([2 * (r.ranks - 1) / r.ranks * r.bytes for r in reduce]), np.array([r.seconds for r in reduce]))
        fields["collective_latency_s"] = max(0.0, latency)
        fields["collective_efficiency"] = _sig(min(1.2, bus_bw / hw.scale_up.bandwidth_per_direction))
    return CalibrationProfile(**fields)


def fit_latency_bandwidth(bus_bytes: np.ndarray, seconds: np.ndarray) -> tuple[float, float]:
    """Least squares t = a + n / b on relative errors (weights 1/t), so that the small messages,
    which set the latency, count as much as the large ones. Returns (a seconds, b bytes/s)."""
    slope, intercept = np.polyfit(bus_bytes, seconds, 1, w=1.0 / seconds)
    return float(intercept), float(1.0 / slope)


def _sig(x: float) -> float:
    """Four significant digits (a CPU's tiny efficiencies must not round to zero)."""
    return float(f"{float(x):.4g}")
