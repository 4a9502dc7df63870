"""Simulate until steady state: the convergence rule behind `simulate`'s default request count.

A fixed count is not at steady state for every load: 1,500 requests queued at once on a replica that
runs 1,000 of them together spend a large share of the run filling and draining the batch (the
maximum-throughput validation rows moved up to 10 points between 1,500 and 6,000 requests). So a
synthetic workload without `num_requests` is simulated with FIRST_REQUESTS, then twice as many,
and so on, until the measures in MEASURES each move by less than TOLERANCE between two successive
runs (the longer run is the answer), or MAX_REQUESTS is reached. Each run is a prefix-consistent
draw of the same seed, so a doubling adds requests and changes nothing already drawn. An open-loop
load above what the replicas serve has no steady state (its queue, and with it TTFT, grows as long
as requests arrive): the rule stops at the first run that `metrics.offered_vs_served` calls
overloaded. Requests all sent at once (a maximum-throughput benchmark) queue for a time that grows
with their number, so there TTFT is not a steady-state measure (`QUEUED_MEASURES`). The summary
says how it ended: `num_requests`, `steady_state` (True when converged).
"""

from __future__ import annotations

import math
from collections.abc import Callable

FIRST_REQUESTS = 1000
"""The first run's requests (the fixed default this rule replaced)."""
MAX_REQUESTS = 64_000
"""The longest run: six doublings after the first."""
TOLERANCE = 0.02
"""Largest relative change of each measure between a run and the one of twice its requests."""
MEASURES = ("output_throughput", "mean_ttft_ms", "mean_tpot_ms")
QUEUED_MEASURES = ("output_throughput", "mean_tpot_ms")
"""The measures when every request is sent at once, open loop."""


def until_steady(run: Callable[[int], object], measures: tuple[str, ...] = MEASURES, first: int = FIRST_REQUESTS,
                 most: int = MAX_REQUESTS):
    """`run(n)` (a SimulationResult of n requests) for n = first, 2 first, ... until `measures` are steady."""
    n = first
    previous = run(n)
    while True:
        if previous.summary.get("overload") or n * 2 > most:
            return _ended(previous, n, steady=False)
        n *= 2
        current = run(n)
        if converged(previous.summary, current.summary, measures):
            return _ended(current, n, steady=True)
        previous = current


def converged(before: dict, after: dict, measures: tuple[str, ...] = MEASURES, tolerance: float = TOLERANCE) -> bool:
    """Every measure within `tolerance` of the previous run's (a measure absent from both, or NaN in
    both, as TPOT with one-token outputs, does not count)."""
    for key in measures:
        a, b = before.get(key), after.get(key)
        if a is None and b is None:
            continue
        if a is None or b is None:
            return False
        if math.isnan(a) and math.isnan(b):
            continue
        if not abs(b - a) <= tolerance * abs(b):
            return False
    return True


def _ended(result, n: int, steady: bool):
    result.summary.update(num_requests=n, steady_state=steady)
    return result
