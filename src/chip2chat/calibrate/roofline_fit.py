"""Fit the analytic roofline's efficiencies on the chips whose kernels were measured.

Chips without measured kernel tables (custom designs, MI300X/MI325X/MI355X, Gaudi 3, TPUs) are
timed by the roofline (costs/roofline.py) with their calibration profile; whatever a profile
does not measure comes from the default profile (hardware/calibration.py DEFAULT). Those
defaults are fitted here, on the measured chips: for each chip of `kernels.chips_with_tables()`
and each engine measured on it, the roofline's TTFT and TPOT over a fixed grid of step shapes
(FIT_WORKLOADS) are matched to the same steps timed by the chip's measured kernel tables, by
least squares on log(roofline / measured) over the fitted fields (FIELDS), starting from the
chip's own profile (its microbenchmarked GEMM efficiencies, tiles and link stay as measured).
The default profile takes the median of the chips' fits, so an unmeasured chip is neither more
optimistic nor more pessimistic than the measured ones are under their own kernels.

Kernel tables are calibration data. The grid below is synthetic (round lengths and batches, the
catalog's own models); nothing here reads a validation row. `chip2chat calibrate --fit-roofline`
writes the fit record (catalog/calibration/measurements/roofline_fit.csv), whose median row
hardware/calibration.py reads for every profile without kernel tables.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from chip2chat.hardware.calibration import ROOFLINE_FIT, CalibrationProfile, load_profile

FIELDS = {  # fitted field: (lower, upper) bound
    "memory_efficiency": (0.4, 0.98),
    "kv_memory_efficiency": (0.15, 0.98),
    "attention_efficiency": (0.15, 0.95),
    "gemm_fixed_s": (0.0, 30e-6),
    "collective_latency_s": (0.0, 60e-6),
}
# The launch per kernel is not fitted: it trades one for one with gemm_fixed_s at every shape.
SCALE = {"gemm_fixed_s": 1e-6, "collective_latency_s": 1e-6}  # fitted in microseconds

# (model, tp, weight dtype, batch, input, output): decode- and prefill-heavy, dense and MoE, one
# chip and tensor-parallel. Shapes that do not fit a chip's memory are skipped on that chip.
FIT_WORKLOADS = [
    (model, tp, dtype, batch, isl, osl)
    for model, tp, dtype in [("llama-3.1-8b", 1, "bf16"), ("llama-3.1-8b", 1, "fp8"), ("llama-3.1-70b", 4, "fp8"),
                             ("llama-3.1-70b", 8, "bf16"), ("mixtral-8x7b", 2, "bf16"), ("qwen3-30b-a3b", 1, "fp8")]
    for batch in (1, 16, 64, 256)
    for isl, osl in ((1000, 200), (4000, 1000), (16000, 200))
]  # 16k prompts: where prefill attention is a large share of the FLOP, so its efficiency is pinned by it


@dataclass(frozen=True)
class ChipFit:
    chip: str
    engine: str
    values: dict[str, float]
    steps: int
    """TTFT and TPOT values fitted (two per workload that fits the chip)."""
    error_before: float
    """Median |roofline / measured - 1| with the chip's own profile."""
    error_after: float
    held_out: float | None = None
    """Median |roofline / measured - 1| with the fitted fields set to the median of the OTHER chips'
    fits: how well the default transfers to a chip whose kernels were not measured."""


def _times(chip: str, engine: str, profile: CalibrationProfile | None, workloads) -> np.ndarray:
    from chip2chat.engine.estimate import estimate

    out = []
    for model, tp, dtype, batch, isl, osl in workloads:
        e = estimate(model, chip, tp=tp, batch=batch, input_len=isl, output_len=osl, weight_dtype=dtype,
                     kv_dtype=dtype, engine=engine, profile=profile, fidelity=None if profile is None else "roofline")
        out += [e.ttft_s, e.tpot_s]
    return np.array(out)


def _fits(chip: str, workloads) -> list:
    from chip2chat.engine.estimate import estimate

    keep = []
    for w in workloads:
        model, tp, dtype, batch, isl, osl = w
        if estimate(model, chip, tp=tp, batch=batch, input_len=isl, output_len=osl, weight_dtype=dtype,
                    kv_dtype=dtype, fidelity="roofline").fits:
            keep.append(w)
    return keep


