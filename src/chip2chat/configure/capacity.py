"""The largest request rate a deployment serves within the SLO, by bisection on the rate.

The deployment's saturated throughput comes first (every request queued at once); then Poisson
streams are simulated: from half of it, halving until one meets the SLO, then bisecting
(geometrically) between the last rate that met it and the first that did not, to `tolerance`.
A rate meets the SLO when the run's p99 TTFT and p99 TPOT are within it and the run is not
overloaded (its waiting queue did not keep growing).

Every probe is a deterministic function of the interval so far, and a looser SLO can only turn a
failed probe into a met one: the two searches run the same probes until the first rate the tight
SLO misses and the loose one meets; from there the loose search stays above that rate and the tight
one below it. So a looser SLO never gets a lower capacity, hence never more replicas (tested). The
returned rate is always one that was simulated and met the SLO; its run is returned with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from chip2chat import args
from chip2chat.serving.config import Slo

START = 0.5
"""First rate probed, as a share of the saturated throughput (capacity at an SLO is usually 50-95%)."""
LOWEST = 0.01
"""Below this share of the saturated throughput the deployment is said not to meet the SLO at all."""


@dataclass(frozen=True)
class Capacity:
    """What `slo_capacity` found."""

    rate_per_s: float | None
    """Largest rate simulated that met the SLO; None when even the lowest probed one missed it."""
    summary: dict | None
    """The simulation at that rate (None with rate_per_s)."""
    saturated_rate_per_s: float
    """Requests per second with every request queued at once."""
    probes: tuple[tuple[float, bool], ...] = field(default=(), repr=False)
    """(rate, met) of every Poisson run, in order."""


def meets(summary: dict, slo: Slo) -> bool:
    """The run's p99 TTFT and TPOT are within the SLO and it kept up with its arrivals."""
    return slo.met_by(summary) and not summary.get("overload")


def slo_capacity(run: Callable[[float | None], dict], slo: Slo, *, tolerance: float = 0.02) -> Capacity:
    """Capacity of a deployment: `run(rate)` simulates it under Poisson arrivals at `rate` requests/s
    and returns the summary (`run(None)`: every request at once); `tolerance`: relative width of the
    final bracket. Usually 7 to 9 simulations."""
    args.number("tolerance", tolerance, low=0, low_open=True)
    saturated = run(None)["request_throughput"]
    probes: list[tuple[float, bool]] = []

    def probe(rate: float) -> dict | None:
        summary = run(rate)
        probes.append((rate, meets(summary, slo)))
        return summary if probes[-1][1] else None

    high, low = saturated * 1.1, saturated * START
    best = probe(low)
    while best is None:
        high, low = low, low / 2
        if low < saturated * LOWEST:
            return Capacity(None, None, saturated, tuple(probes))
        best = probe(low)
    while high / low > 1 + tolerance:
        mid = math.sqrt(low * high)
        summary = probe(mid)
        if summary is None:
            high = mid
        else:
            low, best = mid, summary
    return Capacity(low, best, saturated, tuple(probes))
