"""`simulate`: a workload through replicas of a served model, with vLLM-style metrics.

    sim = chip2chat.simulate(model="llama-3.1-8b", hardware="h100", rate_per_s=20, num_requests=10_000)
    sim.metrics      # one-row DataFrame, vLLM benchmark_serving names (mean_ttft_ms, p99_tpot_ms, ...)
    sim.requests     # one row per request: arrival, first token, finish, tokens, preemptions, replica
"""

from __future__ import annotations

import gc
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from chip2chat import args
from chip2chat.engine.defaults import ENGINE
from chip2chat.engine.engines import serving_engine
from chip2chat.engine.factory import get_replica
from chip2chat.engine.speculative import Speculative
from chip2chat.engine.memory import kv_bytes_per_token_per_device, memory_budget
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError, DoesNotFitError
from chip2chat.serving.cluster import Pool, run_cluster
from chip2chat.serving.config import ClusterConfig, DecodePool, SchedulerConfig, Slo
from chip2chat.serving.metrics import request_table, summarize
from chip2chat.serving.options import settings
from chip2chat.serving.request import Request
from chip2chat.serving.steady import MEASURES, QUEUED_MEASURES, until_steady
from chip2chat.workload import Workload


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


def simulate(model: str = "llama-3.1-8b", hardware: str = "h100", *, plan: ParallelPlan | None = None,
             scheduling: SchedulerConfig | None = None, cluster: ClusterConfig | None = None, slo: Slo | None = None,
             workload: Workload | None = None, weight_dtype: str = "bf16", kv_dtype: str = "bf16",
             engine: str = ENGINE, step_by_step: bool = False, record_trace: bool = False, bucket_s: float = 1.0,
             progress: Callable[[int], None] | None = None, speculative: Speculative | None = None,
             decode_pool: DecodePool | None = None, cuda_graphs: bool | None = None, **keywords) -> SimulationResult:
    """Simulate serving a workload. Same arguments and seed, same result.

    The settings are values: the replica's parallel `plan`, its `scheduling` (SchedulerConfig: the
    batching knobs and which engine's scheduler), the `cluster` (ClusterConfig: replicas, router,
    prefill/decode disaggregation, with `decode_pool` where the decode replicas differ: another
    chip, plan or batching), the `slo` that goodput counts against, and the `workload`.
    The serving `engine` (engine/engines.py: trtllm, vllm, sglang) brings its measured kernels
    (where the chip has tables), and the scheduler and host time of `scheduling` left at None.
    Each may instead be given by its fields as keywords (serving/options.py), e.g.
    `simulate("llama-3.1-8b", "h100", tp=2, max_num_seqs=128, rate_per_s=20, num_requests=10_000)`:
    plan: tp, pp, ep, attention_dp; scheduling: the SchedulerConfig fields; cluster: num_replicas, router, disaggregate,
    kv_link_bandwidth_bytes_per_s; slo: slo_ttft_ms, slo_tpot_ms; workload: a trace file (trace,
    trace_format) or a synthetic one (`num_requests` at `rate_per_s` with `arrival` in poisson /
    gamma (burstiness `cv`) / daily / all_at_once, lengths that are ints or ("uniform", lo, hi) /
    ("lognormal", mean, cv), `seed`, and `concurrency`: at most that many requests in flight, a
    closed loop as benchmark clients run it, workload/arrivals.py). A synthetic workload without
    `num_requests` runs until steady state (serving/steady.py: doublings from 1,000 requests until
    throughput, mean TTFT and mean TPOT move less than 2%); the summary says `num_requests` and
    `steady_state`.
    `speculative`: speculative decoding (engine/speculative.py; decode steps charged per emitted token,
    engine/replica.py). `cuda_graphs`: whether the engine runs its steps in CUDA graphs (None: the
    engine's default, engine/engines.py; False: costs/measured.py says what changes).
    `step_by_step`: no closed-form decode runs (for checking); `record_trace`: keep every step for
    `write_chrome_trace`; `bucket_s`: time bucket of the KV utilization table.
    """
    if workload is None and keywords.get("trace") is None and keywords.get("num_requests") is None:
        keywords.pop("num_requests", None)  # no count given: simulate until steady state (serving/steady.py)
        queued = keywords.get("arrival") == "all_at_once" and keywords.get("concurrency") is None
        return until_steady(lambda n: simulate(
            model, hardware, plan=plan, scheduling=scheduling, cluster=cluster, slo=slo, weight_dtype=weight_dtype,
            kv_dtype=kv_dtype, engine=engine, step_by_step=step_by_step, record_trace=record_trace, bucket_s=bucket_s,
            progress=progress, speculative=speculative, decode_pool=decode_pool, cuda_graphs=cuda_graphs,
            num_requests=n, **keywords),
            QUEUED_MEASURES if queued else MEASURES)
    plan, scheduling, cluster, slo, workload = settings(keywords, plan, scheduling, cluster, slo, workload)
    args.number("bucket_s", bucket_s, low=0, low_open=True)
    scheduling = scheduling.for_engine(serving_engine(engine))
    _check_async_output(scheduling, plan, cluster, speculative)
    replica = get_replica(model, hardware, plan.tp, plan.pp, plan.ep, weight_dtype, kv_dtype,
                          attention_dp=plan.attention_dp, engine=engine, speculative=speculative,
                          cuda_graphs=cuda_graphs)
    total_blocks = kv_blocks(replica, scheduling)
    decode = _decode_pool(decode_pool, cluster, model, weight_dtype, kv_dtype, engine, speculative, scheduling,
                          cuda_graphs)
    with _collector_paused():
        requests = _requests(workload)
        sims = run_cluster(requests, replica, scheduling, cluster, total_blocks, workload.hash_block_size,
                           bucket_s=bucket_s, record_trace=record_trace, step_by_step=step_by_step, progress=progress,
                           concurrency=workload.concurrency, decode=decode)
        table = request_table(requests)
    static_w = replica.device.static_w * plan.num_devices
    hardware_name = replica.device.hw.name
    if decode is not None:  # summarize charges one static power per replica for idle time: the pools' mean
        n_prefill, n_decode = cluster.disaggregate
        decode_w = decode.replica.device.static_w * decode.replica.plan.num_devices
        static_w = (static_w * n_prefill + decode_w * n_decode) / (n_prefill + n_decode)
        hardware_name = f"{hardware_name} + {decode.replica.device.hw.name}"
    summary = summarize(table, sims, slo, static_w_per_replica=static_w)
    summary.update(model=replica.model.name, hardware=hardware_name, calibration=replica.device.calibration,
                   engine=engine, cuda_graphs=replica.device.cuda_graphs, fidelity=replica.device.fidelity,
                   scheduler=scheduling.scheduler,
                   speculative=speculative.label if speculative else "none",
                   tp=plan.tp, pp=plan.pp, ep=plan.ep, attention_dp=plan.attention_dp, num_replicas=len(sims),
                   kv_blocks_per_replica=total_blocks, static_power_w_per_replica=static_w,
                   block_size=scheduling.block_size, workload=workload.source, num_requests=len(workload),
                   concurrency=workload.concurrency, steady_state=None)
    kv = [(b * bucket_s, s.index, u / t) for s in sims for b, (u, t) in sorted(s.stats.kv_time.items()) if t > 0]
    steps = [(s.index, *row) for s in sims for row in (s.stats.trace or [])]
    return SimulationResult(summary=summary, requests=table,
                            kv_utilization=pd.DataFrame(kv, columns=["time_s", "replica", "utilization"]),
                            chrome_trace=steps)


