"""What `configure` returns: the simulated finalists, the best of them, and their Pareto front."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chip2chat.configure.capacity import Capacity
from chip2chat.configure.space import AGGREGATED, Candidate
from chip2chat.serving.config import Slo


@dataclass(frozen=True)
class Finalist:
    """A candidate simulated: its capacity within the SLO, found by bisection on the rate."""

    candidate: Candidate
    screened_rate_per_s: float
    """What the analytic screen expected it to carry."""
    capacity: Capacity
    mean_output_len: float

    @property
    def meets_slo(self) -> bool:
        return self.capacity.rate_per_s is not None

    @property
    def rate_per_s(self) -> float:
        """Requests per second the whole candidate serves within the SLO (0 when it cannot)."""
        return self.capacity.rate_per_s or 0.0

    @property
    def tokens_per_s_per_gpu(self) -> float:
        """Output tokens per second per GPU at that rate."""
        return self.rate_per_s * self.mean_output_len / self.candidate.gpus

    @property
    def tokens_per_s_per_user(self) -> float:
        """1 / mean TPOT of its run at that rate (NaN when it cannot meet the SLO)."""
        s = self.capacity.summary
        return 1e3 / s["mean_tpot_ms"] if s and s["mean_tpot_ms"] > 0 else math.nan

    def row(self) -> dict:
        s = self.capacity.summary or {}
        return {**candidate_row(self.candidate), "meets_slo": self.meets_slo, "rate_per_s": self.rate_per_s,
                "tokens_per_s_per_gpu": self.tokens_per_s_per_gpu, "tokens_per_s_per_user": self.tokens_per_s_per_user,
                "p99_ttft_ms": s.get("p99_ttft_ms", math.nan), "p99_tpot_ms": s.get("p99_tpot_ms", math.nan),
                "screened_rate_per_s": self.screened_rate_per_s,
                "saturated_rate_per_s": self.capacity.saturated_rate_per_s, "simulations": len(self.capacity.probes) + 1}


def candidate_row(c: Candidate) -> dict:
    """A candidate's settings as table columns ("a/b" where the prefill and decode pools differ)."""
    first, last = c.workers[0], c.workers[-1]
    return {"mode": c.mode, "configuration": c.label(), "gpus": c.gpus, "replicas": _pools(c, lambda w: w.count),
            "chip": _pools(c, lambda w: w.chip), "tp": _pools(c, lambda w: w.plan.tp),
            "pp": _pools(c, lambda w: w.plan.pp), "ep": _pools(c, lambda w: w.plan.ep),
            "attention_dp": _pools(c, lambda w: w.plan.attention_dp), "kv_dtype": c.kv_dtype,
            "max_num_seqs": _pools(c, lambda w: w.max_num_seqs),
            "max_num_batched_tokens": _pools(c, lambda w: w.max_num_batched_tokens),
            "chunked_prefill": first.enable_chunked_prefill and last.enable_chunked_prefill,
            "speculative": c.speculative.label if c.speculative else "none"}


def _pools(c: Candidate, get):
    values = [get(w) for w in c.workers]
    return values[0] if c.mode == AGGREGATED else "/".join(map(str, values))


def pareto(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the points no other point beats on both x and y (both maximised; NaN never on it)."""
    mask = np.zeros(len(x), dtype=bool)
    best_y = -math.inf
    for i in sorted(range(len(x)), key=lambda i: (-x[i], -y[i])):
        if np.isfinite(x[i]) and np.isfinite(y[i]) and y[i] > best_y:
            mask[i], best_y = True, y[i]
    return mask


@dataclass
class ConfigureResult:
    """The search's answer. Every figure of `best` comes from its own simulation."""

    model: str
    engine: str
    weight_dtype: str
    slo: Slo
    workload: str
    gpus: int | None
    """The GPU budget searched within (None when sizing for a rate)."""
    rate_per_s: float | None
    """The request rate sized for (None with a GPU budget)."""
    finalists: list[Finalist]
    screened: pd.DataFrame
    """Every candidate of the screen: its analytic rate within the SLO, GPUs and user speed."""
    best: Finalist | None
    """The finalist that serves the budget's largest rate, or the rate with the fewest GPUs."""
    units: int | None = None
    """Copies of `best` that serve `rate_per_s` (None with a GPU budget)."""
    check: dict | None = field(default=None, repr=False)
    """The simulation of one copy of `best` at its share of `rate_per_s`, which met the SLO."""
    seconds: float = 0.0

    def best_of(self, mode: str) -> Finalist | None:
        """The best finalist of one mode (aggregated or disaggregated) that meets the SLO."""
        return _best([f for f in self.finalists if f.candidate.mode == mode], self.rate_per_s)

    @property
    def front(self) -> pd.DataFrame:
        """The finalists, one row each, with `pareto`: on the front of tokens/s/GPU vs tokens/s/user."""
        rows = pd.DataFrame([f.row() for f in self.finalists])
        if rows.empty:
            return rows
        rows["pareto"] = pareto(rows["tokens_per_s_per_gpu"].to_numpy(float),
                                rows["tokens_per_s_per_user"].to_numpy(float)) & rows["meets_slo"].to_numpy()
        return rows.sort_values("tokens_per_s_per_gpu", ascending=False, ignore_index=True)

    @property
    def total_gpus(self) -> int | None:
        """GPUs of the deployment: the best candidate, times its copies for a rate."""
        return None if self.best is None else self.best.candidate.gpus * (self.units or 1)

    def launch(self, finalist: Finalist | None = None, engine: str | None = None) -> dict[str, str]:
        """Launch files (name -> text) of a finalist (default: the best) for its engine."""
        from chip2chat.configure.launch import launch_files

        chosen = finalist or self.best
        if chosen is None:
            return {}
        return launch_files(self.model, chosen.candidate, engine or self.engine, self.weight_dtype)


def best_finalist(finalists: list[Finalist], rate_per_s: float | None) -> Finalist | None:
    """The largest rate (a GPU budget) or the fewest GPUs for `rate_per_s`; ties: more tokens/s/GPU."""
    return _best(finalists, rate_per_s)


def _best(finalists: list[Finalist], rate_per_s: float | None) -> Finalist | None:
    ok = [f for f in finalists if f.meets_slo]
    if not ok:
        return None
    if rate_per_s is None:
        return max(ok, key=lambda f: (f.rate_per_s, f.tokens_per_s_per_gpu))
    return min(ok, key=lambda f: (math.ceil(rate_per_s / f.rate_per_s - 1e-9) * f.candidate.gpus,
                                  -f.tokens_per_s_per_gpu))