def fit_chip(chip: str, engine: str, workloads=FIT_WORKLOADS) -> ChipFit:
    """The FIELDS of `chip`'s profile that make its roofline time `workloads` as its measured kernel
    tables under `engine` do (least squares on the log ratio, bounded by FIELDS)."""
    from scipy.optimize import least_squares

    base = load_profile(chip)
    steps = _fits(chip, workloads)
    measured = _times(chip, engine, None, steps)

    def profile(x) -> CalibrationProfile:
        return base.model_copy(update={f: float(v) * SCALE.get(f, 1.0) for f, v in zip(FIELDS, x)})

    def residual(x) -> np.ndarray:
        return np.log(_times(chip, engine, profile(x), steps) / measured)

    start = [_start(base, f) / SCALE.get(f, 1.0) for f in FIELDS]
    lower = [lo / SCALE.get(f, 1.0) for f, (lo, hi) in FIELDS.items()]
    upper = [hi / SCALE.get(f, 1.0) for f, (lo, hi) in FIELDS.items()]
    start = [min(max(s, lo), hi) for s, lo, hi in zip(start, lower, upper)]
    before = residual(start)
    result = least_squares(residual, start, bounds=(lower, upper), diff_step=1e-3, max_nfev=200)
    values = {f: float(v) * SCALE.get(f, 1.0) for f, v in zip(FIELDS, result.x)}
    return ChipFit(chip, engine, values, len(measured), _median_error(before), _median_error(result.fun))


def _start(profile: CalibrationProfile, field: str) -> float:
    return profile.kv_read_efficiency() if field == "kv_memory_efficiency" else getattr(profile, field)


def _median_error(log_ratio) -> float:
    return float(np.median(np.abs(np.exp(log_ratio) - 1.0)))


def fit_all(chips=None) -> list[ChipFit]:
    """Every measured chip under every engine measured on it, each with its held-out error."""
    from chip2chat.hardware.kernels import chips_with_tables, engines_for

    fits = [fit_chip(chip, engine) for chip in (chips or chips_with_tables()) for engine in engines_for(chip)]
    return [replace(f, held_out=held_out_error(f, fits)) for f in fits]


def held_out_error(fit: ChipFit, fits: list[ChipFit], workloads=FIT_WORKLOADS) -> float | None:
    """`fit`'s chip timed with the median fit of the other chips (None with no other chip)."""
    others = [f for f in fits if f.chip != fit.chip]
    if not others:
        return None
    base = load_profile(fit.chip).model_copy(update=medians(others))
    steps = _fits(fit.chip, workloads)
    measured = _times(fit.chip, fit.engine, None, steps)
    return _median_error(np.log(_times(fit.chip, fit.engine, base, steps) / measured))


def medians(fits: list[ChipFit]) -> dict[str, float]:
    """The default profile's values: per chip the median over its engines, then the median over chips."""
    per_chip: dict[str, list[dict]] = {}
    for f in fits:
        per_chip.setdefault(f.chip, []).append(f.values)
    chip_values = [{k: float(np.median([v[k] for v in vs])) for k in FIELDS} for vs in per_chip.values()]
    return {k: float(np.median([v[k] for v in chip_values])) for k in FIELDS}


def write_record(fits: list[ChipFit], path: Path = ROOFLINE_FIT) -> dict[str, float]:
    """Write one row per chip and engine plus the median row; returns the medians."""
    mid = medians(fits)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["chip", "engine", *FIELDS, "steps", "median_error_before", "median_error_after",
                    "median_error_held_out"])
        for fit in fits:
            w.writerow([fit.chip, fit.engine, *(_fmt(fit.values[k]) for k in FIELDS), fit.steps,
                        round(fit.error_before, 4), round(fit.error_after, 4),
                        "" if fit.held_out is None else round(fit.held_out, 4)])
        w.writerow(["median", "", *(_fmt(mid[k]) for k in FIELDS), "", "", "", ""])
    return mid


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value and abs(math.log10(abs(value))) > 3 else f"{value:.3f}"
