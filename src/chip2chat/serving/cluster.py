"""Replicas behind a router, and disaggregated prefill/decode pools.

Arrivals are routed in time order: every replica is first advanced to the arrival time, so the
router sees the state at that moment. A router that reads no replica state (round robin) makes
the replicas independent, so each then serves its share of the arrivals on its own. Disaggregation runs the prefill pool first; each
request's KV then reaches the decode pool after its transfer time (bytes over the link between
the pools), which is simulated as a second cluster with those arrival times. (Decode-side
backpressure on the prefill pool is not modelled.)
"""

from __future__ import annotations

import math
from typing import Callable

from chip2chat.engine.replica import Replica
from chip2chat.serving.config import ClusterConfig, SchedulerConfig
from chip2chat.serving.replica_sim import ReplicaSim
from chip2chat.serving.request import Request
from chip2chat.serving.routers import ROUTERS, STATELESS
from chip2chat.serving.scheduler import SCHEDULERS
from chip2chat.serving.stats import ReplicaStats


def route(events: list[tuple[float, Request]], replicas: list[ReplicaSim], router: str, prefilled: bool = False,
          progress: Callable[[int], None] | None = None) -> None:
    """Route requests at their times (sorted) to `replicas` and run everything to completion.

    `prefilled`: the requests arrive with their prompt's KV computed (disaggregated decode pool).
    """
    choose = ROUTERS[router]
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


def run_cluster(requests: list[Request], replica: Replica, scheduling: SchedulerConfig, cluster: ClusterConfig,
                total_blocks: int, hash_block_size: int, *, bucket_s: float, record_trace: bool, step_by_step: bool,
                progress: Callable[[int], None] | None) -> list[ReplicaSim]:
    """Serve `requests` (in arrival order) on the cluster; the replicas, with what they recorded."""
    chips = replica.plan.num_devices

    def make(n: int, offset: int = 0, on_prefilled=None) -> list[ReplicaSim]:
        sims = []
        for i in range(n):
            stats = ReplicaStats(bucket_s=bucket_s, trace=[] if record_trace else None)
            scheduler = SCHEDULERS[scheduling.scheduler](
                scheduling, total_blocks, hash_block_size, replica.model.spec.max_context, replica.windows, stats,
                prefill_only=on_prefilled is not None)
            sims.append(ReplicaSim(offset + i, replica, scheduler, stats,
                                   host_overhead_per_seq_s=scheduling.host_overhead_per_seq_s,
                                   step_by_step=step_by_step, energy_scale=chips, on_prefilled=on_prefilled))
        return sims

    arrivals = [(r.arrival_s, r) for r in requests]
    if cluster.disaggregate is None:
        sims = make(cluster.num_replicas)
        route(arrivals, sims, cluster.router, progress=progress)
        return sims
    n_prefill, n_decode = cluster.disaggregate
    handed: list[tuple[float, Request]] = []
    link = (cluster.kv_link_bandwidth_bytes_per_s
            or replica.device.hw.scale_up.scale_out_bandwidth_bytes_per_s * chips)
    kv_per_token = replica.model.kv_bytes_per_token(replica.kv_dtype)
    latency = replica.device.link_latency_s

    def on_prefilled(req: Request, t: float) -> None:
        handed.append((t + latency + req.input_len * kv_per_token / link, req))

    prefill = make(n_prefill, on_prefilled=on_prefilled)
    route(arrivals, prefill, cluster.router, progress=progress)
    handed.sort(key=lambda e: (e[0], e[1].id))
    decode = make(n_decode, offset=n_prefill)
    # the decode pool has no prefix cache to be affine to
    route(handed, decode, cluster.router if cluster.router != "prefix_affinity" else "least_outstanding_tokens",
          prefilled=True)
    return prefill + decode
