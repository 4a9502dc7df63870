"""`configure` end to end (configure/search.py) on a small case: Llama-3.1-8B on H100s.

The acceptance of issue 15: the search never returns a configuration that fails the SLO in its own
simulation; a looser SLO never needs more GPUs; same arguments and seed, same answer.
"""

import dataclasses

import pytest

import chip2chat as c2c
from chip2chat.catalog import CATALOG_DIR
from chip2chat.configure import SearchSpace, configure
from chip2chat.configure.capacity import meets
from chip2chat.configure.deploy import Setup, engine_keywords, simulate_candidate
from chip2chat.errors import Chip2ChatError
from chip2chat.serving.config import Slo

SPACE = SearchSpace(tp=(1, 2), pp=(1,), max_num_seqs=(64, 256), max_num_batched_tokens=(2048, 8192),
                    chunked_prefill=(True,))
SMALL = {"space": SPACE, "finalists": 2}


def run(**kw):
    options = {"slo_ttft_ms": 200, "slo_tpot_ms": 20, **SMALL, **kw}
    return configure("llama-3.1-8b", kw.pop("chips", "h100"), **{k: v for k, v in options.items() if k != "chips"})


@pytest.fixture(scope="module")
def budget():
    return run(gpus=4)


@pytest.fixture(scope="module")
def rate():
    return run(rate_per_s=30.0)


def test_the_answer_meets_the_slo_in_its_own_simulation(budget, rate):
    # reason: the answer a user gets is a simulated one that met the SLO, never the screen's guess
    for result in (budget, rate):
        assert result.best is not None
        for f in result.finalists:
            if f.meets_slo:
                assert meets(f.capacity.summary, result.slo)
        setup = Setup("llama-3.1-8b", "vllm", "bf16", result.slo)
        again = simulate_candidate(setup, result.best.candidate, result.best.rate_per_s)
        assert again == result.best.capacity.summary and meets(again, result.slo)
    assert meets(rate.check, rate.slo) and rate.units * rate.best.rate_per_s >= 30.0 - 1e-9
    assert rate.total_gpus == rate.units * rate.best.candidate.gpus


def test_the_budget_is_respected_and_the_best_carries_the_most(budget):
    # reason: with a GPU budget the choice is the finalist that serves the largest rate within it
    assert all(f.candidate.gpus <= 4 for f in budget.finalists)
    assert budget.best.rate_per_s == max(f.rate_per_s for f in budget.finalists)
    modes = {f.candidate.mode for f in budget.finalists}
    assert modes == {"aggregated", "disaggregated"}
    assert budget.best_of("aggregated") is not None and budget.best_of("disaggregated") is not None


def test_a_looser_slo_never_needs_more_gpus():
    # reason: acceptance of issue 15; tighter first, each SLO looser than the one before on both terms
    ladder = [(120, 14), (200, 20), (300, 30), (600, 60)]
    gpus = [run(rate_per_s=30.0, slo_ttft_ms=t, slo_tpot_ms=p).total_gpus for t, p in ladder]
    needed = [g if g is not None else float("inf") for g in gpus]
    assert needed == sorted(needed, reverse=True), gpus
    assert needed[-1] < float("inf")


def test_same_arguments_same_answer_in_one_process_or_two(budget):
    # reason: deterministic for a seed, whatever runs the finalists' simulations
    again = run(gpus=4, workers=2)
    assert again.front.equals(budget.front)
    assert again.best.candidate == budget.best.candidate


def test_the_screen_covers_the_space_and_only_a_few_are_simulated():
    # reason: every value of every knob is screened; a handful of deployments is simulated
    space = SearchSpace()
    result = configure("llama-3.1-8b", "h100", slo_ttft_ms=200, slo_tpot_ms=20, gpus=8, finalists=1)
    screened = result.screened
    aggregated = screened[screened["mode"] == "aggregated"]
    assert set(aggregated["tp"]) == {1, 2, 4, 8} and set(aggregated["pp"]) == {1, 2, 4}
    assert set(aggregated["max_num_seqs"]) == set(space.max_num_seqs)
    assert set(aggregated["max_num_batched_tokens"]) == set(space.max_num_batched_tokens)
    assert set(aggregated["chunked_prefill"]) == {True, False} and set(screened["kv_dtype"]) == {"bf16", "fp8"}
    ratios = set(screened.loc[screened["mode"] == "disaggregated", "replicas"])
    assert len(ratios) > 5  # P:D replica counts
    assert len(screened) > 900
    assert len(result.finalists) == 2 and sum(len(f.capacity.probes) + 1 for f in result.finalists) <= 20


