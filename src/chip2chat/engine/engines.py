"""Serving engines as a dimension: what chip2chat models of each, in one table chosen by name.

An engine brings its kernels (the measured tables it was timed under, hardware/kernels.py; they
time the operators wherever the chip has tables: costs/measured.py), its scheduler policy (a name
in serving.scheduler.SCHEDULERS, the default of SchedulerConfig.scheduler), its host time per
sequence and step (the default of SchedulerConfig.host_overhead_per_seq_s) and whether prompt
chunks share steps with the decodes (SchedulerConfig.mixed_batches: not in SGLang). The batching knobs
(max_num_seqs, max_num_batched_tokens, gpu_memory_utilization) keep their one default whatever
the engine (engine/defaults.py: vLLM's).

CUDA graphs are a switch of the engine setup (`cuda_graphs`: get_replica, estimate, simulate, the
validation column; the CLI's --enforce-eager), on by default in every engine as served today:
- TensorRT-LLM's PyTorch backend (1.x): TorchLlmArgs.cuda_graph_config defaults to
  CudaGraphConfig() (tensorrt_llm/llmapi/llm_args.py: "CUDA graph config. If true, use CUDA graphs
  for decoding"); None turns them off;
- vLLM: --enforce-eager, default False (docs.vllm.ai engine arguments: "Always use eager-mode
  PyTorch"); SGLang: --disable-cuda-graph, default False (sglang/srt/server_args.py).
TensorRT-LLM's C++ runtime (TensorRT engines, the releases before 1.0) ran without them unless told:
its executor's ExtendedRuntimePerfKnobConfig.cuda_graph_mode defaults to False (TensorRT-LLM API
reference, ExtendedRuntimePerfKnobConfig); Triton's tensorrtllm_backend config.pbtxt
`cuda_graph_mode`: "Set to `true` to enable cuda graph. (default=`false`)"
(triton-inference-server/tensorrtllm_backend docs/model_config.md); trtllm-bench's PerformanceOptions
has cuda_graphs False (tensorrt_llm/bench/dataclasses/configuration.py), set True by its latency
command only, never by its throughput command (tensorrt_llm/bench/benchmark/throughput.py and
low_latency.py, 0.15 to 0.20). `cuda_graphs_default` turns an engine and version into the switch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chip2chat.errors import Chip2ChatError
from chip2chat.hardware import kernels
from chip2chat.hardware.calibration import engine_calibration


@dataclass(frozen=True)
class ServingEngine:
    """One serving engine, as the cost model and the simulator see it."""

    name: str
    label: str
    """How the engine is called in results."""
    kernels: str
    """The engine whose measured kernel tables time the operators (a name of kernels.ENGINES)."""
    scheduler: str
    """Its scheduler in the simulation (a name of serving.scheduler.SCHEDULERS)."""
    host_measurement: str | None
    """The entry of catalog/calibration/engines.yaml that measured its host time per sequence and
    step; None where nobody has measured it (no host time is modelled: the GPU sets the step)."""
    partial_ep: bool
    """Expert parallel over a divisor of the TP group (TensorRT-LLM's moe_expert_parallel_size);
    False: experts are split over the whole group or not at all (vLLM --enable-expert-parallel,
    SGLang --ep-size equal to --tp-size)."""
    cuda_graphs: bool = True
    """Steps run in CUDA graphs by default (the module says where each default comes from)."""
    mixed_batches: bool = True
    """Prompt chunks share steps with the running decodes (SchedulerConfig.mixed_batches)."""
    whole_prompts_mixed: bool = False
    """Without chunked prefill, whole prompts share steps with the running decodes (SchedulerConfig.
    mixed_batches when enable_chunked_prefill is off): TensorRT-LLM's inflight batching packs context
    requests whole beside the generation requests up to max_num_tokens (its micro-batch scheduler,
    enable_chunked_context off); vLLM V0 ran a step of whole prompts or of decodes, prompts first."""

    @property
    def host_overhead_per_seq_s(self) -> float:
        """Host (CPU) time per sequence and step, overlapped with the GPU (0 where unmeasured)."""
        if self.host_measurement is None:
            return 0.0
        return float(engine_calibration()[self.host_measurement]["host_overhead_per_seq_s"])


SERVING_ENGINES: dict[str, ServingEngine] = {
    # TensorRT-LLM's PyTorch backend (the default since 1.0): GUARANTEED_NO_EVICT capacity
    # scheduler (whole requests reserved in the KV cache, never preempted); 29.4 us of Python host
    # time per sequence and step measured by TensorRT-LLM (engines.yaml). The C++ runtime of 0.x
    # had no such host loop (validation rows of 0.14 and 0.17 set 0).
    "trtllm": ServingEngine("trtllm", "TensorRT-LLM", "trtllm", "trtllm-guaranteed-no-evict", "tensorrt-llm-pytorch",
                            partial_ep=True, whole_prompts_mixed=True),
    # vLLM V1: KV blocks taken as tokens arrive, preemption by recompute when they run out; its
    # host time per sequence (async scheduling overlaps it) is unmeasured
    "vllm": ServingEngine("vllm", "vLLM", "vllm", "vllm", None, partial_ep=False),
    # SGLang retracts running requests when its KV pool runs out, as vLLM preempts them; its host
    # time is unmeasured (the radix-cache scheduler is not modelled: serving/scheduler.py); its
    # prefill batches run apart from the decodes (server_args.py enable_mixed_chunk, default False)
    "sglang": ServingEngine("sglang", "SGLang", "sglang", "vllm", None, partial_ep=False, mixed_batches=False),
}
assert set(SERVING_ENGINES) == set(kernels.ENGINES), "one serving engine per engine the kernel tables know"


def serving_engine(name: str) -> ServingEngine:
    """The engine called `name`; a one-line error listing the known ones otherwise."""
    try:
        return SERVING_ENGINES[name]
    except (KeyError, TypeError):
        raise Chip2ChatError(f"unknown serving engine {name!r}; known: {', '.join(SERVING_ENGINES)}") from None


_RELEASE_0X = re.compile(r"^\s*v?0\.\d+")
"""A TensorRT-LLM release before 1.0 ("0.14.0", "0.17")."""


def cpp_runtime(engine: str, version: str = "") -> bool:
    """Whether `engine` at `version` is TensorRT-LLM's C++ runtime (TensorRT engines, no Python loop
    per step): a release before 1.0, a NIM (its TensorRT-LLM profiles are prebuilt engines) or a
    version that says its TensorRT backend (trtllm-bench's report, validate/importers/trtllm.py),
    unless it says PyTorch. An empty or unknown version is the engine as served today
    (TensorRT-LLM: the PyTorch backend, the default since 1.0)."""
    v = (version or "").strip().lower()
    return engine == "trtllm" and "pytorch" not in v and bool(
        _RELEASE_0X.match(v) or v.startswith("nim") or "tensorrt backend" in v)


def host_overhead_default(engine: str, version: str = "") -> float:
    """Host time per sequence and step of `engine` at `version` when not told: none for TensorRT-LLM's
    C++ runtime (`cpp_runtime`), the engine's measured figure otherwise (ServingEngine)."""
    return 0.0 if cpp_runtime(engine, version) else serving_engine(engine).host_overhead_per_seq_s


def cuda_graphs_default(engine: str, version: str = "") -> bool:
    """Whether `engine` at `version` runs its steps in CUDA graphs when not told (module docstring):
    TensorRT-LLM's C++ runtime of the 0.x releases does not (cuda_graph_mode off by default, never
    turned on by trtllm-bench throughput); every other engine and version does (a NIM's profiles
    are not documented either way: as served today)."""
    if cpp_runtime(engine, version) and _RELEASE_0X.match(version or ""):
        return False
    return serving_engine(engine).cuda_graphs
