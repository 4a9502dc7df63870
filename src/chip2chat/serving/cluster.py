"""Replicas behind a router, and disaggregated prefill/decode pools.

Arrivals are routed in time order: every replica is first advanced to the arrival time, so the
router sees the state at that moment. A router that reads no replica state (round robin) makes
the replicas independent, so each then serves its share of the arrivals on its own. Disaggregation runs the prefill pool first; each
request's KV then reaches the decode pool after its transfer time (bytes over the link between
the pools), which is simulated as a second cluster with those arrival times. (Decode-side
backpressure on the prefill pool is not modelled.) The decode pool may be another kind of replica
(`decode`: another chip, parallel plan or batching, the same model): heterogeneous disaggregation,
with the KV sent at the slower side's NICs and the slower side's link latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from chip2chat.engine.replica import Replica
from chip2chat.errors import Chip2ChatError
from chip2chat.serving.config import ClusterConfig, SchedulerConfig
from chip2chat.serving.replica_sim import ReplicaSim
from chip2chat.serving.request import Request
from chip2chat.serving.routers import ROUTERS, STATELESS
from chip2chat.serving.scheduler import SCHEDULERS
from chip2chat.serving.stats import ReplicaStats


def route(events: list[tuple[float, Request]], replicas: list[ReplicaSim], router: str, prefilled: bool = False,
          progress: Callable[[int], None] | None = None, concurrency: int | None = None) -> None:
    """Route requests at their times (sorted) to `replicas` and run everything to completion.

    `prefilled`: the requests arrive with their prompt's KV computed (disaggregated decode pool).
    `concurrency`: a closed loop of at most that many requests in flight (one replica).
    """
    choose = ROUTERS[router]
    if concurrency is not None:
        if len(replicas) != 1:
            raise Chip2ChatError(f"a closed loop (concurrency={concurrency}) runs on one replica, not "
                                 f"{len(replicas)}; simulate one replica, or use an open-loop arrival")
        replicas[0].serve(events, prefilled, progress, concurrency=concurrency)
        if progress is not None:
            progress(len(events))
        return
    if router in STATELESS or len(replicas) == 1:
        # a router that reads no replica state makes the replicas independent: each serves its
        # share of the arrivals on its own, start to finish
        shares = [events] if len(replicas) == 1 else [[] for _ in replicas]
        if len(replicas) > 1:
            position = {id(r): j for j, r in enumerate(replicas)}
            for i, event in enumerate(events):
                shares[position[id(choose(event[1], replicas, i))]].append(event)
        done = 0
        for r, share in zip(replicas, shares):
            r.serve(share, prefilled, progress, done)
            done += len(share)
    else:
        for i, (t, req) in enumerate(events):
            for r in replicas:
                r.advance_to(t)
            target = choose(req, replicas, i)
            target.submit_prefilled(req) if prefilled else target.submit(req)
            if progress is not None and i % 4096 == 0:
                progress(i)
        for r in replicas:
            r.advance_to(math.inf)
    if progress is not None:
        progress(len(events))


@dataclass(frozen=True)
class Pool:
    """One kind of replica of a cluster: the replica, how it batches, and its KV blocks."""

    replica: Replica
    scheduling: SchedulerConfig
    total_blocks: int


def run_cluster(requests: list[Request], replica: Replica, scheduling: SchedulerConfig, cluster: ClusterConfig,
                total_blocks: int, hash_block_size: int, *, bucket_s: float, record_trace: bool, step_by_step: bool,
                progress: Callable[[int], None] | None, decode: Pool | None = None,
                concurrency: int | None = None) -> list[ReplicaSim]:
    """Serve `requests` (in arrival order) on the cluster; the replicas, with what they recorded.

    `decode`: the decode pool's replicas when they differ from the prefill pool's (`replica`,
    `scheduling`, `total_blocks`); only with `cluster.disaggregate`. `concurrency`: a closed loop
    (workload/arrivals.py) on one replica, not disaggregated."""
    first = Pool(replica, scheduling, total_blocks)

    def make(pool: Pool, n: int, offset: int = 0, on_prefilled=None) -> list[ReplicaSim]:
        sims, rep, cfg = [], pool.replica, pool.scheduling
        for i in range(n):
            stats = ReplicaStats(bucket_s=bucket_s, trace=[] if record_trace else None)
            scheduler = SCHEDULERS[cfg.scheduler](
                cfg, pool.total_blocks, hash_block_size, rep.model.spec.max_context, rep.windows, stats,
                prefill_only=on_prefilled is not None)
            sims.append(ReplicaSim(offset + i, rep, scheduler, stats, host_overhead_per_seq_s=cfg.host_overhead_per_seq_s,
                                   step_by_step=step_by_step, energy_scale=rep.plan.num_devices,
                                   on_prefilled=on_prefilled, cuda_graph_batch_sizes=cfg.cuda_graph_batch_sizes,
                                   max_num_seqs=cfg.max_num_seqs))
        return sims

    arrivals = [(r.arrival_s, r) for r in requests]
    if cluster.disaggregate is None:
        if decode is not None:
            raise Chip2ChatError("a decode pool needs a disaggregated cluster (ClusterConfig.disaggregate)")
        sims = make(first, cluster.num_replicas)
        route(arrivals, sims, cluster.router, progress=progress, concurrency=concurrency)
        return sims
    if concurrency is not None:
        raise Chip2ChatError("a closed loop (concurrency) is not simulated on a disaggregated cluster")
    n_prefill, n_decode = cluster.disaggregate
    decode = decode or first
    if decode.replica.model.name != replica.model.name:
        raise Chip2ChatError(f"prefill and decode pools serve different models: {replica.model.name} and "
                         f"{decode.replica.model.name}")
    handed: list[tuple[float, Request]] = []
    # the KV leaves through the prefill replica's NICs and arrives through the decode replica's:
    # the slower side sets the bandwidth and the latency (one side's figures when both are alike)
    link = cluster.kv_link_bandwidth_bytes_per_s or min(
        p.device.hw.scale_up.scale_out_bandwidth_bytes_per_s * p.plan.num_devices for p in (replica, decode.replica))
    kv_per_token = replica.model.kv_bytes_per_token(replica.kv_dtype)
    latency = max(replica.device.link_latency_s, decode.replica.device.link_latency_s)

    def on_prefilled(req: Request, t: float) -> None:
        handed.append((t + latency + req.input_len * kv_per_token / link, req))

    prefill = make(first, n_prefill, on_prefilled=on_prefilled)
    route(arrivals, prefill, cluster.router, progress=progress)
    handed.sort(key=lambda e: (e[0], e[1].id))
    decoders = make(decode, n_decode, offset=n_prefill)
    # the decode pool has no prefix cache to be affine to
    route(handed, decoders, cluster.router if cluster.router != "prefix_affinity" else "least_outstanding_tokens",
          prefilled=True)
    return prefill + decoders
