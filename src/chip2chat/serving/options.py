"""`simulate`'s keyword form: each keyword is a field of one of the setting objects.

    simulate(model, hardware, tp=2, max_num_seqs=128, num_replicas=2, slo_ttft_ms=200, rate_per_s=20)
    # is
    simulate(model, hardware, plan=ParallelPlan(tp=2), scheduling=SchedulerConfig(max_num_seqs=128),
             cluster=ClusterConfig(num_replicas=2), slo=Slo(ttft_ms=200), workload=synthetic(1000, 20))

A keyword given next to its object replaces that field of the object. The workload is the
`workload` object, else the trace file, else a synthetic one from the workload keywords.
"""

from __future__ import annotations

import dataclasses
import difflib

from chip2chat import args
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError, validated
from chip2chat.serving.config import ClusterConfig, SchedulerConfig, Slo
from chip2chat.workload import Workload, read_trace, synthetic

SYNTHETIC = {"rate_per_s": 10.0, "num_requests": None}
"""Defaults of a synthetic workload that `workload.synthetic` leaves to its caller (num_requests
None: until steady state, serving/steady.py, which `simulate` runs before these settings)."""
SYNTHETIC_KEYWORDS = (*SYNTHETIC, "input_len", "output_len", "arrival", "cv", "seed", "concurrency")
TRACE_KEYWORDS = ("trace", "trace_format")

KEYWORDS = {
    "plan": tuple(f.name for f in dataclasses.fields(ParallelPlan)),
    "scheduling": tuple(SchedulerConfig.model_fields),
    "cluster": tuple(f.name for f in dataclasses.fields(ClusterConfig)),
    "slo": tuple(f"slo_{f.name}" for f in dataclasses.fields(Slo)),
    "workload": SYNTHETIC_KEYWORDS + TRACE_KEYWORDS,
}


def settings(keywords: dict, plan: ParallelPlan | None, scheduling: SchedulerConfig | None,
             cluster: ClusterConfig | None, slo: Slo | None,
             workload: Workload | None) -> tuple[ParallelPlan, SchedulerConfig, ClusterConfig, Slo, Workload]:
    """The setting objects with the keywords applied (defaults where neither gives a field)."""
    groups = _grouped(keywords)
    for name, value, cls, where in (("plan", plan, ParallelPlan, "engine.plan"),
                                    ("scheduling", scheduling, SchedulerConfig, "serving"),
                                    ("cluster", cluster, ClusterConfig, "serving"), ("slo", slo, Slo, "serving"),
                                    ("workload", workload, Workload, "workload")):
        if value is not None:
            args.instance(name, value, (cls,), f"a chip2chat.{where}.{cls.__name__} or None")
    plan = dataclasses.replace(plan or ParallelPlan(), **groups["plan"])
    scheduling = _scheduling(scheduling, groups["scheduling"])
    cluster = dataclasses.replace(cluster or ClusterConfig(), **groups["cluster"])
    slo = dataclasses.replace(slo or Slo(), **{k.removeprefix("slo_"): v for k, v in groups["slo"].items()})
    return plan, scheduling, cluster, slo, workload or _workload(groups["workload"])


def _grouped(keywords: dict) -> dict[str, dict]:
    owner = {k: group for group, names in KEYWORDS.items() for k in names}
    for k in keywords:
        if k not in owner:
            close = difflib.get_close_matches(k, list(owner), n=3)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise Chip2ChatError(f"simulate() has no argument {k!r}{hint}")
    return {group: {k: v for k, v in keywords.items() if owner[k] == group} for group in KEYWORDS}


def _scheduling(base: SchedulerConfig | None, given: dict) -> SchedulerConfig:
    if base is not None and not given:
        return base
    # only the fields the base set: one it left unset still takes the engine's (SchedulerConfig.for_engine)
    return validated(SchedulerConfig, {**(base.model_dump(exclude_unset=True) if base else {}), **given},
                     "serving options")


def _workload(given: dict) -> Workload:
    if given.get("trace") is not None:
        if given.get("trace_format") is None:
            raise Chip2ChatError("a trace needs its format: trace_format azure, burstgpt or mooncake")
        return read_trace(given["trace"], given["trace_format"])
    kw = {**SYNTHETIC, **{k: v for k, v in given.items() if k not in TRACE_KEYWORDS}}
    args.positive_int("seed", kw.get("seed", 0), low=0)
    return synthetic(kw.pop("num_requests"), kw.pop("rate_per_s"), **kw)
