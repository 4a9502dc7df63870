"""Speculative decoding as a knob of the configuration search (issue 15: "speculative decoding where
the model has it"): none, the model's own MTP module where it has one (DeepSeek-V3/R1, k = 1 at its
published acceptance length 1.875), and whatever setup the user gives.
"""

import dataclasses

import pytest

from chip2chat.configure import SearchSpace, configure
from chip2chat.configure.capacity import meets
from chip2chat.configure.deploy import Setup, simulate_candidate
from chip2chat.configure.space import MTP, speculative_setups
from chip2chat.engine.speculative import Speculative
from chip2chat.errors import Chip2ChatError
from chip2chat.models.load import load_model

DEEPSEEK = SearchSpace(tp=(8,), pp=(1,), modes=("aggregated",), kv_dtypes=("fp8",), max_num_seqs=(64, 256),
                       max_num_batched_tokens=(8192,), chunked_prefill=(True,))
LIGHT = {"weight_dtype": "fp8", "rate_per_s": 1.5, "slo_ttft_ms": 1000, "slo_tpot_ms": 12, "finalists": 2}
"""DeepSeek-V3 FP8 on 8 H200s at 1.5 req/s, p99 TPOT 12 ms: a TP8 replica without speculation decodes a
token in ~8 ms at batch 1 (engine tables, commit c6bb922), so under a 12 ms p99 it carries < 1 req/s and
the rate needs two copies; MTP emits 1.875 tokens per verify step of about the same cost, so one copy
carries the rate within the SLO."""
LLAMA = SearchSpace(tp=(1,), pp=(1,), modes=("aggregated",), kv_dtypes=("bf16",), max_num_seqs=(64, 256),
                    max_num_batched_tokens=(8192,), chunked_prefill=(True,))


@pytest.fixture(scope="module")
def deepseek():
    return configure("deepseek-v3", "h200", space=DEEPSEEK, **LIGHT)


@pytest.fixture(scope="module")
def deepseek_without():
    return configure("deepseek-v3", "h200", space=dataclasses.replace(DEEPSEEK, speculative=(None,)),
                     **LIGHT)


def test_deepseek_gets_mtp_and_picks_it_at_a_light_load_with_fewer_gpus(deepseek, deepseek_without):
    # reason: MTP emits 1.875 tokens per step for about one step's cost, so under a tight TPOT one
    # copy carries what needs two without it (LIGHT); the search must find that itself
    assert set(deepseek.screened["speculative"]) == {"none", MTP.label}
    assert deepseek.best.candidate.speculative == MTP
    assert deepseek.total_gpus == 8
    assert deepseek_without.best is None or deepseek_without.total_gpus > deepseek.total_gpus
    assert set(deepseek_without.screened["speculative"]) == {"none"}


def test_the_answer_meets_the_slo_in_its_own_simulation_with_its_speculation(deepseek):
    # reason: the answer is a simulated one; the simulation priced the same speculative setup
    best = deepseek.best
    assert best.capacity.summary["speculative"] == MTP.label
    setup = Setup("deepseek-v3", "vllm", "fp8", deepseek.slo)
    again = simulate_candidate(setup, best.candidate, best.rate_per_s)
    assert again == best.capacity.summary and meets(again, deepseek.slo)
    assert meets(deepseek.check, deepseek.slo)
    for f in deepseek.finalists:
        assert not f.meets_slo or meets(f.capacity.summary, deepseek.slo)


def test_a_model_without_mtp_never_gets_mtp():
    # reason: mtp drafts with the model's own MTP layers; Llama has none (no num_nextn_predict_layers)
    llama = load_model("llama-3.1-8b")
    assert speculative_setups(llama, SearchSpace()) == [None]
    assert speculative_setups(load_model("deepseek-r1"), SearchSpace()) == [None, MTP]
    result = configure("llama-3.1-8b", "h100", space=LLAMA, gpus=1, slo_ttft_ms=300, slo_tpot_ms=30, finalists=1)
    assert set(result.screened["speculative"]) == {"none"} and result.best.candidate.speculative is None
    with pytest.raises(Chip2ChatError, match="mtp needs a model with multi-token-prediction layers"):
        configure("llama-3.1-8b", "h100", space=LLAMA, gpus=1, slo_tpot_ms=30, speculative_method="mtp")


def test_a_user_given_eagle3_setup_is_screened_and_priced():
    # reason: eagle3's acceptance depends on the draft and the traffic, so it is the user's to give; a
    # given setup is screened beside no speculation, and at a TPOT only it can meet, it is the answer
    eagle = Speculative(method="eagle3", num_speculative_tokens=3, acceptance_length=2.5)
    loose = configure("llama-3.1-8b", "h100", space=LLAMA, gpus=1, slo_ttft_ms=300, slo_tpot_ms=30, finalists=1,
                      speculative_method="eagle3", acceptance_length=2.5)
    assert set(loose.screened["speculative"]) == {"none", eagle.label}
    plain = loose.screened[loose.screened["speculative"] == "none"]
    fastest = 1e3 / plain["tokens_per_s_per_user"].max()  # the screen's best mean TPOT without speculation, ms
    tight = configure("llama-3.1-8b", "h100", space=LLAMA, gpus=1, slo_ttft_ms=300, slo_tpot_ms=fastest * 0.9,
                      finalists=1, speculative_method="eagle3", acceptance_length=2.5)
    assert tight.best is not None and tight.best.candidate.speculative == eagle
    assert meets(tight.best.capacity.summary, tight.slo)
    with pytest.raises(Chip2ChatError, match="acceptance_length: needed for eagle3"):
        configure("llama-3.1-8b", "h100", space=LLAMA, gpus=1, slo_tpot_ms=30, speculative_method="eagle3")
