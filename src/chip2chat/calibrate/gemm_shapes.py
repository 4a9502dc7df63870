"""Fit the GEMM tile model to published GEMM throughput over many shapes (calibration data).

`catalog/calibration/measurements/gemm_shapes.csv` holds measured TFLOP/s of dense GEMMs on
Hopper for shapes from M=1 to 4096. The tile size and split-K policy of the cost model's
`tile_utilization`, and the fixed cost of a GEMM kernel, are chosen to reproduce them: every
candidate is costed with the cost model's own `gemm()` and the one with the smallest median
|log(predicted / measured)| wins. Block-scaled FP8 kernels (DeepGEMM-style) are left out: the
engines validated against use per-tensor FP8.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from chip2chat.catalog import CATALOG_DIR
from chip2chat.costs.device import Device
from chip2chat.costs.operators import StepCost, gemm
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.dtypes import dtype_bytes

MEASUREMENTS = CATALOG_DIR / "calibration" / "measurements" / "gemm_shapes.csv"
TILES = (64, 128, 256)
FIXED_US = (0, 1, 2, 3, 4, 5, 6)
RIDGE_EXPONENTS = (None, 8.0, 6.0, 4.0, 3.0, 2.0)


def read_gemm_shapes(path: str | Path = MEASUREMENTS, dtype: str = "bf16") -> list[tuple[int, int, int, float]]:
    """(m, n, k, measured FLOP/s) rows of one dtype, dense cuBLAS-class kernels only."""
    with open(path, newline="") as f:
        return [(int(r["m"]), int(r["n"]), int(r["k"]), float(r["tflops"]) * 1e12)
                for r in csv.DictReader(f) if r["dtype"] == dtype and "block" not in r["library"].lower()]


def predicted_flops(rows, hw: Accelerator, profile: CalibrationProfile, dtype: str = "bf16") -> np.ndarray:
    """FLOP/s the cost model's `gemm()` predicts for each shape (operands in `dtype`, bf16 output)."""
    dev = Device(hw, profile)
    out = []
    for m, n, k, _ in rows:
        acc = StepCost()
        gemm(acc, "g", m, n, k, dtype, dtype_bytes(dtype), dev, act_bytes=dtype_bytes(dtype))
        out.append(2.0 * m * n * k / acc.time_s)
    return np.array(out)


def median_error(rows, hw: Accelerator, profile: CalibrationProfile, dtype: str = "bf16") -> float:
    """Median |predicted / measured - 1| in log terms (symmetric for over- and under-prediction)."""
    measured = np.array([r[3] for r in rows])
    return math.expm1(float(np.median(np.abs(np.log(predicted_flops(rows, hw, profile, dtype) / measured)))))


def fit_tiles(rows, hw: Accelerator, profile: CalibrationProfile, dtype: str = "bf16") -> tuple[CalibrationProfile, float]:
    """The profile with the best tile shape, fixed cost per GEMM and ridge exponent, and its error.

    Split-K stays on: the measurements hold no shape with few tiles and a long K (a decode GEMM
    sharded by TP), where libraries split K or stream K; turning it off would fit the medium
    shapes 1% better and make such decode GEMMs several times too slow.
    """
    best = None
    for tile_m in TILES:
        for tile_n in TILES:
            for fixed_us in FIXED_US:
                for exponent in RIDGE_EXPONENTS:
                    candidate = profile.model_copy(update={"tile_m": tile_m, "tile_n": tile_n, "split_k": True,
                                                           "gemm_fixed_s": fixed_us * 1e-6,
                                                           "gemm_ridge_exponent": exponent})
                    err = median_error(rows, hw, candidate, dtype)
                    if best is None or err < best[1] - 1e-12:
                        best = (candidate, err)
    return best
