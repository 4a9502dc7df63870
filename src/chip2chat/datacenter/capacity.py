"""What an option's chips carry within the SLO: its serving configurations, simulated.

An option runs on one kind of chip. `option_capacity` searches its serving configurations
(configure/: parallel plan with EP and attention DP for MoE models, batching knobs, aggregated or
disaggregated prefill/decode and their ratio) on one server's chips (`unit_gpus`, the site's
chips per server, or the option's own tp x pp where that is larger), with the option's fixed
(tp, pp) deployment simulated beside the finalists (configure's `include`). Every deployment's
capacity is the largest Poisson request rate whose simulation meets p99 TTFT and TPOT, found by
bisection on the rate (configure/capacity.py): not a fixed grid of loads, which under-sized by up
to 11%. With `search` off only the fixed deployment is simulated.

A deployment grows by steps (`Deployment`): an aggregated one replica at a time, a disaggregated
one a whole prefill:decode unit at a time (its ratio kept). For a year's peak request rate,
`OptionCapacity.sized` takes the deployment that needs the fewest chips (ties: more tokens/s per
chip) with the headroom: each step runs at most `target_utilization` of its SLO capacity at the
peak, plus `spare_replicas` steps for maintenance (N+1). The fixed deployment is always a
candidate, so the plan never needs more chips than at the scenario's fixed tp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from chip2chat.configure import Candidate, SearchSpace, Workers, configure, slo_capacity
from chip2chat.configure.deploy import Setup, simulate_candidate, simulate_deployment
from chip2chat.configure.result import ConfigureResult, Finalist
from chip2chat.configure.space import AGGREGATED
from chip2chat.engine.engines import serving_engine
from chip2chat.engine.factory import get_replica
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError, DoesNotFitError
from chip2chat.serving import simulate as simulation
from chip2chat.serving.config import SchedulerConfig, Slo
from chip2chat.workload.sessions import PrefixSharing


@dataclass(frozen=True)
class Headroom:
    """Capacity held back at the peak (scenario `sizing.headroom`)."""

    target_utilization: float = 1.0
    """Share of a step's SLO capacity it may carry at the year's peak, in (0, 1]."""
    spare_replicas: int = 0
    """Steps added for maintenance and failures (N+1: 1)."""


@dataclass(frozen=True)
class Deployment:
    """One way to run an option, and what one step of it carries within the SLO."""

    candidate: Candidate
    """The simulated deployment unit (as configure ran it)."""
    fixed: bool
    """The option's own (tp, pp) deployment."""
    devices: int
    """Chips of one step: a replica (aggregated) or the whole unit (disaggregated)."""
    slo_rate_per_s: float | None
    """Requests/s one step carries within the SLO (None: no rate met it)."""
    max_rate_per_s: float
    """Requests/s one step completes with every request queued at once."""
    p99_ttft_ms: float
    p99_tpot_ms: float
    """At the SLO rate (or the lightest rate tried)."""
    static_power_w: float
    """One step's power with no request (its chips' static power)."""
    dynamic_j_per_output_token: float
    """Energy above static per output token (prefill included), at the SLO rate."""
    tokens_per_s_per_gpu: float
    chips: tuple[tuple[str, int], ...]
    """Chips of one step by chip name (two names where prefill and decode run on different chips)."""
    sample_rate_per_s: float
    """Rate of the whole unit where its figures were taken: its SLO rate, or the lightest one tried."""

    @property
    def steps_per_unit(self) -> int:
        return self.candidate.workers[0].count if self.candidate.mode == AGGREGATED else 1

    @property
    def label(self) -> str:
        """One step, e.g. 'TP2 NVIDIA H200 SXM' or '3x TP1 ... prefill : 1x TP2 ... decode'."""
        if self.candidate.mode == AGGREGATED:
            return self.candidate.workers[0].label().split(" ", 1)[1]
        return self.candidate.label()

    def steps_for(self, peak_rate_per_s: float, headroom: Headroom) -> int:
        """Steps that carry `peak_rate_per_s` within the headroom (at the maximum rate when the SLO is never met)."""
        rate = (self.slo_rate_per_s or self.max_rate_per_s) * headroom.target_utilization
        return max(1, math.ceil(peak_rate_per_s / rate - 1e-9)) + headroom.spare_replicas


