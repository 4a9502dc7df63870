"""Parallel plan of one replica (TP x PP chips; EP shards the experts inside the TP group;
attention data parallel replaces TP outside the routed experts)."""

from __future__ import annotations

from dataclasses import dataclass

from chip2chat.errors import Chip2ChatError
from chip2chat.models.transformer import Transformer


def _divisors(n: int, limit: int = 64) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


@dataclass(frozen=True)
class ParallelPlan:
    tp: int = 1
    """Tensor parallel size: attention heads and MLP columns split over `tp` chips."""
    pp: int = 1
    """Pipeline parallel size: layers split into `pp` stages."""
    ep: int = 1
    """Expert parallel size inside the TP group: experts split over `ep` chips, each expert's
    columns over tp/ep chips. Every chip holds all tokens after the attention all-reduce, so the
    MoE output is summed by one all-reduce as with TP; under attention DP the tokens are all-gathered
    before the experts and reduce-scattered after."""
    attention_dp: bool = False
    """Attention data parallel (TensorRT-LLM `enable_attention_dp`, SGLang `--enable-dp-attention`,
    vLLM data parallel with expert parallel): each of the tp chips holds every weight outside the
    routed experts and serves its own share of the sequences with their whole KV cache (no KV heads
    replicated, no all-reduce); the routed experts are split over ep = tp chips. Costs assume the
    sequences are balanced over the chips: right for a loaded server, optimistic for the TTFT of
    a lone prompt (which really runs on one chip)."""

    @property
    def dp(self) -> int:
        """Ranks the sequences are spread over outside the experts (1 without attention DP)."""
        return self.tp if self.attention_dp else 1

    @property
    def attention_tp(self) -> int:
        """Chips one sequence's attention is split over."""
        return 1 if self.attention_dp else self.tp

    @property
    def num_devices(self) -> int:
        return self.tp * self.pp

    def validate(self, model: Transformer) -> None:
        for field, value in (("tensor-parallel-size", self.tp), ("pipeline-parallel-size", self.pp),
                             ("expert-parallel-size", self.ep)):
            if not isinstance(value, int) or value < 1:
                raise Chip2ChatError(f"{field} must be a positive integer, got {value!r}")
        if self.attention_dp and not model.is_moe:
            raise Chip2ChatError(
                f"attention data parallel needs a mixture-of-experts model; {model.name} is dense "
                f"(serve more replicas instead)")
        if self.attention_dp and self.ep != self.tp:
            raise Chip2ChatError(
                f"attention data parallel needs expert-parallel-size equal to tensor-parallel-size "
                f"({self.tp}), got {self.ep}")
        for _, kind in model.layers if not self.attention_dp else ():
            heads, kv = kind.attention.num_heads, kind.attention.num_kv_heads
            if heads % self.tp:
                raise Chip2ChatError(
                    f"tensor-parallel-size {self.tp} does not divide the {heads} attention heads of "
                    f"{model.name}; allowed: {', '.join(map(str, _divisors(heads)))}")
            if kind.attention.kind == "gqa" and kv % self.tp and self.tp % kv:
                raise Chip2ChatError(
                    f"tensor-parallel-size {self.tp} must divide or be a multiple of the {kv} KV heads "
                    f"of {model.name}")
        if self.pp > model.num_layers:
            raise Chip2ChatError(f"pipeline-parallel-size {self.pp} exceeds the {model.num_layers} layers "
                                 f"of {model.name}")
        if self.ep > 1:
            experts = max(k.mlp.num_experts for _, k in model.layers)
            if not experts:
                raise Chip2ChatError(f"expert-parallel-size {self.ep} needs a mixture-of-experts model; "
                                     f"{model.name} is dense (use 1)")
            if self.tp % self.ep or experts % self.ep:
                raise Chip2ChatError(
                    f"expert-parallel-size {self.ep} must divide tensor-parallel-size {self.tp} and the "
                    f"{experts} experts; allowed: "
                    f"{', '.join(str(d) for d in _divisors(self.tp) if experts % d == 0)}")
