"""The serving simulator against hand results, invariants and the issue's acceptance points."""

import json

import numpy as np
import pytest

from chip2chat import estimate
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError
from chip2chat.serving.config import ClusterConfig, SchedulerConfig, Slo
from chip2chat.serving.simulate import simulate
from chip2chat.workload import Workload, synthetic

BASE = dict(model="llama-3.1-8b", hardware="h100")


def _replicas_of_the_next_run(monkeypatch) -> list:
    """The ReplicaSims of the next `simulate` call, to look at what they recorded."""
    from chip2chat.serving import simulate as simmod

    sims = []
    real = simmod.run_cluster
    monkeypatch.setattr(simmod, "run_cluster", lambda *a, **kw: sims.extend(real(*a, **kw)) or sims)
    return sims


def test_low_load_ttft_equals_single_request_prefill_from_estimate():
    # requests 1000 s apart never overlap: each one is prefilled alone, exactly as `estimate` does it
    sim = simulate(**BASE, rate_per_s=0.001, num_requests=20, input_len=1024, output_len=64, seed=3)
    single = estimate(**BASE, batch=1, input_len=1024, output_len=64)
    assert sim.requests["ttft_s"].to_numpy() == pytest.approx(single.ttft_s, rel=1e-9)
    assert sim.summary["mean_tpot_ms"] == pytest.approx(single.tpot_s * 1e3, rel=0.01)


def test_every_token_is_accounted_for_even_with_preemptions(monkeypatch):
    # forward-pass tokens = prompts + (outputs - 1) + KV recomputed after preemption (a recompute also
    # re-prefills the last generated token, which then is not decoded); prefix hits count as done.
    # Output tokens = those emitted by the steps that complete a prefill + those decoded.
    sims = _replicas_of_the_next_run(monkeypatch)
    sim = simulate(**BASE, rate_per_s=30, num_requests=600, input_len=("uniform", 50, 3000),
                   output_len=("uniform", 1, 500), seed=1, gpu_memory_utilization=0.3)
    df = sim.requests
    assert (df["status"] == "finished").all() and sim.summary["preemptions"] > 0
    st = [s.stats for s in sims]
    forward = sum(x.prefill_tokens + x.prefix_hit_tokens + x.decode_tokens for x in st)
    expected = df["input_len"].sum() + (df["output_len"] - 1).sum() + sum(x.recomputed_tokens for x in st)
    assert forward == expected
    emitted = sum(x.prefill_emitted_tokens for x in st) + sum(x.decode_tokens for x in st)
    assert emitted == df["output_len"].sum() == sim.summary["total_output_tokens"]


def test_littles_law_on_the_simulated_queue():
    # L (time average of requests in the engine, integrated from its state) = lambda x W (timestamps)
    sim = simulate(**BASE, rate_per_s=20, num_requests=4000, input_len=1024, output_len=256, seed=5)
    s, df = sim.summary, sim.requests
    lam = len(df) / s["duration_s"]
    assert s["mean_requests_in_system"] == pytest.approx(lam * df["e2e_s"].mean(), rel=0.02)


def test_littles_law_on_the_waiting_queue_under_overload():
    sim = simulate(**BASE, rate_per_s=40, num_requests=3000, input_len=1024, output_len=256, seed=5)
    s, df = sim.summary, sim.requests
    lam = len(df) / s["duration_s"]
    wait = (df["scheduled_s"] - df["arrival_s"]).mean()
    assert s["mean_requests_waiting"] == pytest.approx(lam * wait, rel=0.02)


def test_small_kv_cache_preempts_and_a_larger_one_does_not():
    kw = dict(**BASE, rate_per_s=30, num_requests=800, input_len=1024, output_len=512, seed=4)
    small = simulate(**kw, gpu_memory_utilization=0.25)  # ~2 GB of KV: about 60 requests at full length
    large = simulate(**kw, gpu_memory_utilization=0.9)
    assert small.summary["preemptions"] > 0 and small.requests["preemptions"].sum() == small.summary["preemptions"]
    assert large.summary["preemptions"] == 0
    assert (small.requests["status"] == "finished").all()  # preempted requests still complete


