"""`simulate`: a workload through replicas of a served model, with vLLM-style metrics.

    sim = chip2chat.simulate(model="llama-3.1-8b", hardware="h100", rate_per_s=20, num_requests=10_000)
    sim.metrics      # one-row DataFrame, vLLM benchmark_serving names (mean_ttft_ms, p99_tpot_ms, ...)
    sim.requests     # one row per request: arrival, first token, finish, tokens, preemptions, replica
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chip2chat import args
from chip2chat.engine.estimate import get_replica
from chip2chat.engine.memory import kv_bytes_per_token_per_device, memory_budget
from chip2chat.errors import Chip2ChatError, DoesNotFitError, validated
from chip2chat.serving.cluster import ROUTERS, run_cluster
from chip2chat.serving.config import SchedulerConfig
from chip2chat.serving.metrics import summarize
from chip2chat.serving.replica_sim import ReplicaSim
from chip2chat.serving.request import Request
from chip2chat.serving.stats import ReplicaStats
from chip2chat.workload import Workload, read_trace, synthetic


@dataclass
class SimulationResult:
    summary: dict
    """Scalar metrics (see `metrics`)."""
    requests: pd.DataFrame
    """One row per request, rejected ones included with their reason."""
    kv_utilization: pd.DataFrame
    """Time-weighted KV-cache use per replica and time bucket (time_s, replica, utilization)."""
    chrome_trace: list = field(default_factory=list)

    @property
    def metrics(self) -> pd.DataFrame:
        return pd.DataFrame([self.summary])

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, sort_keys=False)

    def write_chrome_trace(self, path: str) -> None:
        """Steps as Chrome trace events (open in chrome://tracing or Perfetto)."""
        events = [{"name": f"step x{steps}" if steps > 1 else "step", "ph": "X", "ts": start * 1e6,
                   "dur": seconds * 1e6, "pid": 0, "tid": replica,
                   "args": {"prefill_tokens": pt, "decode_tokens": ds, "steps": steps}}
                  for replica, start, seconds, pt, ds, steps in self.chrome_trace]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)


def simulate(model: str = "llama-3.1-8b", hardware: str = "h100", *, tp: int = 1, pp: int = 1, ep: int = 1,
             attention_dp: bool = False,
             num_replicas: int = 1, weight_dtype: str = "bf16", kv_dtype: str = "bf16",
             workload: Workload | None = None, rate_per_s: float | None = 10.0, num_requests: int = 1000,
             input_len: int | tuple = 1024, output_len: int | tuple = 256, arrival: str = "poisson",
             cv: float = 1.0, seed: int = 0, trace: str | None = None, trace_format: str | None = None,
             max_num_seqs: int = 256, max_num_batched_tokens: int = 8192, enable_chunked_prefill: bool = True,
             enable_prefix_caching: bool = False, block_size: int = 16, gpu_memory_utilization: float = 0.9,
             policy: str = "fcfs", kv_reservation: str = "on_demand", host_overhead_per_seq_s: float = 0.0,
             router: str = "round_robin",
             disaggregate: tuple[int, int] | None = None, kv_link_bandwidth_bytes_per_s: float | None = None,
             slo_ttft_ms: float | None = None, slo_tpot_ms: float | None = None,
             step_by_step: bool = False, record_trace: bool = False, bucket_s: float = 1.0,
             progress=None) -> SimulationResult:
    """Simulate serving a workload. Same arguments and seed, same result.

    The workload is `workload`, else the trace file, else a synthetic one (`num_requests` at
    `rate_per_s` with `arrival` in poisson / gamma (burstiness `cv`) / daily / all_at_once, and
    lengths that are ints or ("uniform", lo, hi) / ("lognormal", mean, cv)).
    `disaggregate=(P, D)`: P prefill-only replicas hand each prompt's KV to D decode replicas
    over a link of `kv_link_bandwidth_bytes_per_s` per replica (default: the chips' scale-out
    bandwidth, one NIC per chip).
    `attention_dp`: attention data parallel over the tp chips (MoE with ep = tp; see ParallelPlan).
    """
    cfg = validated(SchedulerConfig, dict(
        max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
        enable_chunked_prefill=enable_chunked_prefill, enable_prefix_caching=enable_prefix_caching,
        block_size=block_size, gpu_memory_utilization=gpu_memory_utilization, policy=policy,
        kv_reservation=kv_reservation, host_overhead_per_seq_s=host_overhead_per_seq_s), "serving options")
    args.one_of("router", router, ROUTERS)
    args.positive_int("num_replicas", num_replicas)
    args.positive_int("seed", seed, low=0)
    args.number("bucket_s", bucket_s, low=0, low_open=True)
    for name, value in (("slo_ttft_ms", slo_ttft_ms), ("slo_tpot_ms", slo_tpot_ms),
                        ("kv_link_bandwidth_bytes_per_s", kv_link_bandwidth_bytes_per_s)):
        args.number(name, value, low=0, low_open=True, optional=True)
    if workload is not None:
        args.instance("workload", workload, (Workload,), "a chip2chat.workload.Workload or None")
    if disaggregate is not None and not (isinstance(disaggregate, (tuple, list)) and len(disaggregate) == 2):
        raise Chip2ChatError(f"disaggregate must be (prefill replicas, decode replicas), e.g. (2, 6), got {disaggregate!r}")
    if workload is None:
        if trace is not None:
            if trace_format is None:
                raise Chip2ChatError("a trace needs its format: trace_format azure, burstgpt or mooncake")
            workload = read_trace(trace, trace_format)
        else:
            workload = synthetic(num_requests, rate_per_s, input_len=input_len, output_len=output_len,
                                 arrival=arrival, cv=cv, seed=seed)
    replica = get_replica(model, hardware, tp, pp, ep, weight_dtype, kv_dtype, attention_dp=attention_dp)
    total_blocks = _kv_blocks(replica, cfg)
    requests = _requests(workload)
    scale = replica.plan.num_devices

    def make(n: int, role: str = "both", offset: int = 0, on_prefilled=None) -> list[ReplicaSim]:
        sims = []
        for i in range(n):
            stats = ReplicaStats(bucket_s=bucket_s, trace=[] if record_trace else None)
            sims.append(ReplicaSim(offset + i, replica, cfg, total_blocks, workload.hash_block_size, stats,
                                   step_by_step=step_by_step, role=role, on_prefilled=on_prefilled,
                                   energy_scale=scale))
        return sims

    if disaggregate is None:
        sims = make(num_replicas)
        run_cluster([(r.arrival_s, r) for r in requests], sims, router, progress=progress)
        all_sims = sims
    else:
        n_prefill, n_decode = (args.positive_int(f"disaggregate[{i}]", n) for i, n in enumerate(disaggregate))
        handed: list[tuple[float, Request]] = []
        link = kv_link_bandwidth_bytes_per_s or replica.device.hw.scale_up.scale_out_bandwidth_bytes_per_s * scale
        kv_per_token = replica.model.kv_bytes_per_token(kv_dtype)
        latency = replica.device.link_latency_s

        def on_prefilled(req: Request, t: float) -> None:
            handed.append((t + latency + req.input_len * kv_per_token / link, req))

        prefill = make(n_prefill, role="prefill", on_prefilled=on_prefilled)
        run_cluster([(r.arrival_s, r) for r in requests], prefill, router, progress=progress)
        handed.sort(key=lambda e: (e[0], e[1].id))
        decode = make(n_decode, offset=n_prefill)
        run_cluster(handed, decode, router if router != "prefix_affinity" else "least_outstanding_tokens",
                    prefilled=True)
        all_sims = prefill + decode
    summary = summarize(requests, all_sims, slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms,
                        static_w_per_replica=replica.device.static_w * scale)
    summary.update(model=replica.model.name, hardware=replica.device.hw.name, calibration=replica.device.calibration,
                   tp=tp, pp=pp, ep=ep, attention_dp=attention_dp, num_replicas=len(all_sims), kv_blocks_per_replica=total_blocks,
                   static_power_w_per_replica=replica.device.static_w * scale,
                   block_size=block_size, workload=workload.source)
    kv = [(b * bucket_s, s.index, u / t) for s in all_sims for b, (u, t) in sorted(s.stats.kv_time.items()) if t > 0]
    steps = [(s.index, *row) for s in all_sims for row in (s.stats.trace or [])]
    return SimulationResult(summary=summary, requests=_frame(requests),
                            kv_utilization=pd.DataFrame(kv, columns=["time_s", "replica", "utilization"]),
                            chrome_trace=steps)


