"""Fit a CalibrationProfile from raw microbenchmarks (pure numpy; no validation data ever).

- gemm_efficiency per dtype: the best achieved FLOP/s over the chip's dense peak (maximum
  achievable matmul FLOPS, as Stas Bekman's MAMF finder defines it), over GEMMs big enough to
  be compute-bound (>= 1 GFLOP);
- memory_efficiency: the best achieved bandwidth over peak, copies of >= 64 MB and of at least
  twice the chip's on-chip cache (smaller ones may run from the cache, faster than the HBM);
- attention_efficiency: the best prefill-attention FLOP/s over the bf16 peak;
- launch_overhead_s: the fastest tiny kernel measured (<= 0.1 GFLOP and 10 MB), if any;
- collective_latency_s and collective_efficiency: a line t = a + n_bus / b through the
  all-reduce timings (n_bus = 2(p-1)/p x message; least squares on relative error), b over the
  per-direction link peak.
A quantity with no measurement keeps the default profile's value; a file with nothing to fit is
an error.

Before fitting, every row is checked against the chip: no kernel does more FLOP/s than the peak
of its dtype, no large copy moves more than the HBM bandwidth, no all-reduce beats 1.2x the link
(the bound CalibrationProfile puts on collective_efficiency: a ring on a switched fabric such as
NVLink can reach a little over the per-direction peak). A row beyond that is wrong data (most
often flops, bytes or seconds in the wrong unit), and the profile it would give is absurd: the
fit stops with the row and the two figures instead of writing it.
"""

from __future__ import annotations

import math

import numpy as np

from chip2chat.calibrate.raw import RawMeasurement
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.spec import Accelerator

BIG_GEMM_FLOPS = 1e9
BIG_COPY_BYTES = 64e6
COLLECTIVE_LIMIT = 1.2  # CalibrationProfile.collective_efficiency's upper bound
UNITS = "wrong units in flops, bytes or seconds?"


def fit_profile(rows: list[RawMeasurement], hw: Accelerator, name: str, source: str) -> CalibrationProfile:
    check_against_peaks(rows, hw)
    fields: dict = {"name": name, "sources": [source]}
    gemm = {}
    for dtype in sorted({r.dtype for r in rows if r.kind == "gemm"}):
        achieved = [r.flops / r.seconds for r in rows
                    if r.kind == "gemm" and r.dtype == dtype and r.flops >= BIG_GEMM_FLOPS]
        if achieved and dtype in hw.peak_flops:
            gemm[dtype] = _sig(max(achieved) / hw.peak_flops[dtype])
    if gemm:
        fields["gemm_efficiency"] = gemm
    copies = [r.bytes / r.seconds for r in rows if r.kind == "memcpy" and r.bytes >= _big_copy(hw)]
    if copies:
        fields["memory_efficiency"] = _sig(max(copies) / hw.memory.bandwidth_bytes_per_s)
    attn = [r.flops / r.seconds for r in rows if r.kind == "attention_prefill" and r.flops > 0]
    if attn:
        # capped: an fp8 kernel may beat the bf16 peak this field is a fraction of (rows are checked
        # against their own dtype's peak above)
        fields["attention_efficiency"] = _sig(min(1.0, max(attn) / hw.flops_for("bf16")[0]))
    tiny = [r.seconds for r in rows if r.kind in ("gemm", "memcpy") and r.flops <= 1e8 and r.bytes <= 1e7]
    if tiny:
        fields["launch_overhead_s"] = float(min(tiny))
    reduce = [r for r in rows if r.kind == "all_reduce" and r.ranks > 1]
    if len(reduce) >= 2:
        latency, efficiency = _fit_all_reduce(reduce, hw)
        fields["collective_latency_s"] = max(0.0, latency)
        fields["collective_efficiency"] = _sig(efficiency)
    if len(fields) == 2:
        where = f"{rows[0].file}: " if rows and rows[0].file else ""
        count = f"{len(rows)} measurement" + ("" if len(rows) == 1 else "s")
        raise Chip2ChatError(
            f"{where}nothing to fit in {count}: the fit needs gemm rows of >= 1 GFLOP in a dtype "
            f"{hw.name} has a peak for ({', '.join(hw.peak_flops)}), memcpy rows of >= {_big_copy(hw) / 1e6:,.0f} "
            f"MB, attention_prefill rows, tiny gemm or memcpy kernels, or 2 or more all_reduce rows")
    return CalibrationProfile(**fields)


