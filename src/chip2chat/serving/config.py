"""The serving simulation's settings as values, each default here and nowhere else.

`SchedulerConfig`: how one replica batches (named and defaulted as vLLM names them).
`ClusterConfig`: how many replicas, the router, and prefill/decode disaggregation.
`Slo`: the latency objectives that goodput and capacity sizing are judged by.
(The replica's parallel plan is `chip2chat.engine.plan.ParallelPlan`; the requests are a
`chip2chat.workload.Workload`.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pydantic import Field, field_validator, model_validator

from chip2chat import args
from chip2chat.engine.defaults import GPU_MEMORY_UTILIZATION, MAX_NUM_BATCHED_TOKENS, MAX_NUM_SEQS
from chip2chat.engine.engines import ServingEngine
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError, StrictModel
from chip2chat.serving.routers import ROUTERS
from chip2chat.serving.scheduler import SCHEDULERS
from chip2chat.serving.waiting import POLICIES


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    """"1 2 4 ... 512" or "1,2,4" -> the batch sizes, sorted (cuda_graph_batch_sizes as a file
    cell or a command-line value); ValueError unless they are whole numbers >= 1."""
    words = text.replace(",", " ").split()
    if not words or not all(w.isdigit() and int(w) >= 1 for w in words):
        raise ValueError(f"not batch sizes: {text!r}")
    return tuple(sorted({int(w) for w in words}))


class SchedulerConfig(StrictModel):
    """How one replica batches requests (vLLM `--max-num-seqs`, `--max-num-batched-tokens`, ...)."""

    scheduler: str = "vllm"
    """Which engine's scheduler (a name in `serving.scheduler.SCHEDULERS`): vllm (KV blocks taken
    as tokens arrive, preemption when they run out) or trtllm-guaranteed-no-evict (TensorRT-LLM's
    default: a request is admitted only when blocks for its whole prompt + output can be reserved,
    and is never preempted). Left unset, `simulate` takes its serving engine's (`for_engine`:
    vllm for vLLM and SGLang, trtllm-guaranteed-no-evict for TensorRT-LLM); the default written
    here is the default engine's, vLLM's."""
    max_num_seqs: int = Field(default=MAX_NUM_SEQS, ge=1)
    """Most sequences in one step (vLLM default 256)."""
    max_num_batched_tokens: int = Field(default=MAX_NUM_BATCHED_TOKENS, ge=1)
    """Token budget of one step: decode tokens plus prefill tokens (vLLM's V1 default for serving)."""
    enable_chunked_prefill: bool = True
    """On (vLLM V1): decodes first, then prompts fill the remaining budget, split if needed.
    Off: prompts are prefilled whole, beside the decodes or in steps of their own (`mixed_batches`)."""
    mixed_batches: bool = True
    """Prompts share a step with the running decodes: with chunked prefill their chunks (vLLM,
    TensorRT-LLM's inflight batching; SGLang's --enable-mixed-chunk), without it whole prompts within
    the budget left by the decodes (TensorRT-LLM with enable_chunked_context off). Off: a step
    prefills prompts (first) or decodes, and the decodes wait while prompts are prefilled (SGLang's
    default, `enable_mixed_chunk` False in its server_args.py; vLLM V0 without chunked prefill).
    Left unset, `simulate` takes its serving engine's (`for_engine`: ServingEngine.mixed_batches,
    or .whole_prompts_mixed without chunked prefill); `mixes` is what a step does."""
    num_scheduler_steps: int = Field(default=1, ge=1)
    """vLLM V0's multi-step scheduling (`--num-scheduler-steps`, vLLM 0.6.0 to 0.7): a batch of
    decodes runs this many steps with no scheduling between them, and its tokens reach the client
    at the end, n at a time (replica_sim.py). 1: every step is scheduled (every engine today).
    Needs chunked prefill off, as vLLM 0.6.0 and 0.6.1 did (its 0.6.2 multi-step chunked prefill is
    not modelled)."""
    async_output_proc: bool = False
    """vLLM V0's asynchronous output processing (on by default from 0.6.0 to V0's end:
    `--disable-async-output-proc` False in its EngineArgs): a step's tokens are turned into
    responses while the next step runs and reach the client when that step ends (at once when no
    step follows), so TTFT and E2E gain a step and the gaps between tokens stay as they were
    (replica_sim.py). Off: tokens go out as their step ends (vLLM V1, SGLang, TensorRT-LLM)."""
    cuda_graph_batch_sizes: tuple[int, ...] | None = None
    """Batch sizes the engine captured CUDA graphs for, when it pads a decode-only step up to the
    smallest of them that holds it (TensorRT-LLM's `cuda_graph_config` with `enable_padding: true`
    and its `batch_sizes`), counted per attention-DP rank and pipeline micro-batch; sizes above the
    engine's batch limit (max_num_seqs over those ranks) are not captured, and a step above the
    largest runs unpadded. A padded sequence costs what a real one does in every operator but
    attention (it reads no KV cache) and produces no token. None: no padding (TensorRT-LLM's
    `enable_padding` default is False; replica_sim.py)."""
    enable_prefix_caching: bool = False
    """Reuse cached KV blocks of shared prompt prefixes (needs hash ids in the workload)."""
    block_size: int = Field(default=16, ge=1)
    """Tokens per KV block (vLLM default 16)."""
    gpu_memory_utilization: float = Field(default=GPU_MEMORY_UTILIZATION, gt=0, le=1)
    """Fraction of HBM the engine may use for weights, activations and KV cache."""
    host_overhead_per_seq_s: float = Field(default=0.0, ge=0)
    """Host (CPU) time per sequence in a step: scheduling, sampling bookkeeping and responses in
    Python. The host prepares the next step while the GPU runs this one (TensorRT-LLM's PyTorch
    overlap scheduler, vLLM's async scheduling), so a step takes the longer of the two.
    0: not modelled (a C++ runtime, or a GPU-bound engine). Left unset, `simulate` takes its
    serving engine's measured figure (`for_engine`: 29.4 us for TensorRT-LLM's PyTorch backend; 0
    for vLLM and SGLang, unmeasured)."""
    policy: str = "fcfs"
    """Waiting order and preemption victim (a name in `serving.waiting.POLICIES`): fcfs (arrival
    order) or priority ((priority, arrival) with lower first)."""

    @field_validator("scheduler", "policy")
    @classmethod
    def _known_name(cls, value: str, info) -> str:
        names = list(SCHEDULERS if info.field_name == "scheduler" else POLICIES)
        if value not in names:
            quoted = [repr(n) for n in names]
            raise ValueError(f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}")
        return value

    @property
    def mixes(self) -> bool:
        """Whether prompts share steps with the decodes: `mixed_batches` as written (or given by
        `for_engine`); left unset, the default engine's (vLLM's): with chunked prefill (V1) they
        do, without it (V0) they do not."""
        return self.mixed_batches if "mixed_batches" in self.model_fields_set else self.enable_chunked_prefill

    def for_engine(self, engine: ServingEngine) -> "SchedulerConfig":
        """These settings with the engine's scheduler, host time and batch mixing where they were left unset
        (pydantic's `model_fields_set`: a value written, even the default, is kept)."""
        mixed = engine.mixed_batches if self.enable_chunked_prefill else engine.whole_prompts_mixed
        defaults = {"scheduler": engine.scheduler, "host_overhead_per_seq_s": engine.host_overhead_per_seq_s,
                    "mixed_batches": mixed}
        unset = {k: v for k, v in defaults.items() if k not in self.model_fields_set}
        return self.model_copy(update=unset) if unset else self

    @field_validator("cuda_graph_batch_sizes")
    @classmethod
    def _graph_sizes(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value):
            raise ValueError("expected batch sizes, whole numbers >= 1 (e.g. 1, 2, 4, ..., 512)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _multi_step_without_chunks(self) -> "SchedulerConfig":
        if self.num_scheduler_steps > 1 and self.enable_chunked_prefill:
            raise ValueError(f"num_scheduler_steps {self.num_scheduler_steps} needs enable_chunked_prefill off (vLLM "
                             f"0.6.0's multi-step scheduling; multi-step chunked prefill is not modelled)")
        return self

    @model_validator(mode="after")
    def _budget_holds_the_decodes(self) -> "SchedulerConfig":
        if self.max_num_batched_tokens < self.max_num_seqs:
            raise ValueError(f"max_num_batched_tokens ({self.max_num_batched_tokens}) must be >= max_num_seqs "
                             f"({self.max_num_seqs}) so that every running sequence can decode in one step")
        return self


@dataclass(frozen=True)
class ClusterConfig:
    """Replicas behind a router, or disaggregated prefill and decode pools."""

    num_replicas: int = 1
    """Data-parallel replicas behind the router (without `disaggregate`)."""
    router: str = "round_robin"
    """How arrivals pick a replica: a name in `serving.routers.ROUTERS`."""
    disaggregate: tuple[int, int] | None = None
    """(P, D): P prefill-only replicas hand each prompt's KV to D decode replicas."""
    kv_link_bandwidth_bytes_per_s: float | None = None
    """Bandwidth of the KV hand-over per replica; None: the chips' scale-out bandwidth, one NIC a chip."""

    def __post_init__(self) -> None:
        args.positive_int("num_replicas", self.num_replicas)
        args.one_of("router", self.router, tuple(ROUTERS))
        args.number("kv_link_bandwidth_bytes_per_s", self.kv_link_bandwidth_bytes_per_s, low=0, low_open=True,
                    optional=True)
        if self.disaggregate is not None:
            pools = self.disaggregate
            if not (isinstance(pools, (tuple, list)) and len(pools) == 2):
                raise Chip2ChatError(f"disaggregate must be (prefill replicas, decode replicas), e.g. (2, 6), "
                                     f"got {pools!r}")
            object.__setattr__(self, "disaggregate", tuple(args.positive_int(f"disaggregate[{i}]", n)
                                                           for i, n in enumerate(pools)))


@dataclass(frozen=True)
class DecodePool:
    """The decode replicas of a disaggregated cluster where they differ from the prefill replicas
    (heterogeneous disaggregation): another chip, parallel plan or batching; the same model,
    weight and KV dtypes and engine. The KV goes at the slower side's NICs (serving/cluster.py)."""

    hardware: object
    """A catalog accelerator name, an accelerator YAML path or an Accelerator."""
    plan: ParallelPlan = ParallelPlan()
    scheduling: SchedulerConfig | None = None
    """How a decode replica batches; None: as the prefill replicas do."""

    def __post_init__(self) -> None:
        args.instance("decode pool plan", self.plan, (ParallelPlan,), "a chip2chat ParallelPlan")
        if self.scheduling is not None:
            args.instance("decode pool scheduling", self.scheduling, (SchedulerConfig,), "a SchedulerConfig or None")


@dataclass(frozen=True)
class Slo:
    """Latency objectives in milliseconds (None: no objective). A run meets them when its p99 TTFT
    and p99 TPOT are within (`met_by`, how capacity is sized); goodput counts the requests whose own
    TTFT and TPOT are within (vLLM benchmark_serving's --goodput)."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            args.number(f"slo_{f.name}", getattr(self, f.name), low=0, low_open=True, optional=True)

    def met_by(self, summary: dict) -> bool:
        """The run's p99 TTFT and p99 TPOT are within the objectives."""
        return ((self.ttft_ms is None or summary["p99_ttft_ms"] <= self.ttft_ms)
                and (self.tpot_ms is None or summary["p99_tpot_ms"] <= self.tpot_ms))