def _kv_blocks(replica, cfg: SchedulerConfig) -> int:
    budget = memory_budget(replica, cfg.gpu_memory_utilization, cfg.max_num_batched_tokens, cfg.max_num_seqs)
    per_block = kv_bytes_per_token_per_device(replica) * cfg.block_size
    blocks = math.floor(budget.kv_capacity_bytes / per_block)
    if blocks <= 0:
        gb = 1e9
        raise DoesNotFitError(
            f"{replica.model.name} leaves no room for a KV cache on {replica.device.hw.name} with tp={replica.plan.tp} "
            f"pp={replica.plan.pp}: weights {budget.weights_bytes / gb:.1f} GB + activations "
            f"{budget.activation_bytes / gb:.1f} GB + runtime {budget.runtime_bytes / gb:.1f} GB per device vs "
            f"{budget.usable_bytes / gb:.1f} GB usable")
    return blocks


def _requests(w: Workload) -> list[Request]:
    prio = w.priority if w.priority is not None else np.zeros(len(w), dtype=np.int64)
    hashes = w.prefix_hashes if w.prefix_hashes is not None else [None] * len(w)
    return [Request(i, a, n_in, n_out, p, h) for i, (a, n_in, n_out, p, h) in
            enumerate(zip(w.arrival_s.tolist(), w.input_len.tolist(), w.output_len.tolist(), prio.tolist(), hashes))]


def _frame(requests: list[Request]) -> pd.DataFrame:
    cols = {
        "id": [r.id for r in requests],
        "replica": [r.replica for r in requests],
        "status": [r.status for r in requests],
        "arrival_s": [r.arrival_s for r in requests],
        "scheduled_s": [r.scheduled_s for r in requests],
        "first_token_s": [r.first_token_s for r in requests],
        "finish_s": [r.finish_s for r in requests],
        "input_len": [r.input_len for r in requests],
        "output_len": [r.output_len for r in requests],
        "preemptions": [r.preemptions for r in requests],
        "reason": [r.reason for r in requests],
    }
    df = pd.DataFrame(cols)
    done = df["status"] == "finished"
    df["ttft_s"] = np.where(done, df["first_token_s"] - df["arrival_s"], np.nan)
    df["e2e_s"] = np.where(done, df["finish_s"] - df["arrival_s"], np.nan)
    df["tpot_s"] = np.where(done & (df["output_len"] > 1),
                            (df["finish_s"] - df["first_token_s"]) / (df["output_len"] - 1).clip(lower=1), np.nan)
    return df
