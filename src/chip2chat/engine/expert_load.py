"""How unevenly routed tokens fall on expert-parallel ranks: the busiest rank sets the step.

Routers favour some experts. With the experts split over `ep` ranks, a rank's load is the sum of
its experts' loads, and every MoE layer waits for the busiest rank. The spread comes from
TensorRT-LLM's measurement for DeepSeek-R1 (catalog/calibration/engines.yaml, `expert_load`):
a per-expert load CV, and how many rank standard deviations the busiest rank sits above the mean
relative to the maximum of that many normal draws (routing loads have a heavier tail). Both are
carried to other EP sizes and experts per rank: with E experts per rank the rank CV is
CV_expert / sqrt(E), and the busiest of ep ranks sits tail x E[max of ep normals] rank CVs above
the mean. Other models route differently; this is the one published measurement.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from chip2chat.hardware.calibration import engine_calibration


@lru_cache(maxsize=None)
def expected_max_normal(n: int) -> float:
    """E[max of n independent standard normal draws] (numerical integration; 0 for n = 1)."""
    x = np.linspace(-12.0, 12.0, 48001)
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    cdf = np.cumsum(pdf) * (x[1] - x[0])
    return float(np.sum(x * n * pdf * cdf ** (n - 1)) * (x[1] - x[0]))


@lru_cache(maxsize=None)
def _measured() -> tuple[float, float]:
    """(per-expert load CV, tail factor over a normal maximum) from the recorded measurement."""
    raw = engine_calibration()["expert_load"]
    cv_rank = raw["rank_load_cv"]
    cv_expert = cv_rank * math.sqrt(raw["experts_per_rank"])
    tail = raw["busiest_over_mean_minus_one"] / (cv_rank * expected_max_normal(raw["ranks"]))
    return cv_expert, tail


def busiest_rank_factor(ep: int, experts_per_rank: float) -> float:
    """Token-expert pairs on the busiest of `ep` ranks over the mean (1 without EP; at most ep)."""
    if ep <= 1:
        return 1.0
    cv_expert, tail = _measured()
    spread = tail * expected_max_normal(ep) * cv_expert / math.sqrt(max(experts_per_rank, 1.0))
    return min(float(ep), 1.0 + spread)
