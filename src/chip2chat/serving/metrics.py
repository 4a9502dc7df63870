"""Summary metrics of a simulation, named as vLLM's benchmark_serving names them.

TTFT = first token - arrival; TPOT = (finish - first token) / (output tokens - 1) per request;
ITL = gaps between consecutive tokens of a request (from the replicas' histograms);
E2EL = finish - arrival. Percentiles are numpy's (linear interpolation), as in vLLM.
Goodput counts the completed requests that meet every given SLO, per second.
"""

from __future__ import annotations

from operator import attrgetter

import numpy as np
import pandas as pd

from chip2chat.serving.config import Slo
from chip2chat.serving.request import FINISHED, REJECTED, Request
from chip2chat.serving.stats import LatencyHistogram

PERCENTILES = (50, 90, 99)
REQUEST_COLUMNS = {"id": np.int64, "replica": np.int64, "status": str, "arrival_s": float, "scheduled_s": float,
                   "first_token_s": float, "finish_s": float, "input_len": np.int64, "output_len": np.int64,
                   "preemptions": np.int64, "reason": str}
"""The request table's columns, each Request's attribute of that name, with their dtypes."""
OVERLOAD_RATIO = 1.05
"""Offered over served rate above which a run is called overloaded (Poisson noise of a 1,000-request
run is ~3% on either rate)."""


def _stats(name: str, values_s: np.ndarray) -> dict:
    out = {}
    ms = values_s * 1e3
    out[f"mean_{name}_ms"] = float(ms.mean()) if ms.size else float("nan")
    for q in PERCENTILES:
        key = "median" if q == 50 else f"p{q}"
        out[f"{key}_{name}_ms"] = float(np.percentile(ms, q)) if ms.size else float("nan")
    return out


def request_table(requests: list[Request]) -> pd.DataFrame:
    """One row per request, with its TTFT, TPOT and E2E (NaN unless finished; TPOT also NaN for a
    one-token output). The one place these latencies are computed."""
    n = len(requests)
    df = pd.DataFrame({name: list(map(attrgetter(name), requests)) if dtype is str else
                       np.fromiter(map(attrgetter(name), requests), dtype=dtype, count=n)
                       for name, dtype in REQUEST_COLUMNS.items()})
    done = df["status"] == FINISHED
    df["ttft_s"] = np.where(done, df["first_token_s"] - df["arrival_s"], np.nan)
    df["e2e_s"] = np.where(done, df["finish_s"] - df["arrival_s"], np.nan)
    df["tpot_s"] = np.where(done & (df["output_len"] > 1),
                            (df["finish_s"] - df["first_token_s"]) / (df["output_len"] - 1).clip(lower=1), np.nan)
    return df


