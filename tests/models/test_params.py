"""Parameter counts and KV sizes derived from the shipped config.json files, checked by hand."""

import pytest

from chip2chat.models.load import load_model
from chip2chat.models.transformer import attention_pairs

# Published totals (vendor model cards / papers). Within 1%.
TOTALS = {
    "llama-3.1-8b": 8.0e9,       # Meta model card: 8B (8.03B on the HF page)
    "llama-3.1-70b": 70.6e9,
    "llama-3.1-405b": 405.9e9,
    "mixtral-8x7b": 46.7e9,      # Mistral: 46.7B total
    "deepseek-v3": 671e9,        # DeepSeek-V3 report, MTP module excluded
    "gpt-oss-120b": 116.83e9,    # OpenAI gpt-oss model card table: 116.83B
    "qwen3-235b-a22b": 235e9,
    "qwen3-30b-a3b": 30.5e9,
}


@pytest.mark.parametrize("name, published", TOTALS.items())
def test_total_params_match_published(name, published):
    assert load_model(name).total_params == pytest.approx(published, rel=0.01)


def test_mixtral_active_counts_embedding_like_mistral():
    # Mistral's 12.9B active includes the embedding table: 2 of 8 experts x 32 layers + attention
    # + embedding + lm_head = 12.88B. Without the table it would be 12.75B.
    m = load_model("mixtral-8x7b")
    assert m.active_params_with_embedding == pytest.approx(12.9e9, rel=0.01)
    assert m.active_params == pytest.approx(m.active_params_with_embedding - 32000 * 4096)


def test_gpt_oss_active_excludes_embedding_like_openai():
    # OpenAI's table: 5.13B active = attention 0.96B + 4 of 128 experts + unembedding 0.58B.
    assert load_model("gpt-oss-120b").active_params == pytest.approx(5.13e9, rel=0.01)


def test_deepseek_v3_active_rounds_to_the_published_37b():
    # DeepSeek publishes "37B activated" (two significant digits). Our count without the
    # embedding table is 36.6B: 58 MoE layers x 9 experts x 44.04M + 3 dense MLPs x 396M
    # + 61 x 187.1M MLA projections + lm_head 0.93B + routers/norms.
    active = load_model("deepseek-v3").active_params
    assert round(active / 1e9) == 37
    assert active == pytest.approx(36.63e9, rel=0.002)


def test_qwen3_moe_active_params():
    assert load_model("qwen3-235b-a22b").active_params_with_embedding == pytest.approx(22e9, rel=0.01)
    assert load_model("qwen3-30b-a3b").active_params_with_embedding == pytest.approx(3.3e9, rel=0.02)


def test_kv_bytes_per_token_llama_70b_bf16_exact():
    # 80 layers x 8 KV heads x 128 dims x (K + V) x 2 bytes
    assert load_model("llama-3.1-70b").kv_bytes_per_token("bf16") == 80 * 8 * 128 * 2 * 2 == 327_680


def test_kv_bytes_per_token_deepseek_mla_exact():
    # MLA caches the 512-dim latent plus the 64-dim rope key, 61 layers, 2 bytes
    assert load_model("deepseek-v3").kv_bytes_per_token("bf16") == (512 + 64) * 61 * 2 == 70_272


def test_fp8_kv_halves_the_cache():
    m = load_model("llama-3.1-8b")
    assert m.kv_bytes_per_token("fp8") * 2 == m.kv_bytes_per_token("bf16")


def test_sliding_window_layers_stop_growing_at_the_window():
    # gpt-oss-120b: 18 layers with a 128-token window, 18 full layers, 8 KV heads x 64 x (K+V)
    m = load_model("gpt-oss-120b")
    per_layer = 8 * 64 * 2 * 2
    assert m.kv_bytes_for_context(100) == 36 * per_layer * 100
    assert m.kv_bytes_for_context(10_000) == 18 * per_layer * 10_000 + 18 * per_layer * 128


def test_weight_bytes_fp8_about_half_of_bf16():
    m = load_model("llama-3.1-70b")
    # linear layers halve; embeddings + lm_head (2 x 1.05B params) stay bf16
    assert m.weight_bytes("fp8") == pytest.approx(m.weight_bytes("bf16") / 2 + 2 * 128256 * 8192, rel=1e-3)


def test_attention_pairs_causal_and_windowed_by_hand():
    assert attention_pairs(0, 4, None) == 1 + 2 + 3 + 4
    assert attention_pairs(3, 2, None) == 4 + 5
    assert attention_pairs(0, 6, 4) == 1 + 2 + 3 + 4 + 4 + 4
    assert attention_pairs(5, 2, 4) == 4 + 4
    assert attention_pairs(2, 4, 4) == 3 + 4 + 4 + 4


def test_decode_flops_per_token_is_twice_active_params_plus_attention():
    m = load_model("llama-3.1-8b")
    # attention: 32 layers x 2 x 32 heads x (128 + 128) per key
    assert m.flops_per_token(1000) == pytest.approx(2 * (m.active_params - 32 * 2 * 4096 - 4096)
                                                    + 1000 * 32 * 2 * 32 * 256, rel=1e-3)


def test_prefill_attention_is_quadratic_by_hand():
    # prefill(n) = 2 x used weights x n + 2 x lm_head (last token's logits) + c x n(n+1)/2,
    # c = 32 layers x 2 x 32 heads x (128 + 128). Hence prefill(2n) - 2 prefill(n) = c n^2 - 2 lm_head.
    m = load_model("llama-3.1-8b")
    c, n, lm_head = 32 * 2 * 32 * 256, 1024, 128256 * 4096
    assert m.prefill_flops(2 * n) - 2 * m.prefill_flops(n) == pytest.approx(c * n * n - 2 * lm_head)


def test_deepseek_r1_is_deepseek_v3s_architecture():
    # DeepSeek-R1 (and R1-0528) ship the V3 architecture field for field (catalog/models/index.yaml)
    r1, v3 = load_model("deepseek-r1"), load_model("deepseek-v3")
    assert r1.name == "deepseek-r1"
    assert r1.total_params == v3.total_params == pytest.approx(671e9, rel=0.01)
    assert r1.active_params == v3.active_params
    assert r1.kv_bytes_per_token("bf16") == v3.kv_bytes_per_token("bf16") == (512 + 64) * 61 * 2