def _check_async_output(scheduling: SchedulerConfig, plan, cluster: ClusterConfig, speculative) -> None:
    """vLLM V0 ran asynchronous output processing only without pipeline parallelism and speculative
    decoding (ModelConfig.verify_async_output_proc turns it off there); disaggregated pools are
    not modelled with it. One line instead of a silent change of setup."""
    if not scheduling.async_output_proc:
        return
    why = ("pipeline parallelism (pp > 1)" if plan.pp > 1 else "speculative decoding" if speculative
           else "a disaggregated cluster" if cluster.disaggregate is not None else None)
    if why:
        raise Chip2ChatError(f"async_output_proc (vLLM V0's asynchronous output processing) does not run with {why}: "
                             f"vLLM turns it off there; leave it off")


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while the requests live: the simulator makes no cycles, and
    collections that walk a million live requests took 3 s of a million-request run. On the way
    out, what was allocated meanwhile joins the oldest generation at once (freeze, then unfreeze)
    instead of being walked by the young collections that re-enabling would set off (1.4 s more);
    skipped when someone else keeps objects frozen, as unfreezing would release theirs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def _decode_pool(pool: DecodePool | None, cluster: ClusterConfig, model, weight_dtype: str, kv_dtype: str, engine: str,
                 speculative, prefill_scheduling: SchedulerConfig, cuda_graphs: bool | None = None) -> Pool | None:
    """The cluster's decode pool where it differs from the prefill one (None: it does not)."""
    if pool is None:
        return None
    args.instance("decode_pool", pool, (DecodePool,), "a chip2chat DecodePool or None")
    if cluster.disaggregate is None:
        raise Chip2ChatError("decode_pool needs a disaggregated cluster: give disaggregate=(prefill, decode) too")
    cfg = (pool.scheduling or prefill_scheduling).for_engine(serving_engine(engine))
    p = pool.plan
    rep = get_replica(model, pool.hardware, p.tp, p.pp, p.ep, weight_dtype, kv_dtype, attention_dp=p.attention_dp,
                      engine=engine, speculative=speculative, cuda_graphs=cuda_graphs)
    return Pool(rep, cfg, kv_blocks(rep, cfg))


def kv_blocks(replica, cfg: SchedulerConfig) -> int:
    """KV-cache blocks of a replica under `cfg` (its memory after weights, activations and runtime);
    DoesNotFitError (one line, with the figures) when there is no room for any."""
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