def summarize(table: pd.DataFrame, sims, slo: Slo, static_w_per_replica: float) -> dict:
    """The run's metrics from its request table and what the replicas recorded."""
    done = table[table["status"] == FINISHED]
    ttft, e2e, tpot_or_nan = (done[c].to_numpy() for c in ("ttft_s", "e2e_s", "tpot_s"))
    tpot = tpot_or_nan[~np.isnan(tpot_or_nan)]
    n_in, n_out = done["input_len"].to_numpy(dtype=float), done["output_len"].to_numpy(dtype=float)
    start = float(table["arrival_s"].min()) if len(table) else 0.0
    end = float(done["finish_s"].max()) if len(done) else start
    duration = max(end - start, 1e-12)
    itl = LatencyHistogram()
    for s in sims:
        itl.merge(s.stats.itl)
    ok = np.ones(len(done), dtype=bool)
    if slo.ttft_ms is not None:
        ok &= ttft * 1e3 <= slo.ttft_ms
    if slo.tpot_ms is not None:  # a one-token output has no TPOT to miss
        ok &= np.isnan(tpot_or_nan) | (tpot_or_nan * 1e3 <= slo.tpot_ms)
    busy = sum(s.stats.busy_s for s in sims)
    energy = sum(s.stats.energy_j for s in sims) + static_w_per_replica * max(0.0, len(sims) * duration - busy)
    kv_u = sum(u for s in sims for u, _ in s.stats.kv_time.values())
    kv_t = sum(t for s in sims for _, t in s.stats.kv_time.values())
    out_tokens = float(n_out.sum())
    summary = {
        "completed": len(done),
        "rejected": int((table["status"] == REJECTED).sum()),
        "duration_s": duration,
        "total_input_tokens": int(n_in.sum()),
        "total_output_tokens": int(out_tokens),
        "request_throughput": len(done) / duration,
        "output_throughput": out_tokens / duration,
        "total_token_throughput": (out_tokens + n_in.sum()) / duration,
        "request_goodput": float(ok.sum()) / duration,
        "goodput_fraction": float(ok.mean()) if len(done) else float("nan"),
        **_stats("ttft", ttft),
        **_stats("tpot", tpot),
        "mean_itl_ms": itl.mean * 1e3,
        "median_itl_ms": itl.percentile(50) * 1e3,
        "p90_itl_ms": itl.percentile(90) * 1e3,
        "p99_itl_ms": itl.percentile(99) * 1e3,
        **_stats("e2el", e2e),
        "preemptions": sum(s.stats.preemptions for s in sims),
        "prefix_cache_hit_tokens": sum(s.stats.prefix_hit_tokens for s in sims),
        "mean_kv_utilization": kv_u / kv_t if kv_t else 0.0,
        "mean_requests_in_system": sum(s.stats.in_system_s for s in sims) / duration,
        "mean_requests_waiting": sum(s.stats.waiting_s for s in sims) / duration,
        "engine_steps": sum(s.stats.steps for s in sims),
        "busy_fraction": busy / (len(sims) * duration) if sims else 0.0,
        "energy_j": energy,
        "energy_per_output_token_j": energy / out_tokens if out_tokens else float("nan"),
        "slo_ttft_ms": slo.ttft_ms,
        "slo_tpot_ms": slo.tpot_ms,
        **offered_vs_served(table["arrival_s"].to_numpy(), table["scheduled_s"].to_numpy()),
    }
    return summary


def offered_vs_served(arrival_s: np.ndarray, scheduled_s: np.ndarray) -> dict:
    """Is the offered load above what the replicas can serve?

    An engine that keeps up schedules each request soon after it arrives; one that cannot runs at
    its own maximum rate while its waiting queue grows for as long as requests arrive (so its
    latencies measure the run's length, not the system). The served rate is the offered rate less
    the growth of the mean waiting queue from the third to the last quarter of the arrival window
    (the first half is the fill). It is called overloaded when the offered rate is OVERLOAD_RATIO
    above that and the growth exceeds three Poisson standard deviations of the queue (a burst of
    arrivals is not an overload). A run whose requests all arrive at once is overloaded by design
    and not judged."""
    arrivals = np.sort(arrival_s)
    scheduled = np.sort(scheduled_s[scheduled_s >= 0])  # -1: never scheduled
    out = {"offered_rate_per_s": float("nan"), "served_rate_per_s": float("nan"), "overload": ""}
    if arrivals.size < 100 or arrivals[-1] <= arrivals[0]:
        return out  # too few arrivals, or all at once
    start, end = arrivals[0], arrivals[-1]
    grid = np.linspace(start + (end - start) / 2, end, 201)
    waiting = np.searchsorted(arrivals, grid, side="right") - np.searchsorted(scheduled, grid, side="right")
    third, last = waiting[:100].mean(), waiting[101:].mean()
    growth = last - third  # over a quarter of the window
    offered = (arrivals.size - 1) / (end - start)
    served = offered - growth / ((end - start) / 4)
    out.update(offered_rate_per_s=float(offered), served_rate_per_s=float(served))
    if offered > OVERLOAD_RATIO * served and growth > 3 * np.sqrt(max(third, 1.0)):
        out["overload"] = (f"the offered load ({offered:.3g} req/s) is {offered / served:.0%} of what the replicas "
                           f"served ({served:.3g} req/s): the waiting queue grew from {third:.0f} to {last:.0f} "
                           f"requests over the last half of the arrivals and keeps growing for as long as requests "
                           f"arrive, so latencies measure the run's length; lower the request rate or add replicas")
    return out