def test_heterogeneous_prefill_and_decode_chips_are_searched():
    # reason: prefill on one chip, decode on another, with the KV over the link between them
    result = run(chips=["h100", "b200"], gpus=4, finalists=1)
    screened = result.screened
    assert screened["configuration"].str.contains("H100.*prefill.*B200.*decode").any()
    assert screened["configuration"].str.contains("B200.*prefill.*H100.*decode").any()


def test_a_custom_chip_design_is_a_chip():
    # reason: the search must answer for a chip that does not exist (catalog/designs/hbm4-custom.yaml)
    by_name = run(chips="hbm4-custom", gpus=2, finalists=1)
    by_file = run(chips=str(CATALOG_DIR / "designs" / "hbm4-custom.yaml"), gpus=2, finalists=1)
    assert by_name.best is not None and by_name.best.candidate.workers[0].chip == "custom-hbm4"
    assert by_file.best.candidate == by_name.best.candidate


def test_a_trace_is_replayed_at_each_rate():
    # reason: a trace's lengths and burstiness, rescaled to each probed rate, are a workload too
    result = run(trace=str(CATALOG_DIR / "traces" / "azure_sample.csv"), trace_format="azure", gpus=2, finalists=1,
                 slo_ttft_ms=1000, slo_tpot_ms=50)
    assert result.best is not None and "azure" in result.workload


def test_tokens_per_s_per_user_is_a_p99_tpot():
    # reason: a speed per user is an SLO on the time per output token
    result = run(gpus=2, finalists=1, slo_ttft_ms=None, slo_tpot_ms=None, tokens_per_s_per_user=50)
    assert result.slo == Slo(ttft_ms=None, tpot_ms=20.0)


def test_the_engine_reaches_the_cost_model_only_where_it_is_taken():
    # reason: the engine dimension is being added to the cost model; until then it must not break calls
    def old(model, hardware, plan=None): ...
    def new(model, hardware, plan=None, engine="vllm"): ...
    assert engine_keywords(old, "sglang") == {} and engine_keywords(new, "sglang") == {"engine": "sglang"}


def test_the_package_is_the_function_and_the_top_level_call_answers():
    # reason: c2c.configure(...) is the documented API; chip2chat.configure is also the subpackage
    assert callable(c2c.configure) and c2c.configure.configure is configure
    result = c2c.configure("llama-3.1-8b", "h100", slo_ttft_ms=200, slo_tpot_ms=20, gpus=1, **SMALL)
    assert result.best is not None and result.best.candidate.gpus == 1


@pytest.mark.parametrize("kw, message", [
    ({"gpus": 4, "rate_per_s": 3.0}, "either gpus"),
    ({}, "either gpus"),
    ({"gpus": 4, "slo_ttft_ms": None, "slo_tpot_ms": None}, "give an SLO"),
    ({"gpus": 4, "engine": "tgi"}, "engine must be one of"),
    ({"gpus": 0}, "gpus must be a positive integer"),
    ({"gpus": 4, "chips": "h100x"}, "h100x"),
    ({"gpus": 4, "trace": "x.csv"}, "trace needs its format"),
])
def test_a_wrong_argument_is_one_line_naming_it(kw, message):
    # reason: house rule: a wrong argument is one Chip2ChatError naming it
    with pytest.raises(Chip2ChatError, match=message):
        run(**kw)


def test_a_model_that_fits_no_plan_says_so():
    # reason: an empty search must say why, not return nothing
    with pytest.raises(Chip2ChatError, match="does not fit"):
        configure("llama-3.1-405b", "h100", gpus=2, slo_tpot_ms=50, space=dataclasses.replace(SPACE, kv_dtypes=("bf16",)))


def test_an_included_deployment_is_simulated_and_never_beaten_by_the_answer():
    # reason: the fleet plan passes the deployment its scenario fixes; the answer must be at least as good
    from chip2chat.configure import Candidate, Workers
    from chip2chat.engine.plan import ParallelPlan

    fixed = Candidate("aggregated", (Workers("NVIDIA H100 SXM", ParallelPlan(2), 1, hardware="h100"),), "bf16")
    for kw in ({"gpus": 2}, {"rate_per_s": 30.0}):
        result = run(include=[fixed], finalists=1, **kw)
        simulated = next(f for f in result.finalists if f.candidate == fixed)
        if kw.get("gpus"):
            assert result.best.rate_per_s >= simulated.rate_per_s
        else:
            fixed_gpus = -(-30.0 // simulated.rate_per_s) * fixed.gpus
            assert result.total_gpus <= fixed_gpus
    with pytest.raises(Chip2ChatError, match="more than the budget"):
        run(include=[fixed.with_counts(2)], gpus=2)
