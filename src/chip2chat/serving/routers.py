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


def kv_aware(req: Request, replicas: list[ReplicaSim], i: int) -> ReplicaSim:
    """The replica with the least work once this prompt joins: its outstanding tokens plus the
    prompt tokens it would compute, i.e. less what its prefix cache already holds (ties: lowest
    index). NVIDIA Dynamo's KV router scores replicas the same way (the prompt blocks to prefill
    plus the blocks being decoded). A later turn of a conversation goes back to the replica that
    cached the earlier ones unless that one is busier by more than the tokens it saves; prompts
    that share only a system prompt spread by load."""
    if not req.hashes:
        return least_outstanding_tokens(req, replicas, i)
    return min(replicas, key=lambda r: (r.outstanding_tokens - r.scheduler.hash_block_size
                                        * r.scheduler.pool.lookup(req.hashes), r.index))


ROUTERS = {"round_robin": round_robin, "least_outstanding_tokens": least_outstanding_tokens,
           "prefix_affinity": prefix_affinity, "kv_aware": kv_aware}
STATELESS = ("round_robin",)
"""Routers that read no replica state: replicas need not be advanced to each arrival."""
