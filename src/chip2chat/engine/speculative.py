"""Speculative decoding: a draft proposes tokens, the target model verifies them in one step.

Each decode step of a sequence then runs `num_speculative_tokens` (k) draft passes and one target
pass over k + 1 query tokens, and emits on average `acceptance_length` tokens (the accepted
drafts plus the target's own token: between 1 and k + 1). The acceptance length depends on the
model, the draft and the traffic, so it is a parameter; the defaults below are published
figures where one exists.

The draft's cost per proposed token is taken as one decoder layer of the target model (an MTP
module is one extra transformer layer sharing the embedding and head, DeepSeek-V3 report §2.2;
an EAGLE-3 draft head is one decoder layer over the target's fused features, Li et al. 2025)
at the decoding batch, and its weights as one layer's. How the serving simulator spends it is
in Replica.fast_cost.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from chip2chat.errors import Chip2ChatError, ConfigError, StrictModel, validated

METHODS = {
    # DeepSeek-V3 technical report (arXiv 2412.19437, §5.4.3): one MTP module, "the acceptance rate
    # of the second token prediction ranges between 85% and 90%": 1 + 0.875 tokens per step, k = 1
    "mtp": {"num_speculative_tokens": 1, "acceptance_length": 1.875},
    # EAGLE-3 (arXiv 2503.01840) and draft models: acceptance depends on the draft and the traffic
    # (the paper's tree drafts reach ~6 on MT-bench; vLLM's chain drafts far less): no default
    "eagle3": {"num_speculative_tokens": 3},
    "draft_model": {"num_speculative_tokens": 3},
}


class Speculative(StrictModel):
    """A speculative decoding setup (vLLM `--speculative-config`, SGLang `--speculative-algorithm`,
    TensorRT-LLM `speculative_config`)."""

    method: Literal["mtp", "eagle3", "draft_model"]
    """mtp: the model's own multi-token-prediction module (DeepSeek-V3/R1); eagle3: an EAGLE-3 draft
    head; draft_model: a separate small model (costed like a one-layer draft: a lower bound)."""
    num_speculative_tokens: int = Field(default=0, ge=0, le=16)
    """Tokens the draft proposes per step (k); 0: the method's default (mtp 1, others 3)."""
    acceptance_length: float = Field(default=0.0, ge=0.0)
    """Mean tokens emitted per verify step, the target's own included (1 <= a <= k + 1); 0: the
    method's published default (mtp only)."""

    @model_validator(mode="after")
    def _complete(self) -> "Speculative":
        k, a = completed(self.method, self.num_speculative_tokens, self.acceptance_length)
        object.__setattr__(self, "num_speculative_tokens", k)
        object.__setattr__(self, "acceptance_length", a)
        return self

    @property
    def label(self) -> str:
        return f"{self.method} k={self.num_speculative_tokens} a={self.acceptance_length:g}"


class FieldError(ValueError):
    """A bad value of one field of a speculative decoding setup."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field = field


def completed(method: str, k: int, a: float) -> tuple[int, float]:
    """(k, a) with the method's defaults for the zeros (METHODS), checked: 1 <= a <= k + 1."""
    default = METHODS[method]
    if not 0 <= k <= 16:
        raise FieldError("num_speculative_tokens", f"{k} is outside 0..16 (0: the method's default)")
    k = k or default["num_speculative_tokens"]
    if a < 0:
        raise FieldError("acceptance_length", f"{a:g} is negative; between 1 and num_speculative_tokens + 1 = {k + 1}")
    a = a or default.get("acceptance_length", 0.0)
    if not a:
        raise FieldError("acceptance_length", f"needed for {method} (mean tokens per verify step, between 1 and "
                         f"num_speculative_tokens + 1 = {k + 1}); it depends on the draft and the traffic: measure it "
                         f"(vLLM reports its mean acceptance length)")
    if not 1.0 <= a <= k + 1:
        raise FieldError("acceptance_length", f"{a:g} is outside 1..{k + 1} (num_speculative_tokens + 1)")
    return k, float(a)


def speculative(method: str | None, num_speculative_tokens: int = 0, acceptance_length: float = 0.0,
                model=None) -> Speculative | None:
    """A Speculative from flags (None without a method); `model` (a Transformer) is checked to have
    the MTP module that mtp needs."""
    if method is None:
        return None
    if method in METHODS:  # a known method: its k and a checked field by field first
        try:
            completed(method, num_speculative_tokens, acceptance_length)
        except FieldError as e:
            raise ConfigError("speculative decoding", e.field, str(e)) from None
    spec = validated(Speculative, {"method": method, "num_speculative_tokens": num_speculative_tokens,
                                   "acceptance_length": acceptance_length}, "speculative decoding")
    if model is not None:
        check_model(spec, model)
    return spec


def check_model(spec: Speculative, model) -> None:
    """mtp drafts with the model's own multi-token-prediction layers: a model without them is an error."""
    if spec.method == "mtp" and not model.mtp_layers:
        raise Chip2ChatError(f"speculative method mtp needs a model with multi-token-prediction layers "
                             f"(num_nextn_predict_layers in its config.json, as DeepSeek-V3/R1); {model.name} "
                             f"has none: use eagle3 or draft_model")