def check_against_peaks(rows: list[RawMeasurement], hw: Accelerator) -> None:
    """Stop at the first row that implies more than the chip can do (see the module docstring)."""
    fastest = max(hw.peak_flops.values())
    for r in rows:
        if r.flops > 0:
            peak = hw.peak_flops.get(r.dtype, fastest)
            label = f"{r.dtype} peak" if r.dtype in hw.peak_flops else "fastest peak"
            _at_most(r, r.flops / r.seconds, peak, f"{hw.name}'s {label}", "TFLOP/s", 1e12)
        if r.kind == "memcpy" and r.bytes >= _big_copy(hw):
            _at_most(r, r.bytes / r.seconds, hw.memory.bandwidth_bytes_per_s, f"{hw.name}'s memory bandwidth",
                     "GB/s", 1e9)
        if r.kind == "all_reduce":
            _at_most(r, _bus_bytes(r) / r.seconds, hw.scale_up.bandwidth_per_direction,
                     f"{hw.name}'s link bandwidth per direction", "GB/s", 1e9, limit=COLLECTIVE_LIMIT,
                     quantity="a bus bandwidth of ")


def _at_most(r: RawMeasurement, achieved: float, peak: float, what: str, unit: str, scale: float,
             limit: float = 1.0, quantity: str = "") -> None:
    if achieved > limit * peak:
        bound = f"{limit:g}x the {what}" if limit != 1.0 else f"the {what}"
        raise Chip2ChatError(
            f"{r.where}: {r.kind} {r.shape} achieves {quantity}{achieved / scale:,.1f} {unit}, more than {bound} "
            f"({peak / scale:,.1f} {unit}; efficiency {_ratio(achieved / peak)}); {UNITS}")


def _fit_all_reduce(reduce: list[RawMeasurement], hw: Accelerator) -> tuple[float, float]:
    """(latency s, bus bandwidth over the per-direction link peak) of the all-reduce rows."""
    bus = np.array([_bus_bytes(r) for r in reduce])
    seconds = np.array([r.seconds for r in reduce])
    lines = sorted(r.line for r in reduce)
    rows = f"{reduce[0].file}: all_reduce rows {lines[0]}-{lines[-1]}" if reduce[0].file else "the all_reduce rows"
    if np.ptp(bus) == 0:
        raise Chip2ChatError(f"{rows}: every all_reduce has the same message size; the fit needs two or more "
                             f"sizes to separate latency from bandwidth")
    latency, bus_bw = fit_latency_bandwidth(bus, seconds)
    peak = hw.scale_up.bandwidth_per_direction
    if not 0 < bus_bw <= COLLECTIVE_LIMIT * peak:
        got = "a time that does not grow with the message size" if not 0 < bus_bw < math.inf else \
            f"{bus_bw / 1e9:,.1f} GB/s of bus bandwidth, more than {COLLECTIVE_LIMIT:g}x the link's " \
            f"{peak / 1e9:,.1f} GB/s per direction"
        raise Chip2ChatError(f"{rows}: the all-reduce timings fit {got}; {UNITS}")
    return latency, bus_bw / peak


def fit_latency_bandwidth(bus_bytes: np.ndarray, seconds: np.ndarray) -> tuple[float, float]:
    """Least squares t = a + n / b on relative errors (weights 1/t), so that the small messages,
    which set the latency, count as much as the large ones. Returns (a seconds, b bytes/s)."""
    slope, intercept = np.polyfit(bus_bytes, seconds, 1, w=1.0 / seconds)
    return float(intercept), (1.0 / float(slope) if slope else math.inf)


def _bus_bytes(r: RawMeasurement) -> float:
    """Bytes each rank sends in a ring all-reduce of r.bytes: 2 (p - 1) / p of the message."""
    return 2 * (r.ranks - 1) / r.ranks * r.bytes


def _big_copy(hw: Accelerator) -> float:
    """Copies at least this large run from HBM: 64 MB, or twice the on-chip cache if larger."""
    return max(BIG_COPY_BYTES, 2 * (hw.sram_bytes or 0))


def _ratio(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}"


def _sig(x: float) -> float:
    """Four significant digits (a CPU's tiny efficiencies must not round to zero)."""
    return float(f"{float(x):.4g}")
