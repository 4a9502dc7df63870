"""Serving-engine knobs, named and defaulted as vLLM names them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from chip2chat.errors import StrictModel


class SchedulerConfig(StrictModel):
    """How one replica batches requests (vLLM `--max-num-seqs`, `--max-num-batched-tokens`, ...)."""

    max_num_seqs: int = Field(default=256, ge=1)
    """Most sequences in one step (vLLM default 256)."""
    max_num_batched_tokens: int = Field(default=8192, ge=1)
    """Token budget of one step: decode tokens plus prefill tokens."""
    enable_chunked_prefill: bool = True
    """On (vLLM V1): decodes first, then prompts fill the remaining budget, split if needed.
    Off (vLLM V0): a step either prefills whole prompts (taking priority) or decodes."""
    enable_prefix_caching: bool = False
    """Reuse cached KV blocks of shared prompt prefixes (needs hash ids in the workload)."""
    block_size: int = Field(default=16, ge=1)
    """Tokens per KV block (vLLM default 16)."""
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    """Fraction of HBM the engine may use for weights, activations and KV cache."""
    kv_reservation: Literal["on_demand", "full_request"] = "on_demand"
    """on_demand (vLLM): blocks are taken as tokens arrive; preempt when they run out.
    full_request (TensorRT-LLM's default GUARANTEED_NO_EVICT): a request is admitted only when
    blocks for its whole prompt + output can be reserved, and is never preempted."""
    host_overhead_per_seq_s: float = Field(default=0.0, ge=0)
    """Host (CPU) time per sequence in a step: scheduling, sampling bookkeeping and responses in
    Python. The host prepares the next step while the GPU runs this one (TensorRT-LLM's PyTorch
    overlap scheduler, vLLM's async scheduling), so a step takes the longer of the two.
    0: not modelled (a C++ runtime, or a GPU-bound engine)."""
    policy: Literal["fcfs", "priority"] = "fcfs"
    """Waiting order and preemption victim: arrival order, or (priority, arrival) with lower first."""

    @model_validator(mode="after")
    def _budget_holds_the_decodes(self) -> "SchedulerConfig":
        if self.max_num_batched_tokens < self.max_num_seqs:
            raise ValueError(f"max_num_batched_tokens ({self.max_num_batched_tokens}) must be >= max_num_seqs "
                             f"({self.max_num_seqs}) so that every running sequence can decode in one step")
        return self
