"""Read a Hugging Face `config.json` into a normalised Transformer description.

Handles the decoder-only families of FAMILIES: Llama / Mistral / Qwen (dense, GQA), Mixtral and
Qwen-MoE (routed experts), DeepSeek-V2/V3 (MLA + shared and routed experts, first dense layers),
gpt-oss (alternating sliding-window layers, biases, sinks) and Llama 4 (nested text_config,
interleaved MoE, chunked local attention). A config of any other family (GPT-J, GPT-2, BERT, T5,
Mamba, ...) is refused by its name before a field is read. Layers that are the same are grouped,
so costs are computed once per kind of layer and multiplied by its count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chip2chat.errors import ConfigError
from chip2chat.userfiles import read_text


@dataclass(frozen=True)
class Attention:
    """One layer's attention. `kind` is 'gqa' (MHA/GQA/MQA) or 'mla' (DeepSeek latent attention)."""

    kind: str
    num_heads: int
    num_kv_heads: int
    head_dim: int  # q/k head dim (for MLA: nope + rope)
    v_head_dim: int
    window: int | None  # sliding-window / chunk length in tokens, None for full attention
    qkv_bias: bool = False
    qk_norm: bool = False
    # MLA only
    q_lora_rank: int | None = None
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0


@dataclass(frozen=True)
class Mlp:
    """One layer's MLP: dense (num_experts == 0) or mixture of experts."""

    intermediate: int  # dense intermediate size, or per routed expert
    num_experts: int = 0
    top_k: int = 0
    shared_intermediate: int = 0  # total intermediate size of always-on shared experts
    bias: bool = False
    router_bias: bool = False
    gated: bool = True  # SwiGLU: gate + up + down; otherwise up + down

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0


@dataclass(frozen=True)
class LayerKind:
    attention: Attention
    mlp: Mlp


@dataclass(frozen=True)
class ModelSpec:
    name: str
    hidden: int
    vocab: int
    tie_embeddings: bool
    max_context: int
    layers: tuple[tuple[int, LayerKind], ...]  # (count, kind), in first-appearance order
    source: str
    mtp_layers: int = 0  # multi-token-prediction modules (DeepSeek-V3 num_nextn_predict_layers): drafts for
    # speculative decoding (engine/speculative.py), not part of `layers`
    fp8_block_scaled: bool = False  # an FP8 checkpoint with a scale per weight block (quantization_config.
    # weight_block_size, DeepSeek-V3/R1's 128 x 128): its FP8 GEMMs and experts run block-scaled kernels

    @property
    def num_layers(self) -> int:
        return sum(count for count, _ in self.layers)


CONFIG_JSON = "a Hugging Face config.json"

FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "llama": ("Llama 2/3", ("LlamaForCausalLM",)),
    "llama4": ("Llama 4", ("Llama4ForConditionalGeneration", "Llama4ForCausalLM")),
    "llama4_text": ("Llama 4", ("Llama4ForCausalLM",)),
    "mistral": ("Mistral", ("MistralForCausalLM",)),
    "mixtral": ("Mixtral", ("MixtralForCausalLM",)),
    "qwen2": ("Qwen2", ("Qwen2ForCausalLM",)),
    "qwen2_moe": ("Qwen2-MoE", ("Qwen2MoeForCausalLM",)),
    "qwen3": ("Qwen3", ("Qwen3ForCausalLM",)),
    "qwen3_moe": ("Qwen3-MoE", ("Qwen3MoeForCausalLM",)),
    "deepseek_v2": ("DeepSeek-V2", ("DeepseekV2ForCausalLM",)),
    "deepseek_v3": ("DeepSeek-V3/R1", ("DeepseekV3ForCausalLM",)),
    "gpt_oss": ("gpt-oss", ("GptOssForCausalLM",)),
}
"""model_type -> (family, its `architectures` class names): the decoder-only transformers this
module reads field by field (attention kind, MoE layout, windows). A config that names another
model_type or architecture is refused; one that names neither is read as a plain decoder. Qwen2's
q/k/v biases are not in its config and are left out (under 0.1% of its parameters)."""
_ARCHITECTURES = {a for _, names in FAMILIES.values() for a in names}