def test_chunked_prefill_lowers_p99_tpot_under_mixed_load():
    # long prompts among running decodes: without chunked prefill (vLLM V0) whole prompts are
    # prefilled in prefill-only steps that stall every decode; chunked prefill spreads them over
    # steps of at most 2048 tokens next to the decodes.
    kw = dict(**BASE, rate_per_s=8, num_requests=1500, input_len=("uniform", 2000, 8000),
              output_len=("uniform", 100, 400), seed=6)
    chunked = simulate(**kw, enable_chunked_prefill=True, max_num_batched_tokens=2048)
    whole = simulate(**kw, enable_chunked_prefill=False, max_num_batched_tokens=8448)
    assert chunked.summary["p99_tpot_ms"] < whole.summary["p99_tpot_ms"]


def _shared_prefix_workload(n=600, groups=20, prefix_blocks=6, seed=0, output_len=64):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, n)
    hashes = tuple(tuple(range(g * 100, g * 100 + prefix_blocks)) + (10_000 + i,) for i, g in enumerate(group))
    return Workload(arrival_s=np.cumsum(rng.exponential(1 / 8, n)), input_len=np.full(n, 512 * 7),
                    output_len=np.full(n, output_len), prefix_hashes=hashes, hash_block_size=512, source="shared")


def test_prefix_caching_with_shared_prefixes_lowers_mean_ttft():
    w = _shared_prefix_workload()
    off = simulate(**BASE, workload=w, enable_prefix_caching=False)
    on = simulate(**BASE, workload=w, enable_prefix_caching=True)
    assert on.summary["prefix_cache_hit_tokens"] > 0 and off.summary["prefix_cache_hit_tokens"] == 0
    assert on.summary["mean_ttft_ms"] < 0.7 * off.summary["mean_ttft_ms"]


@pytest.mark.parametrize("kw", [
    dict(rate_per_s=18, num_requests=2000, input_len=1024, output_len=256),
    dict(rate_per_s=12, num_requests=1000, input_len=("lognormal", 1500, 1.0), output_len=("lognormal", 300, 1.0),
         arrival="gamma", cv=3.0),
    dict(rate_per_s=30, num_requests=600, input_len=1024, output_len=512, gpu_memory_utilization=0.25),
    dict(rate_per_s=18, num_requests=1000, input_len=("uniform", 100, 2000), output_len=256,
         enable_chunked_prefill=False),  # prefill-only steps stall the decodes: their ITL has the stall
    dict(rate_per_s=18, num_requests=1000, input_len=1024, output_len=256, enable_chunked_prefill=False,
         num_scheduler_steps=8),
])
def test_event_skipping_agrees_with_step_by_step(kw):
    fast = simulate(**BASE, **kw, seed=7).summary
    slow = simulate(**BASE, **kw, seed=7, step_by_step=True).summary
    for key, value in slow.items():
        if isinstance(value, float) and np.isfinite(value) and value != 0:
            assert fast[key] == pytest.approx(value, rel=0.005), key


def test_same_seed_same_result_byte_for_byte():
    a = simulate(**BASE, rate_per_s=15, num_requests=500, seed=11)
    b = simulate(**BASE, rate_per_s=15, num_requests=500, seed=11)
    c = simulate(**BASE, rate_per_s=15, num_requests=500, seed=12)
    assert a.to_json() == b.to_json() and a.requests.equals(b.requests)
    assert a.to_json() != c.to_json()


def test_too_long_requests_are_reported_not_dropped():
    w = Workload(arrival_s=np.array([0.0, 1.0, 2.0]), input_len=np.array([100, 200_000, 100]),
                 output_len=np.array([10, 10, 10]), source="mixed")
    sim = simulate(**BASE, workload=w)
    df = sim.requests.set_index("id")
    assert df.loc[1, "status"] == "rejected" and "exceeds the model context of 131072" in df.loc[1, "reason"]
    assert sim.summary["rejected"] == 1 and sim.summary["completed"] == 2


