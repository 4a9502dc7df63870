"""What a model costs, derived from its config alone: parameters, weight and KV bytes, FLOP per token.

Conventions (stated because published figures differ on them):
- `total_params` counts every stored parameter: embeddings, lm_head (once if tied), norms, biases,
  routers, all experts. Multi-token-prediction heads (DeepSeek-V3 `num_nextn_predict_layers`) are
  not part of the config's layers and are not counted, as in DeepSeek's 671B.
- `active_params` counts the parameters a token's forward pass multiplies: attention, the
  top-k routed plus shared experts, routers, norms and the lm_head, but not the input embedding
  table, which is a row lookup (OpenAI's 5.1B for gpt-oss-120b counts this way).
  `active_params_with_embedding` adds the embedding table (Mistral's 12.9B for Mixtral counts so).
- Linear-layer weights are stored in the chosen weight dtype; embeddings, lm_head, norms, biases
  and routers stay in bf16, as vLLM and TensorRT-LLM ship FP8/FP4 checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from chip2chat.models.config import Attention, LayerKind, Mlp, ModelSpec
from chip2chat.models.dtypes import dtype_bytes

HIGH_PRECISION_BYTES = 2.0  # bf16 for embeddings, lm_head, norms, biases, routers


def attention_linear_params(a: Attention, hidden: int) -> int:
    """Weights of the attention projections of one layer (excluding biases and norms)."""
    if a.kind == "mla":
        nope = a.head_dim - a.qk_rope_head_dim
        q = hidden * a.num_heads * a.head_dim if a.q_lora_rank is None else \
            hidden * a.q_lora_rank + a.q_lora_rank * a.num_heads * a.head_dim
        kv_a = hidden * (a.kv_lora_rank + a.qk_rope_head_dim)
        kv_b = a.kv_lora_rank * a.num_heads * (nope + a.v_head_dim)
        return q + kv_a + kv_b + a.num_heads * a.v_head_dim * hidden
    q = hidden * a.num_heads * a.head_dim
    kv = 2 * hidden * a.num_kv_heads * a.head_dim
    return q + kv + a.num_heads * a.head_dim * hidden


def attention_small_params(a: Attention, hidden: int) -> int:
    """Norm, bias and sink parameters of one layer's attention (kept in bf16)."""
    n = hidden  # input layernorm
    if a.kind == "mla":
        n += (a.q_lora_rank or 0) + a.kv_lora_rank
    if a.qkv_bias:
        n += (a.num_heads + 2 * a.num_kv_heads) * a.head_dim + hidden
    if a.qk_norm:
        n += 2 * a.head_dim
    return n


def expert_params(m: Mlp, hidden: int, intermediate: int) -> int:
    """Weights of one gated (or plain) MLP of the given intermediate size."""
    return (3 if m.gated else 2) * hidden * intermediate


def mlp_params(m: Mlp, hidden: int) -> tuple[int, int, int, int]:
    """(linear weights stored, linear weights a token uses, small params stored, small used).

    'Small' parameters are norms, biases and the router, kept in bf16.
    """
    small = hidden  # post-attention layernorm
    expert_bias = 2 * m.intermediate + hidden if m.bias else 0
    if not m.is_moe:
        w = expert_params(m, hidden, m.intermediate)
        return w, w, small + expert_bias, small + expert_bias
    routed = expert_params(m, hidden, m.intermediate)
    shared = expert_params(m, hidden, m.shared_intermediate) if m.shared_intermediate else 0
    small += hidden * m.num_experts + (m.num_experts if m.router_bias else 0)  # router
    return (m.num_experts * routed + shared, m.top_k * routed + shared,
            small + m.num_experts * expert_bias, small + m.top_k * expert_bias)


def attention_pairs(context: int, new: int, window: int | None) -> int:
    """(query, key) pairs a causal attention computes for `new` tokens after `context` cached ones.

    Query j (1-based position c+1..c+n) sees min(j, window) keys.
    """
    end = context + new
    if window is None or end <= window:
        return new * context + new * (new + 1) // 2
    if context >= window:
        return new * window
    # positions context+1..window see j keys, the rest see `window`
    below = window - context
    return below * context + below * (below + 1) // 2 + (end - window) * window


