"""What one replica can carry within the SLO, found with the serving simulator.

The replica's maximum throughput comes from a run with every request queued at once; then a
Poisson stream is simulated at a fixed geometric grid of loads (3% to 100% of that maximum)
and the largest load whose p99 TTFT and p99 TPOT both meet the SLO is the replica's capacity.
Using the same grid for every SLO makes capacity monotone in the SLO: a tighter SLO can only
remove loads from the feasible set, so it never needs fewer replicas. The simulations are given
the SLO, so their goodput counts against it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chip2chat.engine.defaults import ENGINE
from chip2chat.engine.plan import ParallelPlan
from chip2chat.serving.config import SchedulerConfig, Slo
from chip2chat.serving.simulate import simulate
from chip2chat.workload import synthetic


@dataclass(frozen=True)
class ReplicaCapacity:
    devices: int
    engine: str
    """The serving engine the replica ran (engine/engines.py)."""
    fidelity: str
    """How its operators were timed: "measured" kernel tables or the "roofline"."""
    max_rate_per_s: float
    """Requests per second with every request queued at once."""
    slo_rate_per_s: float | None
    """Largest tested load meeting the SLO; None when even the lightest load misses it."""
    p99_ttft_ms: float
    p99_tpot_ms: float
    """At the sizing load (the SLO load, or the lightest one tested when none meets it)."""
    static_power_w: float
    """Replica power with no request (the chips' static power)."""
    dynamic_j_per_output_token: float
    """Energy above static per output token (prefill included), at the sizing load."""
    ttft_ms: list = field(default_factory=list, repr=False)
    tpot_ms: list = field(default_factory=list, repr=False)
    note: str = ""


def replica_capacity(model: str, hardware, *, plan: ParallelPlan, weight_dtype: str, kv_dtype: str, input_len: int,
                     output_len: int, slo: Slo, scheduling: SchedulerConfig | None = None, requests: int = 1500,
                     grid_points: int = 14, seed: int = 0, engine: str = ENGINE) -> ReplicaCapacity:
    """Capacity of one replica (`plan` on `hardware`, served by `engine`) at the SLO, for requests
    of the given lengths."""
    def run(arrival: str, rate_per_s: float):
        workload = synthetic(requests, rate_per_s, input_len=input_len, output_len=output_len, arrival=arrival,
                             seed=seed)
        return simulate(model, hardware, plan=plan, scheduling=scheduling, slo=slo, workload=workload,
                        weight_dtype=weight_dtype, kv_dtype=kv_dtype, engine=engine)

    max_rate = run("all_at_once", 1.0).summary["request_throughput"]
    best = lightest = None
    for rate in max_rate * np.geomspace(0.03, 1.0, grid_points):
        sim = run("poisson", float(rate))
        lightest = lightest or (rate, sim)
        if slo.met_by(sim.summary):
            best = (rate, sim)
    rate, sim = best or lightest
    s = sim.summary
    static = s["static_power_w_per_replica"]
    tokens = s["total_output_tokens"]
    dynamic = max(0.0, s["energy_j"] - static * s["duration_s"]) / tokens if tokens else 0.0
    note = "" if best else (f"cannot meet the SLO: at the lightest load tested ({rate:.3g} req/s per replica) p99 "
                            f"TTFT is {s['p99_ttft_ms']:.0f} ms and p99 TPOT {s['p99_tpot_ms']:.1f} ms "
                            f"(SLO {slo.ttft_ms:g} / {slo.tpot_ms:g} ms)")
    done = sim.requests[sim.requests["status"] == "finished"]
    return ReplicaCapacity(devices=plan.num_devices, engine=engine, fidelity=s["fidelity"], max_rate_per_s=max_rate,
                           slo_rate_per_s=float(rate) if best else None, p99_ttft_ms=s["p99_ttft_ms"],
                           p99_tpot_ms=s["p99_tpot_ms"], static_power_w=static, dynamic_j_per_output_token=dynamic,
                           ttft_ms=(done["ttft_s"] * 1e3).round(3).tolist(),
                           tpot_ms=(done["tpot_s"].dropna() * 1e3).round(3).tolist(), note=note)
