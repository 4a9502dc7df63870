"""A candidate deployment simulated at a request rate: the one place `configure` runs the simulator.

A deployment whose replicas are all alike (aggregated, or disaggregated with the same replica in
both pools) goes through `simulate` itself, so its numbers are what `chip2chat simulate` prints for
those settings; one whose decode pool differs (another chip, plan or batching) passes it to
`simulate` as its `decode_pool`. Public API only.

With `Setup.prefix` (workload/sessions.py) the prompts share a system prompt and a session's
earlier turns: the replicas cache prefixes (vLLM V1's default) and a KV-aware router sends each
prompt where most of it is cached. A session's next turn comes `turn_gap_s` after its previous
one, at most the simulated window over twice the turns per session, so that sessions
chain within it (`Setup.workload`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from chip2chat.configure.space import AGGREGATED, Candidate
from chip2chat.serving import simulate as simulation
from chip2chat.serving.config import ClusterConfig, DecodePool, Slo
from chip2chat.workload import Workload, synthetic
from chip2chat.workload.sessions import PrefixSharing
from chip2chat.workload.synthetic import LengthSpec


def engine_keywords(fn, engine: str) -> dict:
    """{"engine": engine} when `fn` takes an engine (the cost model's engine dimension), else {}."""
    return {"engine": engine} if "engine" in inspect.signature(fn).parameters else {}


@dataclass(frozen=True)
class Setup:
    """What every simulation of a search shares."""

    model: object
    """A catalog model name, a config.json path or a Transformer."""
    engine: str
    weight_dtype: str
    slo: Slo
    input_len: LengthSpec = 1024
    output_len: LengthSpec = 256
    trace: Workload | None = None
    """Replayed instead of synthetic requests: its lengths, and its arrivals rescaled to each rate."""
    requests_per_replica: int = 300
    min_requests: int = 1200
    seed: int = 0
    prefix: PrefixSharing | None = None
    """Prompt prefixes shared by the requests, cached by the replicas (None: no prefix caching)."""

    def requests(self, candidate: Candidate) -> int:
        n = max(self.min_requests, self.requests_per_replica * candidate.replicas)
        return n if self.trace is None else min(n, len(self.trace))

    def workload(self, candidate: Candidate, rate_per_s: float | None) -> Workload:
        """Poisson arrivals at `rate_per_s` (None: every request at once, the saturated throughput),
        with their shared prefixes (`prefix`). A session's turns are at most the run's window over
        twice the turns per session apart, so that its later turns arrive within the run; the
        cache's eviction pressure over a longer real gap is not represented (it matters only when
        the KV cache is nearly full)."""
        w = self._workload(candidate, rate_per_s)
        if self.prefix is None:
            return w
        window = w.duration_s / (2 * self.prefix.turns_per_session)
        return self.prefix.apply(w, turn_gap_s=min(self.prefix.turn_gap_s, window))

    def _workload(self, candidate: Candidate, rate_per_s: float | None) -> Workload:
        n = self.requests(candidate)
        if self.trace is None:
            return synthetic(n, rate_per_s or 1.0, input_len=self.input_len, output_len=self.output_len,
                             arrival="poisson" if rate_per_s else "all_at_once", seed=self.seed)
        head = Workload(self.trace.arrival_s[:n] - self.trace.arrival_s[0], self.trace.input_len[:n],
                        self.trace.output_len[:n], source=self.trace.source)
        if rate_per_s is None:
            return Workload(np.zeros(n), head.input_len, head.output_len, source=head.source)
        own_rate = (n - 1) / head.duration_s if head.duration_s > 0 else rate_per_s
        return head.scaled(rate_per_s / own_rate)

    def describe(self) -> str:
        if self.trace is not None:
            return f"{self.trace.source or 'trace'}, arrivals rescaled to each rate"
        return f"Poisson arrivals, input {self.input_len!r} tokens, output {self.output_len!r} tokens"

    def mean_lengths(self) -> tuple[float, float]:
        sample = self.trace if self.trace is not None else synthetic(
            2000, 1.0, input_len=self.input_len, output_len=self.output_len, seed=self.seed)
        return float(sample.input_len.mean()), float(sample.output_len.mean())


def simulate_candidate(setup: Setup, candidate: Candidate, rate_per_s: float | None) -> dict:
    """The summary of `candidate` serving its workload at `rate_per_s` (None: all at once)."""
    return simulate_deployment(setup, candidate, rate_per_s).summary


def simulate_deployment(setup: Setup, candidate: Candidate, rate_per_s: float | None):
    """The simulation (serving.simulate.SimulationResult) of `candidate` at `rate_per_s`."""
    workload = setup.workload(candidate, rate_per_s)
    first = candidate.workers[0]
    common = dict(slo=setup.slo, workload=workload, weight_dtype=setup.weight_dtype, kv_dtype=candidate.kv_dtype,
                  speculative=candidate.speculative, **engine_keywords(simulation.simulate, setup.engine))
    router = "kv_aware" if setup.prefix is not None else "round_robin"
    if candidate.mode == AGGREGATED:
        return simulation.simulate(setup.model, first.hardware, plan=first.plan,
                                   scheduling=scheduling(first, setup),
                                   cluster=ClusterConfig(num_replicas=first.count, router=router), **common)
    prefill, decode = candidate.workers
    if _same_replica(prefill, decode, setup.engine):
        return simulation.simulate(setup.model, first.hardware, plan=first.plan,
                                   scheduling=scheduling(first, setup),
                                   cluster=ClusterConfig(disaggregate=(prefill.count, decode.count), router=router),
                                   **common)
    return _simulate_pools(setup, candidate, workload, router)


def scheduling(workers, setup: Setup):
    """How `workers` batch under the setup's engine, caching prefixes when the prompts share some."""
    cfg = workers.scheduling(setup.engine)
    return cfg if setup.prefix is None else cfg.model_copy(update={"enable_prefix_caching": True})


def _same_replica(a, b, engine: str) -> bool:
    return (a.chip, a.plan, a.hardware if isinstance(a.hardware, str) else id(a.hardware)) == \
        (b.chip, b.plan, b.hardware if isinstance(b.hardware, str) else id(b.hardware)) \
        and a.scheduling(engine) == b.scheduling(engine)


def _simulate_pools(setup: Setup, candidate: Candidate, workload: Workload, router: str = "round_robin"):
    """A disaggregated deployment whose decode replicas differ from its prefill replicas."""
    prefill, decode = candidate.workers
    return simulation.simulate(setup.model, prefill.hardware, plan=prefill.plan, scheduling=scheduling(prefill, setup),
                               cluster=ClusterConfig(disaggregate=(prefill.count, decode.count), router=router),
                               decode_pool=DecodePool(decode.hardware, decode.plan, scheduling(decode, setup)),
                               slo=setup.slo, workload=workload, weight_dtype=setup.weight_dtype,
                               kv_dtype=candidate.kv_dtype, speculative=candidate.speculative,
                               **engine_keywords(simulation.simulate, setup.engine))