def test_request_larger_than_the_kv_cache_is_reported():
    w = Workload(arrival_s=np.array([0.0]), input_len=np.array([100_000]), output_len=np.array([10]), source="big")
    sim = simulate(**BASE, workload=w, gpu_memory_utilization=0.3)
    assert sim.requests.loc[0, "status"] == "rejected" and "KV blocks" in sim.requests.loc[0, "reason"]


def test_priority_policy_serves_urgent_requests_first_under_overload():
    rng = np.random.default_rng(0)
    n = 1500
    w = Workload(arrival_s=np.cumsum(rng.exponential(1 / 45, n)), input_len=np.full(n, 1024),
                 output_len=np.full(n, 256), priority=rng.integers(0, 2, n), source="two classes")
    df = simulate(**BASE, workload=w, policy="priority").requests
    urgent, relaxed = df[w.priority == 0]["ttft_s"].mean(), df[w.priority == 1]["ttft_s"].mean()
    assert urgent < 0.5 * relaxed


def test_goodput_counts_only_requests_within_the_slo():
    sim = simulate(**BASE, rate_per_s=22, num_requests=1500, seed=3, slo_ttft_ms=200, slo_tpot_ms=25)
    df = sim.requests
    ok = ((df["ttft_s"] * 1e3 <= 200) & (df["tpot_s"] * 1e3 <= 25)).sum()
    assert sim.summary["request_goodput"] == pytest.approx(ok / sim.summary["duration_s"])


def test_replicas_share_load_and_routers_differ():
    kw = dict(**BASE, rate_per_s=60, num_requests=2000, seed=2, num_replicas=3)
    rr = simulate(**kw, router="round_robin")
    counts = rr.requests["replica"].value_counts()
    assert set(counts.index) == {0, 1, 2} and counts.max() - counts.min() <= 1
    lot = simulate(**kw, router="least_outstanding_tokens", input_len=("lognormal", 1000, 1.5))
    assert lot.summary["completed"] == 2000


def test_round_robin_replicas_are_independent_single_replica_runs():
    # a router that reads no replica state makes each replica serve its share alone (ReplicaSim.serve):
    # every request's timeline equals that of a one-replica run of its share of the workload
    w = synthetic(1500, 40, input_len=("uniform", 100, 3000), output_len=("uniform", 1, 400), seed=4)
    kw = dict(**BASE, gpu_memory_utilization=0.35)
    three = simulate(**kw, workload=w, num_replicas=3, router="round_robin").requests
    assert three["preemptions"].sum() > 0
    columns = ["scheduled_s", "first_token_s", "finish_s", "preemptions"]
    for j in range(3):
        share = Workload(arrival_s=w.arrival_s[j::3], input_len=w.input_len[j::3], output_len=w.output_len[j::3])
        alone = simulate(**kw, workload=share).requests
        assert (three[columns].iloc[j::3].to_numpy() == alone[columns].to_numpy()).all()


def test_a_run_leaves_garbage_collection_as_it_found_it():
    # the collector is paused while the requests live (they make no cycles) and restored after
    import gc

    assert gc.isenabled()
    simulate(**BASE, rate_per_s=5, num_requests=50)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        simulate(**BASE, rate_per_s=5, num_requests=50)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_itl_histogram_spreads_a_run_over_its_bins():
    # a run's latencies go uniformly (in log space) over [lo, hi]: the weight is kept, the mean is
    # the middle, and percentiles fall inside the range to within a bin (0.1%)
    from chip2chat.serving.stats import LatencyHistogram

    h = LatencyHistogram()
    h.add(0.020, 0.021, 300)  # about 49 bins
    h.add(0.020, 0.020, 100)
    assert h.counts.sum() == pytest.approx(400) and h.total == 400
    assert h.mean == pytest.approx((300 * 0.0205 + 100 * 0.020) / 400)
    assert h.percentile(10) == pytest.approx(0.020, rel=1e-3) and h.percentile(99) == pytest.approx(0.021, rel=2e-3)
    both = LatencyHistogram()
    both.merge(h)
    both.merge(h)
    assert both.total == 800 and both.percentile(50) == pytest.approx(h.percentile(50))


