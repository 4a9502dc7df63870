"""What the configuration search ranges over, as data: the deployments it may propose.

A `Candidate` is a deployment of one model: aggregated (`count` replicas that prefill and decode)
or disaggregated (prefill replicas hand each prompt's KV to decode replicas, each pool with its own
chip, parallel plan, batching knobs and count: heterogeneous when the chips differ), with or without
speculative decoding (engine/speculative.py; one setup for the whole deployment, as `simulate`
takes it). `SearchSpace`
lists the values of each knob; `replica_plans` keeps the parallel plans that are valid for the
model (ParallelPlan.validate) and that the engine can launch (`ENGINES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chip2chat import args
from chip2chat.engine.defaults import MAX_NUM_BATCHED_TOKENS, MAX_NUM_SEQS
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.speculative import Speculative
from chip2chat.errors import Chip2ChatError
from chip2chat.engine.engines import SERVING_ENGINES, serving_engine
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.transformer import Transformer
from chip2chat.serving.config import SchedulerConfig

AGGREGATED, DISAGGREGATED = "aggregated", "disaggregated"
MTP = Speculative(method="mtp")
"""The model's own MTP module at its defaults (engine/speculative.py: k = 1, a = 1.875)."""


ENGINES = SERVING_ENGINES
"""The engines a configuration can be launched on: engine/engines.py's table (scheduler, host time,
whether expert parallel may split a TP group)."""


@dataclass(frozen=True)
class Workers:
    """`count` replicas of one kind: `plan` on `chip`, batching with these knobs."""

    chip: str
    """The chip's display name."""
    plan: ParallelPlan
    count: int = 1
    max_num_seqs: int = MAX_NUM_SEQS
    max_num_batched_tokens: int = MAX_NUM_BATCHED_TOKENS
    enable_chunked_prefill: bool = True
    hardware: str | Accelerator = field(default="", compare=False, repr=False)
    """How the chip was given (a catalog name or path keeps the replica cache warm), or the Accelerator."""

    @property
    def gpus(self) -> int:
        return self.count * self.plan.num_devices

    def scheduling(self, engine: str) -> SchedulerConfig:
        return SchedulerConfig(max_num_seqs=self.max_num_seqs, max_num_batched_tokens=self.max_num_batched_tokens,
                               enable_chunked_prefill=self.enable_chunked_prefill).for_engine(serving_engine(engine))

    def label(self) -> str:
        p = self.plan
        parts = [f"TP{p.tp}"] + [f"PP{p.pp}"] * (p.pp > 1) + [f"EP{p.ep}"] * (p.ep > 1) + ["ADP"] * p.attention_dp
        return f"{self.count}x {''.join(parts)} {self.chip}"


@dataclass(frozen=True)
class Candidate:
    """A deployment: aggregated replicas, or disaggregated (prefill, decode) pools."""

    mode: str
    workers: tuple[Workers, ...]
    """(replicas,) when aggregated; (prefill, decode) when disaggregated."""
    kv_dtype: str
    speculative: Speculative | None = None
    """Speculative decoding of every replica (None: none)."""

    @property
    def gpus(self) -> int:
        return sum(w.gpus for w in self.workers)

    @property
    def replicas(self) -> int:
        return sum(w.count for w in self.workers)

    def with_counts(self, *counts: int) -> Candidate:
        return replace(self, workers=tuple(replace(w, count=n) for w, n in zip(self.workers, counts)))

    def label(self) -> str:
        spec = f" + {self.speculative.label}" if self.speculative else ""
        if self.mode == AGGREGATED:
            return self.workers[0].label() + spec
        prefill, decode = self.workers
        return f"{prefill.label()} prefill : {decode.label()} decode{spec}"


@dataclass(frozen=True)
class SearchSpace:
    """The values the search tries (each filtered by what the model, chip and engine allow)."""

    tp: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    pp: tuple[int, ...] = (1, 2, 4)
    expert_parallel: bool = True
    """Try EP (and attention data parallel) for mixture-of-experts models."""
    kv_dtypes: tuple[str, ...] = ("bf16", "fp8")
    max_num_seqs: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    max_num_batched_tokens: tuple[int, ...] = (2048, 4096, 8192, 16384)
    chunked_prefill: tuple[bool, ...] = (True, False)
    modes: tuple[str, ...] = (AGGREGATED, DISAGGREGATED)
    unit_gpus: int = 8
    """GPUs of one deployment unit when sizing for a request rate (one 8-GPU server); the units
    are replicated to carry the rate. With a GPU budget the unit is the whole budget."""
    speculative: tuple[Speculative | None, ...] = (None, MTP)
    """Speculative decoding setups tried (None: none). mtp ones only where the model has MTP
    layers (DeepSeek-V3/R1: k = 1 at its published acceptance length 1.875 by default); add
    eagle3 / draft_model setups with their measured acceptance length. Only with pp = 1 (vLLM
    does not speculate under pipeline parallelism, docs.vllm.ai v0.10.0 features/spec_decode)."""

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "max_num_seqs", "max_num_batched_tokens"):
            values = getattr(self, name)
            if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
                raise Chip2ChatError(f"search space {name} must be positive integers, got {values!r}")
        for mode in self.modes:
            args.one_of("search space modes", mode, (AGGREGATED, DISAGGREGATED))
        args.positive_int("search space unit_gpus", self.unit_gpus)
        if not self.speculative or not all(s is None or isinstance(s, Speculative) for s in self.speculative):
            raise Chip2ChatError(f"search space speculative must list None and/or chip2chat Speculative setups, "
                                 f"got {self.speculative!r}")


def replica_plans(model: Transformer, engine: str, space: SearchSpace, max_devices: int) -> list[ParallelPlan]:
    """Parallel plans of at most `max_devices` chips that the model allows and the engine launches."""
    plans = []
    experts = max((k.mlp.num_experts for _, k in model.layers), default=0)
    for tp in space.tp:
        for pp in space.pp:
            if tp * pp > max_devices:
                continue
            eps = [1]
            if experts and space.expert_parallel:
                eps += [e for e in range(2, tp + 1) if tp % e == 0 and (ENGINES[engine].partial_ep or e == tp)]
            for ep in eps:
                for attention_dp in (False, True) if ep == tp > 1 else (False,):
                    plan = ParallelPlan(tp, pp, ep, attention_dp)
                    try:
                        plan.validate(model)
                    except Chip2ChatError:
                        continue
                    plans.append(plan)
    return plans


def speculative_setups(model: Transformer, space: SearchSpace) -> list[Speculative | None]:
    """The space's speculative setups that the model can run (mtp needs MTP layers), each once."""
    out = []
    for spec in space.speculative:
        if (spec is None or spec.method != "mtp" or model.mtp_layers) and spec not in out:
            out.append(spec)
    return out


def knob_sets(space: SearchSpace, role: str) -> list[tuple[int, int, bool]]:
    """(max_num_seqs, max_num_batched_tokens, chunked prefill) worth trying for a role: a prefill
    worker varies only its token budget; a decode worker only max_num_seqs; an aggregated replica all."""
    default_budget = max(MAX_NUM_BATCHED_TOKENS, max(space.max_num_seqs))
    if role == "prefill":
        return [(MAX_NUM_SEQS, t, True) for t in space.max_num_batched_tokens if t >= MAX_NUM_SEQS]
    if role == "decode":
        return [(s, default_budget, True) for s in space.max_num_seqs]
    return [(s, t, c) for s in space.max_num_seqs for t in space.max_num_batched_tokens for c in space.chunked_prefill
            if t >= s]
