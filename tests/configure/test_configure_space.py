"""The search space (configure/space.py): only plans the model allows and the engine can launch."""

import pytest

from chip2chat.configure.space import ENGINES, SearchSpace, knob_sets, replica_plans
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware import kernels
from chip2chat.models.load import load_model

DENSE, MOE = load_model("llama-3.1-70b"), load_model("qwen3-30b-a3b")


@pytest.mark.parametrize("model", [DENSE, MOE], ids=["dense", "moe"])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_plan_is_valid_and_within_the_gpu_limit(model, engine):
    # reason: ParallelPlan.validate is the one statement of what is valid; the search must not add others
    plans = replica_plans(model, engine, SearchSpace(), max_devices=8)
    assert plans and len(set(plans)) == len(plans)
    for plan in plans:
        plan.validate(model)
        assert plan.num_devices <= 8


def test_a_dense_model_gets_neither_expert_parallel_nor_attention_dp():
    # reason: EP and attention DP need routed experts
    assert all(p.ep == 1 and not p.attention_dp for p in replica_plans(DENSE, "trtllm", SearchSpace(), 8))


def test_moe_gets_ep_and_attention_dp_as_each_engine_launches_them():
    # reason: vLLM and SGLang split experts over the whole TP group or not at all; TensorRT-LLM over any divisor
    for engine in ENGINES:
        plans = replica_plans(MOE, engine, SearchSpace(pp=(1,)), 8)
        assert any(p.attention_dp for p in plans) and any(p.ep > 1 and not p.attention_dp for p in plans)
        assert all(p.ep == p.tp for p in plans if p.attention_dp)
        partial = [p for p in plans if 1 < p.ep < p.tp]
        assert bool(partial) == ENGINES[engine].partial_ep, engine


def test_no_expert_parallel_when_the_space_says_so():
    # reason: the space is data: leaving EP out must leave it out
    assert all(p.ep == 1 for p in replica_plans(MOE, "trtllm", SearchSpace(expert_parallel=False), 8))


def test_each_engine_the_kernel_tables_know_has_its_rules():
    # reason: one list of engine names (hardware/kernels.ENGINES)
    assert set(ENGINES) == set(kernels.ENGINES)


@pytest.mark.parametrize("role", ["aggregated", "prefill", "decode"])
def test_knob_sets_hold_every_decode_in_the_token_budget(role):
    # reason: SchedulerConfig refuses max_num_batched_tokens < max_num_seqs
    for seqs, tokens, _ in knob_sets(SearchSpace(), role):
        assert tokens >= seqs


@pytest.mark.parametrize("fields, message", [
    ({"tp": ()}, "tp"), ({"pp": (0,)}, "pp"), ({"modes": ("both",)}, "modes"), ({"unit_gpus": 0}, "unit_gpus"),
    ({"speculative": ("eagle",)}, "speculative must list None and/or chip2chat Speculative"),
    ({"speculative": ()}, "speculative must list"),
])
def test_a_wrong_space_is_one_line_naming_the_field(fields, message):
    # reason: house rule: a wrong setting is one line naming the field
    with pytest.raises(Chip2ChatError, match=message):
        SearchSpace(**fields)