def test_prefix_affinity_keeps_a_prefix_on_one_replica():
    w = _shared_prefix_workload(groups=6)
    sim = simulate(**BASE, workload=w, num_replicas=3, router="prefix_affinity", enable_prefix_caching=True)
    first_hash = [h[0] for h in w.prefix_hashes]
    per_group = sim.requests.assign(g=first_hash).groupby("g")["replica"].nunique()
    assert (per_group == 1).all()


def test_disaggregated_prefill_and_decode():
    kw = dict(**BASE, rate_per_s=10, num_requests=500, input_len=2048, output_len=128, seed=9)
    pd_sim = simulate(**kw, disaggregate=(1, 1))
    df = pd_sim.requests
    assert (df["status"] == "finished").all() and set(df["replica"]) == {1}  # finished on the decode replica
    slow_link = simulate(**kw, disaggregate=(1, 1), kv_link_bandwidth_bytes_per_s=1e9)
    # 2048 tokens x 131 kB = 268 MB: 0.27 s more per request over a 1 GB/s link
    extra = slow_link.requests["e2e_s"].mean() - df["e2e_s"].mean()
    assert extra > 0.2


def test_decode_replicas_take_the_kv_and_compute_no_prompt(monkeypatch):
    # a request arriving with its KV joins the decode set before the step's decodes and decodes in it:
    # nothing is prefilled again on the decode side, and every KV block taken is given back
    sims = _replicas_of_the_next_run(monkeypatch)
    sim = simulate(**BASE, rate_per_s=30, num_requests=600, input_len=1024, output_len=256, disaggregate=(1, 3))
    prefill, *decode = sims
    assert sim.summary["preemptions"] == 0 and (sim.requests["status"] == "finished").all()
    assert prefill.stats.decode_tokens == 0 and all(s.stats.prefill_tokens == 0 for s in decode)
    assert all(s.scheduler.pool.owned == 0 for s in sims)


def test_chrome_trace_export(tmp_path):
    sim = simulate(**BASE, rate_per_s=5, num_requests=50, record_trace=True)
    path = tmp_path / "trace.json"
    sim.write_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert events and all(e["ph"] == "X" and e["dur"] > 0 for e in events)


def test_settings_as_objects_give_the_keyword_form_result():
    # each keyword is a field of one object; both forms must be the same simulation
    keywords = simulate(**BASE, tp=1, max_num_seqs=64, num_replicas=2, router="least_outstanding_tokens",
                        slo_ttft_ms=200, rate_per_s=20, num_requests=400, seed=3)
    objects = simulate(BASE["model"], BASE["hardware"], plan=ParallelPlan(tp=1),
                       scheduling=SchedulerConfig(max_num_seqs=64),
                       cluster=ClusterConfig(num_replicas=2, router="least_outstanding_tokens"),
                       slo=Slo(ttft_ms=200), workload=synthetic(400, 20, seed=3))
    assert objects.to_json() == keywords.to_json()
    # a keyword next to its object replaces that field
    both = simulate(**BASE, scheduling=SchedulerConfig(max_num_seqs=8), max_num_seqs=64, num_replicas=2,
                    router="least_outstanding_tokens", slo=Slo(ttft_ms=200), rate_per_s=20, num_requests=400, seed=3)
    assert both.to_json() == keywords.to_json()


def test_an_unknown_keyword_names_the_closest():
    with pytest.raises(Chip2ChatError, match=r"simulate\(\) has no argument 'max_num_seq'; closest: max_num_seqs"):
        simulate(**BASE, max_num_seq=64, num_requests=10)


