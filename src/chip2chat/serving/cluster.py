"""Replicas behind a router, and disaggregated prefill/decode pools.

Arrivals are routed in time order: every replica is first advanced to the arrival time, so the
router sees the state at that moment. Disaggregation runs the prefill pool first; each
request's KV then reaches the decode pool after its transfer time (bytes over the link between
the pools), which is simulated as a second cluster with those arrival times. (Decode-side
backpressure on the prefill pool is not modelled.)
"""

from __future__ import annotations

import math
from typing import Callable

from chip2chat.serving.replica_sim import ReplicaSim
from chip2chat.serving.request import Request

ROUTERS = ("round_robin", "least_outstanding_tokens", "prefix_affinity")


def make_router(name: str) -> Callable[[Request, list[ReplicaSim], int], ReplicaSim]:
    def round_robin(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
        return replicas[i % len(replicas)]

    def least_outstanding(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
        return min(replicas, key=lambda r: (r.outstanding_tokens, r.index))

    def prefix_affinity(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
        """Same first prompt block -> same replica (its prefix cache is warm), else least loaded."""
        if req.hashes:
            return replicas[hash(req.hashes[0]) % len(replicas)]
        return least_outstanding(req, replicas, i)

    return {"round_robin": round_robin, "least_outstanding_tokens": least_outstanding,
            "prefix_affinity": prefix_affinity}[name]


def run_cluster(events: list[tuple[float, Request]], replicas: list[ReplicaSim], router: str,
                prefilled: bool = False, progress: Callable[[int], None] | None = None) -> None:
    """Route requests at their times (sorted) to `replicas` and run everything to completion.

    `prefilled`: the requests arrive with their prompt's KV computed (disaggregated decode pool).
    """
    choose = make_router(router)
    needs_state = router != "round_robin" and len(replicas) > 1
    for i, (t, req) in enumerate(events):
        if needs_state:
            for r in replicas:
                r.advance_to(t)
        target = choose(req, replicas, i)
        if not needs_state:
            target.advance_to(t)
        target.submit_prefilled(req) if prefilled else target.submit(req)
        if progress is not None and i % 4096 == 0:
            progress(i)
    for r in replicas:
        r.advance_to(math.inf)
    if progress is not None:
        progress(len(events))
