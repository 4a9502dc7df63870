"""Closed-loop load (at most C requests in flight, as benchmark clients send them) and the steady-state rule."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from chip2chat.engine.estimate import estimate
from chip2chat.engine.speculative import Speculative
from chip2chat.errors import Chip2ChatError
from chip2chat.serving.simulate import simulate
from chip2chat.serving.steady import (
    FIRST_REQUESTS,
    MAX_REQUESTS,
    converged,
    until_steady,
)
from chip2chat.workload import Workload, synthetic

SMALL = dict(model="llama-3.1-8b", hardware="h100", input_len=512, output_len=128)


def _max_in_flight(requests) -> int:
    """Most requests between their send (arrival_s) and their last token at any moment (sweep line)."""
    done = requests[requests["status"] == "finished"]
    times = np.concatenate([done["arrival_s"].to_numpy(), done["finish_s"].to_numpy()])
    steps = np.concatenate([np.ones(len(done)), -np.ones(len(done))])
    order = np.lexsort((steps, times))  # a finish at t frees its slot before a send at t
    return int(np.cumsum(steps[order]).max())


def test_concurrency_one_gives_the_single_request_latency_of_estimate():
    # one request at a time: each meets an idle replica, so TTFT is estimate's batch-1 prefill and
    # TPOT its batch-1 decode (estimate at the mean context, the simulation token by token)
    e = estimate(**SMALL)
    s = simulate(**SMALL, arrival="all_at_once", concurrency=1, num_requests=10).summary
    assert s["mean_ttft_ms"] == pytest.approx(e.ttft_s * 1e3, rel=1e-9)
    assert s["mean_tpot_ms"] == pytest.approx(e.tpot_s * 1e3, rel=1e-3)
    assert s["mean_e2el_ms"] == pytest.approx(e.e2e_s * 1e3, rel=1e-3)
    # back to back: the run lasts ten single-request latencies
    assert s["duration_s"] == pytest.approx(10 * s["mean_e2el_ms"] / 1e3, rel=1e-9)


@pytest.mark.parametrize("concurrency", [1, 3, 16])
def test_never_more_than_the_concurrency_in_flight_and_always_that_many_while_requests_remain(concurrency):
    sim = simulate(**{**SMALL, "output_len": ("uniform", 20, 200)}, arrival="all_at_once", concurrency=concurrency,
                   num_requests=60)
    assert _max_in_flight(sim.requests) == concurrency
    # a closed loop with no think time sends the next request when one finishes: every send after
    # the first C is some request's finish time
    sends = np.sort(sim.requests["arrival_s"].to_numpy())[concurrency:]
    finishes = set(sim.requests["finish_s"].round(12))
    assert all(round(t, 12) in finishes for t in sends)


@pytest.mark.parametrize("step_by_step", [False, True])
def test_a_request_sent_on_a_completion_waits_for_the_step_the_engine_has_begun(step_by_step):
    # concurrency 3: requests 0 and 1 finish together while 2 still decodes; 3 and 4 are sent at
    # that moment, but the engine has already launched 2's next decode step (it does not wait for
    # the client's round trip), so both join the step after: they wait exactly one batch-1 decode
    # step, estimate's batch-1 TPOT at that context (2's 5th token of 50)
    w = Workload(arrival_s=[0.0] * 5, input_len=[512] * 5, output_len=[5, 5, 50, 5, 5], concurrency=3)
    r = simulate(SMALL["model"], SMALL["hardware"], workload=w, step_by_step=step_by_step).requests.set_index("id")
    done = r.loc[0, "finish_s"]
    assert r.loc[1, "finish_s"] == done and r.loc[2, "finish_s"] > done
    assert list(r.loc[[3, 4], "arrival_s"]) == [done, done]  # sent at the completion: TTFT counts from there
    one_step = estimate(SMALL["model"], SMALL["hardware"], input_len=512 + 5, output_len=1 + 1).tpot_s
    assert list(r.loc[[3, 4], "scheduled_s"] - done) == pytest.approx([one_step] * 2, rel=1e-3)


def test_async_output_processing_delivers_a_steps_tokens_as_the_next_step_ends():
    # vLLM V0's async output processing: one request alone, its first token (out of the prefill
    # step) reaches the client as the next step (a batch-1 decode) ends, its last token at once
    # (no step follows); so TTFT gains one batch-1 decode step (estimate) and E2E nothing
    one = dict(SMALL, output_len=10, arrival="all_at_once", num_requests=1)
    off, on = (simulate(**one, async_output_proc=a).requests.iloc[0] for a in (False, True))
    one_step = estimate(SMALL["model"], SMALL["hardware"], input_len=512 + 1, output_len=2).tpot_s
    assert on["first_token_s"] - off["first_token_s"] == pytest.approx(one_step, rel=1e-3)
    assert on["finish_s"] == off["finish_s"]


EAGLE3 = Speculative(method="eagle3", num_speculative_tokens=3, acceptance_length=2.5)  # accepting 2.5 tokens a step


@pytest.mark.parametrize("setup, why", [(dict(pp=2), "pipeline parallelism"),
                                        (dict(speculative=EAGLE3), "speculative decoding"),
                                        (dict(disaggregate=(1, 1)), "a disaggregated cluster")])
def test_async_output_processing_is_refused_where_vllm_turns_it_off(setup, why):
    with pytest.raises(Chip2ChatError, match=f"async_output_proc .* does not run with {why}"):
        simulate(**dict(SMALL, num_requests=4, rate_per_s=1.0), async_output_proc=True, **setup)


@pytest.mark.parametrize("step_by_step", [False, True])
def test_with_async_output_a_closed_loop_sends_when_the_completion_is_delivered(step_by_step):
    # as the test above: 0 and 1 finish while 2 decodes; their completions reach the client one
    # step (2's batch-1 decode) later, and 3 and 4, sent then, wait one more such step to join
    w = Workload(arrival_s=[0.0] * 5, input_len=[512] * 5, output_len=[5, 5, 50, 5, 5], concurrency=3)
    r = simulate(SMALL["model"], SMALL["hardware"], workload=w, step_by_step=step_by_step,
                 async_output_proc=True).requests.set_index("id")
    sync = simulate(SMALL["model"], SMALL["hardware"], workload=w).requests.set_index("id")
    one_step = estimate(SMALL["model"], SMALL["hardware"], input_len=512 + 5, output_len=2).tpot_s
    assert r.loc[0, "finish_s"] - sync.loc[0, "finish_s"] == pytest.approx(one_step, rel=1e-3)
    assert list(r.loc[[3, 4], "arrival_s"]) == [r.loc[0, "finish_s"]] * 2
    assert list(r.loc[[3, 4], "scheduled_s"] - r.loc[0, "finish_s"]) == pytest.approx([one_step] * 2, rel=1e-3)


def test_with_a_rate_a_request_is_sent_at_its_arrival_or_later():
    w = synthetic(200, 50.0, input_len=512, output_len=128, seed=3)
    sim = simulate(**SMALL, rate_per_s=50.0, num_requests=200, seed=3, concurrency=4)
    sent = sim.requests.sort_values("id")["arrival_s"].to_numpy()
    assert np.all(sent >= w.arrival_s - 1e-12) and np.any(sent > w.arrival_s + 1e-6)
    assert _max_in_flight(sim.requests) <= 4


def test_a_closed_loop_over_several_replicas_is_refused_in_one_line():
    with pytest.raises(Chip2ChatError, match="closed loop .*one replica"):
        simulate(**SMALL, arrival="all_at_once", concurrency=4, num_requests=10, num_replicas=2)
    with pytest.raises(Chip2ChatError, match="concurrency must be an integer >= 1"):
        synthetic(10, 1.0, concurrency=0)


def _fake(values: dict[int, float], overload_from: int | None = None):
    """A run whose throughput for n requests is values[n] (TTFT and TPOT constant)."""
    calls = []

    def run(n):
        calls.append(n)
        return SimpleNamespace(summary={"output_throughput": values[n], "mean_ttft_ms": 10.0, "mean_tpot_ms": 5.0,
                                        "overload": "yes" if overload_from and n >= overload_from else ""})
    return run, calls


def test_steady_state_doubles_until_two_runs_agree_within_two_percent():
    n = [FIRST_REQUESTS * 2 ** i for i in range(7)]
    run, calls = _fake({n[0]: 80.0, n[1]: 90.0, n[2]: 95.0, n[3]: 96.0, n[4]: 96.5, n[5]: 1, n[6]: 1})
    result = until_steady(run)
    # 95 -> 96 is the first change under 2% (1.04%); 90 -> 95 was 5.3%
    assert calls == n[:4] and result.summary["num_requests"] == n[3] and result.summary["steady_state"]


def test_steady_state_stops_at_an_overload_and_at_the_cap():
    run, calls = _fake({FIRST_REQUESTS: 50.0, 2 * FIRST_REQUESTS: 60.0, 4 * FIRST_REQUESTS: 70.0},
                       overload_from=2 * FIRST_REQUESTS)
    result = until_steady(run)
    assert calls == [FIRST_REQUESTS, 2 * FIRST_REQUESTS] and result.summary["steady_state"] is False
    growing = {FIRST_REQUESTS * 2 ** i: 1.1 ** i for i in range(10)}
    run, calls = _fake(growing)
    assert until_steady(run).summary["num_requests"] == MAX_REQUESTS and calls[-1] == MAX_REQUESTS
    # NaN in both runs (a one-token output has no TPOT) does not block convergence
    assert converged({"output_throughput": 1.0, "mean_tpot_ms": float("nan")},
                     {"output_throughput": 1.0, "mean_tpot_ms": float("nan")}, ("output_throughput", "mean_tpot_ms"))


def test_simulate_without_a_request_count_runs_until_steady():
    s = simulate(**SMALL, arrival="all_at_once", concurrency=8).summary
    assert s["steady_state"] and s["num_requests"] in (2000, 4000)
    fixed = simulate(**SMALL, arrival="all_at_once", concurrency=8, num_requests=s["num_requests"] // 2).summary
    assert fixed["steady_state"] is None and fixed["num_requests"] == s["num_requests"] // 2
    assert abs(fixed["output_throughput"] / s["output_throughput"] - 1) < 0.02


def test_a_decode_step_padded_to_a_cuda_graph_size_costs_that_many_sequences_outside_attention():
    # one request at a time under graphs of 64 sequences (TensorRT-LLM's enable_padding): every
    # decode step runs 64 sequences' GEMMs, norms and sampling but one sequence's attention (the
    # padding reads no KV cache), so TPOT grows by the ratio of those steps (at the mean context,
    # as estimate takes it); the prefill step runs no graph: TTFT does not move
    from chip2chat.engine.factory import get_replica

    padded = simulate(**SMALL, arrival="all_at_once", concurrency=1, num_requests=4,
                      cuda_graph_batch_sizes=(64, 128)).summary
    plain = simulate(**SMALL, arrival="all_at_once", concurrency=1, num_requests=4).summary
    rep = get_replica("llama-3.1-8b", "h100", 1, 1, 1, "bf16", "bf16")
    context = (512 + 512 + 128) / 2
    ratio = rep.fast_cost((), 64, (context,))[0] / rep.fast_cost((), 1, (context,))[0]
    assert ratio > 1.05
    assert padded["mean_tpot_ms"] / plain["mean_tpot_ms"] == pytest.approx(ratio, rel=2e-3)
    assert padded["mean_ttft_ms"] == plain["mean_ttft_ms"]
    # sizes above the batch limit are not captured: with max_num_seqs 32 neither graph exists
    capped = simulate(**SMALL, arrival="all_at_once", concurrency=1, num_requests=4, max_num_seqs=32,
                      max_num_batched_tokens=8192, cuda_graph_batch_sizes=(64, 128)).summary
    assert capped["mean_tpot_ms"] == plain["mean_tpot_ms"]


def test_padding_counts_per_rank_and_leaves_larger_and_prompt_steps_alone():
    from chip2chat.serving.replica_sim import _padded_decodes

    calls = []

    def cost(prefill, n, keys):
        calls.append((prefill, n))
        return float(n), 0.0

    pad = _padded_decodes(cost, (8, 16, 64), ranks=4, max_num_seqs=4 * 64)
    assert pad((), 40, (1.0,))[0] == 4 * 16  # ceil(40 / 4) = 10 a rank -> graph 16, four ranks
    assert pad((), 4 * 64 + 1, (1.0,))[0] == 4 * 64 + 1  # above the largest graph: unpadded
    assert pad(((0, 100),), 3, (1.0,))[0] == 3  # a step with a prompt chunk runs no graph
    assert _padded_decodes(cost, (8, 16, 64), ranks=4, max_num_seqs=40)((), 9, ())[0] == 4 * 8  # 16 x 4 > 40
    assert _padded_decodes(cost, (64,), ranks=1, max_num_seqs=32) is cost  # nothing captured


def test_cuda_graph_sizes_must_be_batch_sizes():
    with pytest.raises(Chip2ChatError, match=r"cuda_graph_batch_sizes: .*whole numbers >= 1.*got \(0, 8\)"):
        simulate(**SMALL, cuda_graph_batch_sizes=(0, 8), num_requests=4)