@dataclass
class OptionCapacity:
    """An option's deployments, best first, and how a year's peak is sized on them."""

    deployments: list[Deployment]
    headroom: Headroom
    engine: str
    fidelity: str
    search: ConfigureResult | None = None
    """The configuration search (None with the search off)."""
    chip_weights: dict = field(default_factory=dict)
    """What a chip of each name weighs when deployments are compared (its price where an option
    has two kinds of chip; 1 for a chip not named, so one kind of chip compares by count)."""
    note: str = ""
    ttft_ms: list = field(default_factory=list, repr=False)
    tpot_ms: list = field(default_factory=list, repr=False)
    """TTFT and TPOT samples of the first deployment at its SLO rate."""
    setup: Setup | None = field(default=None, repr=False)
    """What every simulation of the option shared (to re-simulate a deployment, e.g. power-capped)."""

    @property
    def meets_slo(self) -> bool:
        return any(d.slo_rate_per_s is not None for d in self.deployments)

    @property
    def fixed(self) -> Deployment | None:
        return next((d for d in self.deployments if d.fixed), None)

    def sized(self, peak_rate_per_s: float) -> tuple[Deployment, int]:
        """(deployment, steps) with the fewest chips for the peak; only deployments that meet the
        SLO when any does (else the fixed one at its maximum rate)."""
        usable = [d for d in self.deployments if d.slo_rate_per_s is not None] or self.deployments[:1]
        def weight(d: Deployment) -> float:
            return sum(n * self.chip_weights.get(chip, 1.0) for chip, n in d.chips)

        return min(((d, d.steps_for(peak_rate_per_s, self.headroom)) for d in usable),
                   key=lambda ds: (ds[1] * weight(ds[0]), -ds[0].tokens_per_s_per_gpu, not ds[0].fixed))


def option_capacity(model: str, hardware, *, plan: ParallelPlan, scheduling: SchedulerConfig, weight_dtype: str,
                    kv_dtype: str, engine: str, input_len: int, output_len: int, slo: Slo, unit_gpus: int,
                    search: bool = True, headroom: Headroom = Headroom(), prefix: PrefixSharing | None = None,
                    decode_hardware=None,
                    requests: int = 1200, finalists: int = 2, tolerance: float = 0.02,
                    seed: int = 0) -> OptionCapacity:
    """The option's deployments on `hardware` (an Accelerator) at the SLO; raises DoesNotFitError
    when neither its fixed plan nor any plan of the search within `unit_gpus` holds the model.
    `decode_hardware`: a second chip the search may use too (decode on it, prefill on either, or
    either alone: heterogeneous disaggregation)."""
    setup = Setup(model, engine, weight_dtype, slo, input_len, output_len, min_requests=requests, seed=seed,
                  prefix=prefix)
    unit = max(unit_gpus, plan.num_devices)
    fixed = Candidate(AGGREGATED, (Workers(hardware.name, plan, unit // plan.num_devices, scheduling.max_num_seqs,
                                           scheduling.max_num_batched_tokens, scheduling.enable_chunked_prefill,
                                           hardware=hardware),), kv_dtype)
    misfit = _does_not_fit(model, hardware, plan, weight_dtype, kv_dtype, engine, scheduling)
    result = None
    if search:
        try:
            chips = [hardware] if decode_hardware is None else [hardware, decode_hardware]
            result = configure(model, chips, engine=engine, weight_dtype=weight_dtype, input_len=input_len,
                               output_len=output_len, slo=slo, gpus=unit, space=SearchSpace(kv_dtypes=(kv_dtype,)),
                               finalists=finalists, include=[] if misfit else [fixed], seed=seed, tolerance=tolerance,
                               prefix=prefix, requests=requests)
        except Chip2ChatError as exc:
            if misfit is None or "does not fit" not in str(exc):
                raise
        finals = result.finalists if result else []
    if misfit is not None and not (result and result.finalists):
        raise misfit
    if not search:
        capacity = slo_capacity(lambda rate: simulate_candidate(setup, fixed, rate), slo, tolerance=tolerance)
        finals = [Finalist(fixed, math.nan, capacity, float(output_len))]
    deployments = sorted((_deployment(f, f.candidate == fixed) for f in finals),
                         key=lambda d: (d.slo_rate_per_s is None, -d.tokens_per_s_per_gpu))
    first = deployments[0]
    samples = simulate_deployment(setup, first.candidate, first.sample_rate_per_s)
    done = samples.requests[samples.requests["status"] == "finished"]
    s = samples.summary
    note = ""
    if first.slo_rate_per_s is None:  # sized at its maximum rate, its power from the lightest load tried
        deployments[0] = first = replace(first, p99_ttft_ms=s["p99_ttft_ms"], p99_tpot_ms=s["p99_tpot_ms"],
                                         **_power(s, first.steps_per_unit))
        note = (f"cannot meet the SLO: at the lightest load tested ({first.sample_rate_per_s / first.steps_per_unit:.3g}"
                f" req/s per replica) p99 TTFT is {s['p99_ttft_ms']:.0f} ms and p99 TPOT {s['p99_tpot_ms']:.1f} ms "
                f"(SLO {slo.ttft_ms:g} / {slo.tpot_ms:g} ms)")
    return OptionCapacity(deployments=deployments, headroom=headroom, engine=engine, fidelity=s.get("fidelity", ""),
                          search=result, note=note, ttft_ms=(done["ttft_s"] * 1e3).round(3).tolist(),
                          tpot_ms=(done["tpot_s"].dropna() * 1e3).round(3).tolist(), setup=setup)