def test_bad_options_are_one_line_errors():
    with pytest.raises(Chip2ChatError, match="router must be one of .*, got 'random'"):
        simulate(**BASE, router="random", num_requests=10)
    with pytest.raises(Chip2ChatError, match="max_num_batched_tokens"):
        simulate(**BASE, max_num_seqs=512, max_num_batched_tokens=256, num_requests=10)


@pytest.mark.parametrize("caching", [False, True])
def test_every_kv_block_is_returned_after_the_run(monkeypatch, caching):
    # preemptions and prefix caching move blocks between requests, the cache and the free list;
    # at the end nothing may still be held by a request
    sims = _replicas_of_the_next_run(monkeypatch)
    simulate(**BASE, workload=_shared_prefix_workload(n=800, output_len=1024), enable_prefix_caching=caching,
             gpu_memory_utilization=0.25)  # about 2 GB of KV: decodes outgrow it
    pool = sims[0].scheduler.pool
    assert pool.owned == 0 and pool.used == 0 and 0 <= pool.cached <= pool.total
    assert sims[0].stats.preemptions > 0


def test_full_request_reservation_never_preempts_and_admits_fewer():
    # TensorRT-LLM's GUARANTEED_NO_EVICT: blocks for prompt + output reserved at admission
    kw = dict(**BASE, rate_per_s=30, num_requests=600, input_len=1024, output_len=512, seed=4,
              gpu_memory_utilization=0.25)
    on_demand = simulate(**kw)
    reserved = simulate(**kw, scheduler="trtllm-guaranteed-no-evict")
    assert on_demand.summary["preemptions"] > 0 and reserved.summary["preemptions"] == 0
    assert (reserved.requests["status"] == "finished").all()
    # reserving whole requests fills the cache with promises: fewer run at once, higher TTFT
    assert reserved.summary["mean_ttft_ms"] > on_demand.summary["mean_ttft_ms"]


def test_host_bound_steps_take_the_host_time_per_sequence():
    # 64 requests decode together on an H100 (an 8B decode step of 64 sequences takes ~3 ms); at
    # 1 ms of host time per sequence a step of 64 takes 64 ms: every inter-token gap is exactly that
    kw = dict(BASE, num_requests=64, arrival="all_at_once", input_len=128, output_len=64, max_num_seqs=64,
              max_num_batched_tokens=8192, seed=0)
    slow = simulate(**kw, host_overhead_per_seq_s=1e-3)
    assert slow.summary["mean_itl_ms"] == pytest.approx(64.0, rel=1e-9)
    assert slow.summary["mean_tpot_ms"] == pytest.approx(64.0, rel=1e-9)
    # 1 us per sequence (64 us a step) hides behind the GPU: the same run as without a host
    hidden = simulate(**kw, host_overhead_per_seq_s=1e-6).summary
    none = simulate(**kw).summary
    assert hidden["duration_s"] == pytest.approx(none["duration_s"], rel=1e-12)


@pytest.mark.parametrize("host", [2e-5, 6e-5])
def test_host_overlap_agrees_with_step_by_step(host):
    # 60 us per sequence makes steps host-bound until contexts grow and the GPU overtakes: the
    # closed-form decode runs must end where the GPU overtakes, as step-by-step does
    kw = dict(BASE, num_requests=400, rate_per_s=40.0, input_len=("uniform", 100, 3000), output_len=("uniform", 50, 600),
              max_num_seqs=128, host_overhead_per_seq_s=host, seed=5)
    fast = simulate(**kw).summary
    slow = simulate(**kw, step_by_step=True).summary
    for key in ("duration_s", "mean_ttft_ms", "mean_tpot_ms", "p99_itl_ms", "energy_j"):
        assert fast[key] == pytest.approx(slow[key], rel=5e-3), key


def _one_request(output_len: int, **kw):
    return simulate(**BASE, num_requests=1, input_len=512, output_len=output_len, enable_chunked_prefill=False,
                    **kw)