def load_config_file(path: str | Path) -> ModelSpec:
    p = Path(path)
    text = read_text(p, CONFIG_JSON)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(str(p), f"line {exc.lineno}", f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ConfigError(str(p), "<file>", "not valid JSON: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(p), "<root>", f"expected a JSON object ({CONFIG_JSON})")
    return parse_config(raw, name=p.stem if p.name != "config.json" else p.parent.name, source=str(p))


def check_family(raw: dict[str, Any], source: str) -> None:
    """A one-line ConfigError when `raw` names a model_type or architecture outside FAMILIES. A
    multimodal wrapper passes when its text_config is of a supported family."""
    text = raw["text_config"] if isinstance(raw.get("text_config"), dict) else {}
    model_types = [t for t in (raw.get("model_type"), text.get("model_type")) if isinstance(t, str)]
    archs = [a for a in raw.get("architectures") or [] if isinstance(a, str)]
    if any(t in FAMILIES for t in model_types):
        return
    if not model_types and (not archs or any(a in _ARCHITECTURES for a in archs)):
        return
    named = f"{archs[0]!r} (model_type {model_types[0]})" if archs and model_types else repr((archs or model_types)[0])
    families = ", ".join(dict.fromkeys(family for family, _ in FAMILIES.values()))
    raise ConfigError(source, "architectures" if archs else "model_type",
                      f"unsupported architecture {named}: chip2chat models decoder-only transformers of these "
                      f"families: {families}")


class _Reader:
    """Field access that names the file and field on a missing or bad value."""

    def __init__(self, cfg: dict[str, Any], source: str, prefix: str = ""):
        self.cfg, self.source, self.prefix = cfg, source, prefix

    def has(self, key: str) -> bool:
        return self.cfg.get(key) is not None

    def int(self, key: str, default: int | None = None, minimum: int = 1) -> int:
        value = self.cfg.get(key, default)
        if value is None:
            raise ConfigError(self.source, self.prefix + key, "missing; a Hugging Face config.json must give it")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(self.source, self.prefix + key, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def opt_int(self, key: str, minimum: int = 1) -> int | None:
        return self.int(key, minimum=minimum) if self.has(key) else None

    def bool(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.source, self.prefix + key, f"expected true or false, got {value!r}")
        return value

    def list(self, key: str) -> list | None:
        value = self.cfg.get(key)
        if value is not None and not isinstance(value, list):
            raise ConfigError(self.source, self.prefix + key, f"expected a list, got {value!r}")
        return value


def parse_config(raw: dict[str, Any], name: str, source: str) -> ModelSpec:
    check_family(raw, source)
    cfg, prefix = raw, ""
    if isinstance(raw.get("text_config"), dict):  # Llama 4 and other multimodal wrappers
        cfg, prefix = raw["text_config"], "text_config."
    r = _Reader(cfg, source, prefix)
    hidden = r.int("hidden_size")
    num_layers = r.int("num_hidden_layers")
    vocab = r.int("vocab_size")
    tie = r.bool("tie_word_embeddings", bool(raw.get("tie_word_embeddings", False)))
    max_context = r.int("max_position_embeddings", default=131072)
    kinds = [_layer_kind(r, i, hidden) for i in range(num_layers)]
    groups: dict[LayerKind, int] = {}
    for kind in kinds:
        groups[kind] = groups.get(kind, 0) + 1
    return ModelSpec(
        name=name,
        hidden=hidden,
        vocab=vocab,
        tie_embeddings=tie,
        max_context=max_context,
        layers=tuple((count, kind) for kind, count in groups.items()),
        source=source,
        mtp_layers=r.int("num_nextn_predict_layers", default=0, minimum=0),
        fp8_block_scaled=isinstance(raw.get("quantization_config"), dict)
        and raw["quantization_config"].get("weight_block_size") is not None,
    )


def _layer_kind(r: _Reader, i: int, hidden: int) -> LayerKind:
    return LayerKind(attention=_attention(r, i, hidden), mlp=_mlp(r, i, hidden))


def _attention(r: _Reader, i: int, hidden: int) -> Attention:
    heads = r.int("num_attention_heads")
    window = _window(r, i)
    if r.has("kv_lora_rank"):  # DeepSeek MLA
        nope, rope = r.int("qk_nope_head_dim"), r.int("qk_rope_head_dim")
        return Attention(
            kind="mla",
            num_heads=heads,
            num_kv_heads=heads,
            head_dim=nope + rope,
            v_head_dim=r.int("v_head_dim"),
            window=window,
            q_lora_rank=r.opt_int("q_lora_rank"),
            kv_lora_rank=r.int("kv_lora_rank"),
            qk_rope_head_dim=rope,
        )
    kv_heads = r.int("num_key_value_heads", default=heads)
    if heads % kv_heads:
        raise ConfigError(r.source, r.prefix + "num_key_value_heads",
                          f"{kv_heads} does not divide num_attention_heads={heads}")
    head_dim = r.int("head_dim", default=hidden // heads)
    return Attention(
        kind="gqa",
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        v_head_dim=head_dim,
        window=window,
        qkv_bias=r.bool("attention_bias", False),
        qk_norm=r.cfg.get("model_type", "").startswith("qwen3"),
    )


def _window(r: _Reader, i: int) -> int | None:
    """Tokens a layer attends to, None when it sees the whole context."""
    layer_types = r.list("layer_types")
    if layer_types is not None:  # gpt-oss, recent transformers configs
        if i < len(layer_types) and layer_types[i] == "sliding_attention":
            return r.int("sliding_window")
        return None
    if r.has("attention_chunk_size"):  # Llama 4: chunked local attention on RoPE layers
        no_rope = r.list("no_rope_layers")
        if no_rope is not None and i < len(no_rope) and no_rope[i]:
            return r.int("attention_chunk_size")
        return None
    if r.has("sliding_window") and r.cfg.get("use_sliding_window", True):
        max_window_layers = r.cfg.get("max_window_layers")
        if max_window_layers is None or i >= max_window_layers:
            return r.int("sliding_window")
    return None


def _mlp(r: _Reader, i: int, hidden: int) -> Mlp:
    cfg = r.cfg
    num_experts = next((cfg[k] for k in ("n_routed_experts", "num_local_experts", "num_experts") if cfg.get(k)), 0)
    is_moe_layer = num_experts > 0
    if is_moe_layer and cfg.get("first_k_dense_replace") is not None:  # DeepSeek
        is_moe_layer = i >= cfg["first_k_dense_replace"] and i % cfg.get("moe_layer_freq", 1) == 0
    if is_moe_layer and cfg.get("mlp_only_layers"):  # Qwen MoE
        is_moe_layer = i not in cfg["mlp_only_layers"]
    if is_moe_layer and cfg.get("decoder_sparse_step", 1) > 1:
        is_moe_layer = (i + 1) % cfg["decoder_sparse_step"] == 0
    if is_moe_layer and cfg.get("interleave_moe_layer_step", 1) > 1:  # Llama 4 Maverick
        is_moe_layer = (i + 1) % cfg["interleave_moe_layer_step"] == 0
    if is_moe_layer and cfg.get("moe_layers") is not None:
        is_moe_layer = i in cfg["moe_layers"]
    bias = cfg.get("model_type") == "gpt_oss"
    if not is_moe_layer:
        key = "intermediate_size_mlp" if r.has("intermediate_size_mlp") else "intermediate_size"
        return Mlp(intermediate=r.int(key), bias=bias)
    top_k = r.int("num_experts_per_tok") if r.has("num_experts_per_tok") else r.int("experts_per_token")
    expert_size = r.int("moe_intermediate_size") if r.has("moe_intermediate_size") else r.int("intermediate_size")
    shared = 0
    if r.has("n_shared_experts"):
        shared = r.int("n_shared_experts", minimum=0) * expert_size
    elif r.has("shared_expert_intermediate_size"):
        shared = r.int("shared_expert_intermediate_size", minimum=0)
    elif cfg.get("model_type") == "llama4_text":
        shared = r.int("intermediate_size")  # one shared expert of the routed experts' size
    return Mlp(
        intermediate=expert_size,
        num_experts=int(num_experts),
        top_k=top_k,
        shared_intermediate=shared,
        bias=bias,
        router_bias=bias,
    )