def capped_within_slo(cap: OptionCapacity, configuration: str, fraction: float, rate_ratio: float) -> tuple[bool, str]:
    """(within the SLO, why not): the deployment labelled `configuration` re-simulated with every chip
    capped at `fraction` of its TDP (energy/power_cap.capped) at its SLO rate x `rate_ratio`, the
    rate a capped step carries. One simulation: the capped fleet's own p99 TTFT and TPOT, not its
    latency at the TDP stretched by a static estimate."""
    from chip2chat.configure.capacity import meets
    from chip2chat.energy.power_cap import capped
    from chip2chat.hardware.load import load_hardware

    d = next((d for d in cap.deployments if d.label == configuration), cap.deployments[0])
    if d.slo_rate_per_s is None or cap.setup is None:
        return False, "the deployment meets no SLO at the TDP"

    def chip(w: Workers):
        hw = load_hardware(w.hardware)[1] if isinstance(w.hardware, str) else w.hardware
        return capped(hw, fraction * (hw.tdp_w or 0.0))  # capped() refuses a chip without a TDP first

    try:
        workers = tuple(replace(w, hardware=chip(w)) for w in d.candidate.workers)
    except Chip2ChatError as exc:  # a chip without a TDP, or below its lowest cap
        return False, str(exc)
    s = simulate_candidate(cap.setup, replace(d.candidate, workers=workers), d.slo_rate_per_s * rate_ratio)
    if meets(s, cap.setup.slo):
        return True, ""
    return False, (f"p99 TTFT {s['p99_ttft_ms']:.0f} ms, TPOT {s['p99_tpot_ms']:.1f} ms" +
                   (", overloaded" if s.get("overload") else ""))


def _does_not_fit(model, hardware, plan: ParallelPlan, weight_dtype, kv_dtype, engine, scheduling) -> DoesNotFitError | None:
    """Why the fixed plan cannot hold the model and a KV cache (None when it can)."""
    rep = get_replica(model, hardware, plan.tp, plan.pp, plan.ep, weight_dtype, kv_dtype,
                      attention_dp=plan.attention_dp, engine=engine)
    try:
        simulation.kv_blocks(rep, scheduling.for_engine(serving_engine(engine)))
    except DoesNotFitError as exc:
        return exc
    return None


def _power(summary: dict, steps: int) -> dict:
    """One step's static power and the dynamic energy per output token of a run of `steps` steps."""
    static = summary["static_power_w_per_replica"] * summary["num_replicas"]
    tokens = summary["total_output_tokens"]
    dynamic = max(0.0, summary["energy_j"] - static * summary["duration_s"]) / tokens if tokens else 0.0
    return {"static_power_w": static / steps, "dynamic_j_per_output_token": dynamic}


def _deployment(f: Finalist, fixed: bool) -> Deployment:
    c, cap = f.candidate, f.capacity
    steps = c.workers[0].count if c.mode == AGGREGATED else 1
    s = cap.summary
    lightest = min((rate for rate, _ in cap.probes), default=cap.saturated_rate_per_s)
    figures = _power(s, steps) if s else {"static_power_w": math.nan, "dynamic_j_per_output_token": math.nan}
    chips: dict[str, int] = {}
    for w in c.workers:
        chips[w.chip] = chips.get(w.chip, 0) + w.gpus // steps
    return Deployment(candidate=c, fixed=fixed, devices=c.gpus // steps, chips=tuple(chips.items()),
                      slo_rate_per_s=None if cap.rate_per_s is None else cap.rate_per_s / steps,
                      max_rate_per_s=cap.saturated_rate_per_s / steps,
                      sample_rate_per_s=cap.rate_per_s if cap.rate_per_s is not None else lightest,
                      p99_ttft_ms=s["p99_ttft_ms"] if s else math.nan, p99_tpot_ms=s["p99_tpot_ms"] if s else math.nan,
                      tokens_per_s_per_gpu=f.tokens_per_s_per_gpu, **figures)


def in_processes(jobs: dict, workers: int) -> dict:
    """Start each job (a picklable callable) in a pool of `workers` processes: {key: Future}, {}
    when `workers` is 1. The pool takes no more jobs but finishes these; a job's error comes out of
    its Future's result(). Forked where the platform can (the imports and caches come along)."""
    if workers <= 1 or len(jobs) < 2:
        return {}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                               mp_context=multiprocessing.get_context("fork" if "fork" in methods else None))
    futures = {key: pool.submit(job) for key, job in jobs.items()}
    pool.shutdown(wait=False)
    return futures