def test_a_multi_step_window_streams_its_tokens_at_its_end():
    # one request, 21 tokens: the prefill step emits the first, then two windows of 10 decode steps,
    # the same steps as without multi-step, so the same finish; the client gets 2 chunks of 10 tokens
    # instead of 20 of one, each as long as its 10 steps
    one, ten = _one_request(21).summary, _one_request(21, num_scheduler_steps=10).summary
    # (a window's step times are interpolated from its first and last: equal to 1e-6)
    assert ten["mean_e2el_ms"] == pytest.approx(one["mean_e2el_ms"], rel=1e-6)
    assert ten["mean_ttft_ms"] == pytest.approx(one["mean_ttft_ms"], rel=1e-9)
    decode_ms = one["mean_e2el_ms"] - one["mean_ttft_ms"]
    assert one["mean_itl_ms"] == pytest.approx(decode_ms / 20, rel=1e-6)
    assert ten["mean_itl_ms"] == pytest.approx(decode_ms / 2, rel=1e-6)
    assert ten["mean_tpot_ms"] == pytest.approx(one["mean_tpot_ms"], rel=1e-6)  # TPOT does not see chunks


def test_a_request_done_inside_a_window_keeps_its_place_to_the_end():
    # 16 tokens: the 16th comes at the 5th step of the second window, which still runs its 10 steps
    # (vLLM keeps the batch to the window's end): it finishes when a 21-token request does
    early = _one_request(16, num_scheduler_steps=10).requests
    full = _one_request(21).requests
    assert early["finish_s"].iloc[0] == pytest.approx(full["finish_s"].iloc[0], rel=1e-6)


def test_a_request_arriving_in_a_window_waits_for_its_end():
    # B arrives 1 ms after A's first token; A's first window (10 decode steps) runs to its end first
    w = Workload(arrival_s=np.array([0.0, 0.0]), input_len=np.array([512, 512]), output_len=np.array([41, 41]))
    a_alone = _one_request(41).requests.iloc[0]
    step_s = (a_alone["finish_s"] - a_alone["first_token_s"]) / 40  # about one decode step
    w.arrival_s[1] = a_alone["first_token_s"] + 1e-3
    for steps, wait_at_least in ((1, 0.0), (10, 9 * step_s)):
        b = simulate(**BASE, workload=w, enable_chunked_prefill=False, num_scheduler_steps=steps).requests.iloc[1]
        assert b["scheduled_s"] - b["arrival_s"] >= wait_at_least
        assert b["scheduled_s"] - b["arrival_s"] < (wait_at_least or 0) + 1.1 * step_s


def test_itl_counts_the_prefill_steps_that_stall_the_decodes(monkeypatch):
    # the gaps a client times add up to each request's decode time: without mixed batches (vLLM V0,
    # SGLang) prefill-only steps sit inside the gaps; step by step, every gap is counted exactly
    for kw in (dict(enable_chunked_prefill=False), dict(engine="sglang"), dict()):
        sims = _replicas_of_the_next_run(monkeypatch)
        sim = simulate(**BASE, rate_per_s=10, num_requests=300, input_len=("uniform", 100, 3000), output_len=200,
                       seed=2, step_by_step=True, **kw)
        df = sim.requests
        itl = sims[-1].stats.itl
        assert itl.total == (df["output_len"] - 1).sum()
        assert itl.sum == pytest.approx((df["finish_s"] - df["first_token_s"]).sum(), rel=1e-9)
        sims.clear()


def test_sglang_runs_its_prefill_steps_apart_from_the_decodes():
    # SGLang's default (no --enable-mixed-chunk): prompts stall the running decodes, so its p99 ITL
    # is a prefill step long; mixed in with the decodes (vLLM, or SGLang told to mix) it is not
    kw = dict(**BASE, rate_per_s=10, num_requests=400, input_len=2000, output_len=200, seed=4)
    apart, mixed = simulate(engine="sglang", **kw).summary, simulate(engine="sglang", mixed_batches=True, **kw).summary
    assert apart["p99_itl_ms"] > 1.5 * mixed["p99_itl_ms"]
    assert apart["mean_tpot_ms"] > mixed["mean_tpot_ms"]
