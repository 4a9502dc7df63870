"""Memory of one chip of a replica: weights + KV cache + activations vs HBM x utilization."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chip2chat.engine.replica import ACT, Replica
from chip2chat.models.dtypes import dtype_bytes
from chip2chat.models.transformer import expert_params


# Memory a serving engine never gets for weights, activations or KV on an "80 GB" GPU, measured in
# TensorRT-LLM's memory guide (docs/source/reference/memory.md, FAQ log): CUDA reports a total of
# 79.10 GiB (0.90 GiB below the nominal 80 GiB), and after the 6,695 MiB engine, 1,134 MiB of
# activations and 224 MB of runtime and decoder buffers 70.48 GiB are available: another 0.76 GiB
# went to the CUDA context and library workspaces. 1.66 GiB per chip in all.
RUNTIME_RESERVED_BYTES = 1.66 * 2**30


@dataclass(frozen=True)
class MemoryBudget:
    """Bytes on one chip. `usable` is HBM capacity x gpu_memory_utilization, as vLLM reserves it."""

    capacity_bytes: float
    usable_bytes: float
    weights_bytes: float
    activation_bytes: float
    runtime_bytes: float = RUNTIME_RESERVED_BYTES
    """Driver reservation, CUDA context and library workspaces (RUNTIME_RESERVED_BYTES)."""

    @property
    def fixed_bytes(self) -> float:
        """Everything but the KV cache: weights, activations and the runtime's reservation."""
        return self.weights_bytes + self.activation_bytes + self.runtime_bytes

    @property
    def kv_capacity_bytes(self) -> float:
        """What is left for the KV cache (negative when the weights alone do not fit)."""
        return self.usable_bytes - self.fixed_bytes


def kv_bytes_per_sequence(replica: Replica, context: int) -> float:
    """KV bytes one sequence of `context` tokens holds on one chip (its share of layers and heads)."""
    total = 0.0
    for lp in replica._layers:
        kept = context if lp.window is None else min(context, lp.window)
        total += lp.count * lp.kv_bytes_per_token * kept
    return total


def kv_bytes_per_token_per_device(replica: Replica) -> float:
    """KV bytes one more token costs on one chip, windowed layers counted as full (as when paging
    every layer alike: an upper bound for models with sliding windows)."""
    return sum(lp.count * lp.kv_bytes_per_token for lp in replica._layers)


def memory_budget(replica: Replica, gpu_memory_utilization: float, max_num_batched_tokens: int,
                  max_num_seqs: int) -> MemoryBudget:
    """Weights are split evenly over the tp x pp chips (replicated KV projections are ignored);
    under attention data parallel only the routed experts are split over the tp chips and every
    chip holds the rest of its stage's weights whole.

    Activations: the peak working set of the largest step (max_num_batched_tokens tokens through
    one layer: residual, norm, QKV, attention output and the MLP's intermediate, in bf16) plus
    fp32 logits for max_num_seqs sequences.
    """
    model, plan = replica.model, replica.plan
    capacity = replica.device.capacity_bytes
    weights = replica.model_weight_bytes
    if plan.attention_dp:
        routed = routed_expert_bytes(replica)
        weights = (weights - routed) / plan.pp + routed / plan.num_devices
    else:
        weights /= plan.num_devices
    widest_mlp = max(max(k.mlp.intermediate * max(k.mlp.top_k, 1), k.mlp.shared_intermediate)
                     for _, k in model.layers) / plan.tp
    per_token = (4 * model.hidden + 3 * widest_mlp) * ACT
    logits = max_num_seqs * logits_bytes_per_sequence(replica)
    activation = max_num_batched_tokens * per_token + logits
    return MemoryBudget(capacity_bytes=capacity, usable_bytes=capacity * gpu_memory_utilization,
                        weights_bytes=weights, activation_bytes=activation)


def logits_bytes_per_sequence(replica: Replica) -> float:
    """fp32 logits of one sequence over this chip's share of the vocabulary (part of the activations)."""
    return replica.model.vocab / replica.plan.tp * 4.0


def largest_batch(replica: Replica, usable_bytes, gpu_memory_utilization: float, max_num_batched_tokens: int,
                  context: int):
    """The most sequences of `context` tokens that fit one chip: weights, runtime and the step's
    activations are fixed; each sequence adds its KV cache and its logits. It does not depend on
    the batch asked for. `usable_bytes` may be an array (chips of a vectorised sweep, whose Device
    is then one of arrays too); the result is then an array of ints."""
    budget = memory_budget(replica, gpu_memory_utilization, max_num_batched_tokens, 0)
    per_sequence = kv_bytes_per_sequence(replica, context) + logits_bytes_per_sequence(replica)
    most = replica.device.maximum((usable_bytes - budget.fixed_bytes) / per_sequence // 1.0, 0.0)  # // 1.0: floor
    return most.astype(int) if isinstance(most, np.ndarray) else int(most)


def routed_expert_bytes(replica: Replica) -> float:
    """Bytes of the routed experts' weights of the whole model (what expert parallel splits)."""
    model = replica.model
    params = sum(count * kind.mlp.num_experts * expert_params(kind.mlp, model.hidden, kind.mlp.intermediate)
                 for count, kind in model.layers if kind.mlp.is_moe)
    return params * dtype_bytes(replica.weight_dtype, "weight dtype")