@dataclass(frozen=True)
class Transformer:
    """A model spec plus everything derived from it. Cheap to keep; properties are cached."""

    spec: ModelSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def hidden(self) -> int:
        return self.spec.hidden

    @property
    def vocab(self) -> int:
        return self.spec.vocab

    @property
    def layers(self) -> tuple[tuple[int, LayerKind], ...]:
        return self.spec.layers

    @property
    def num_layers(self) -> int:
        return self.spec.num_layers

    @property
    def mtp_layers(self) -> int:
        """Multi-token-prediction modules shipped with the model (speculative decoding drafts)."""
        return self.spec.mtp_layers

    @property
    def is_moe(self) -> bool:
        return any(kind.mlp.is_moe for _, kind in self.layers)

    @property
    def is_mla(self) -> bool:
        return any(kind.attention.kind == "mla" for _, kind in self.layers)

    @cached_property
    def _counts(self) -> tuple[int, int, int, int]:
        """(linear weights stored, linear used per token, small params stored, small used) of all layers."""
        stored = used = small = small_used = 0
        h = self.hidden
        for count, kind in self.layers:
            attn = attention_linear_params(kind.attention, h)
            attn_small = attention_small_params(kind.attention, h)
            m_stored, m_used, m_small, m_small_used = mlp_params(kind.mlp, h)
            stored += count * (attn + m_stored)
            used += count * (attn + m_used)
            small += count * (attn_small + m_small)
            small_used += count * (attn_small + m_small_used)
        return stored, used, small + h, small_used + h  # + final norm

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def lm_head_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def total_params(self) -> int:
        stored, _, small, _ = self._counts
        head = 0 if self.spec.tie_embeddings else self.lm_head_params
        return stored + small + self.embedding_params + head

    @property
    def active_params(self) -> int:
        _, used, _, small_used = self._counts
        return used + small_used + self.lm_head_params

    @property
    def active_params_with_embedding(self) -> int:
        return self.active_params + (0 if self.spec.tie_embeddings else self.embedding_params)

    def weight_bytes(self, weight_dtype: str = "bf16") -> float:
        """Bytes of all stored weights: linear layers in `weight_dtype`, the rest in bf16."""
        stored, _, small, _ = self._counts
        head = 0 if self.spec.tie_embeddings else self.lm_head_params
        return stored * dtype_bytes(weight_dtype, "weight dtype") + \
            (small + self.embedding_params + head) * HIGH_PRECISION_BYTES

    # --- KV cache -------------------------------------------------------------------------
    @staticmethod
    def kv_elements_per_token(a: Attention) -> int:
        """Cached values per token in one layer: K and V per KV head, or MLA's latent + rope key."""
        if a.kind == "mla":
            return a.kv_lora_rank + a.qk_rope_head_dim
        return a.num_kv_heads * (a.head_dim + a.v_head_dim)

    def kv_bytes_per_token(self, kv_dtype: str = "bf16") -> float:
        """KV bytes one token adds when every layer keeps it (the usual 'per token' figure)."""
        b = dtype_bytes(kv_dtype, "KV dtype")
        return sum(count * self.kv_elements_per_token(k.attention) * b for count, k in self.layers)

    def kv_bytes_for_context(self, context: int, kv_dtype: str = "bf16") -> float:
        """KV bytes of one sequence of `context` tokens: sliding-window layers keep at most `window`."""
        b = dtype_bytes(kv_dtype, "KV dtype")
        total = 0.0
        for count, k in self.layers:
            kept = context if k.attention.window is None else min(context, k.attention.window)
            total += count * self.kv_elements_per_token(k.attention) * b * kept
        return total

    # --- FLOP -----------------------------------------------------------------------------
    @staticmethod
    def attention_flops_per_pair(a: Attention, absorbed: bool) -> int:
        """FLOP of QK^T plus PV for one (query, key) pair, all heads of one layer.

        MLA decode runs 'absorbed' in the latent space (vLLM / SGLang / FlashMLA): scores over
        kv_lora_rank + rope dims and values of kv_lora_rank dims. Prefill runs it as plain MHA.
        """
        if a.kind == "mla" and absorbed:
            return 2 * a.num_heads * (2 * a.kv_lora_rank + a.qk_rope_head_dim)
        return 2 * a.num_heads * (a.head_dim + a.v_head_dim)

    def flops_per_token(self, context: int, phase: str = "decode") -> float:
        """Forward FLOP of one token that attends to `context` tokens (itself included).

        2 FLOP per used weight (lm_head included) plus attention over min(context, window)
        keys per layer. `phase` 'decode' uses MLA's absorbed form, 'prefill' the plain one.
        """
        _, used, _, _ = self._counts
        flops = 2.0 * (used + self.lm_head_params)
        for count, k in self.layers:
            keys = context if k.attention.window is None else min(context, k.attention.window)
            flops += count * keys * self.attention_flops_per_pair(k.attention, phase == "decode")
        return flops

    def prefill_flops(self, prompt_len: int, context: int = 0) -> float:
        """Forward FLOP to prefill `prompt_len` tokens after `context` cached ones (causal)."""
        _, used, _, _ = self._counts
        flops = 2.0 * used * prompt_len + 2.0 * self.lm_head_params  # logits for the last token only
        for count, k in self.layers:
            pairs = attention_pairs(context, prompt_len, k.attention.window)
            flops += count * pairs * self.attention_flops_per_pair(k.attention, absorbed=False)
        return flops
