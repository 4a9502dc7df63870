"""Routers: which replica an arriving request goes to, by name (`ClusterConfig.router`).

A router is `route(request, replicas, i) -> replica`, `i` being the arrival's index. Replicas
are seen at the arrival time (the cluster advances them first when the router reads their state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chip2chat.serving.replica_sim import ReplicaSim
    from chip2chat.serving.request import Request


def round_robin(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
    return replicas[i % len(replicas)]


def least_outstanding_tokens(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
    """Fewest forward-pass tokens sent and not yet processed (ties: lowest index)."""
    return min(replicas, key=lambda r: (r.outstanding_tokens, r.index))


def prefix_affinity(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
    """Same first prompt block -> same replica (its prefix cache is warm), else least loaded."""
    if req.hashes:
        return replicas[hash(req.hashes[0]) % len(replicas)]
    return least_outstanding_tokens(req, replicas, i)


ROUTERS = {"round_robin": round_robin, "least_outstanding_tokens": least_outstanding_tokens,
           "prefix_affinity": prefix_affinity}
STATELESS = ("round_robin",)
"""Routers that read no replica state: replicas need not be advanced to each arrival."""
