"""Prefix caching of a shared system prompt and of a session's earlier turns, through the
simulator (the scheduler skips the prefill of cached blocks; kv_aware routes to them)."""

import numpy as np

from chip2chat.serving.simulate import simulate
from chip2chat.workload import synthetic
from chip2chat.workload.sessions import PrefixSharing

BASE = dict(model="llama-3.1-8b", hardware="h100", weight_dtype="fp8", kv_dtype="fp8")
SHARING = PrefixSharing(shared_prefix_tokens=640, history_tokens=256, turns_per_session=4, turn_gap_s=2.0)


def _workload(rate=4.0, n=400):
    return SHARING.apply(synthetic(n, rate, input_len=1024, output_len=32, seed=3))


def test_cached_prompt_blocks_are_not_prefilled():
    # reason: the scheduler starts a prompt after its cached blocks, so hits are tokens not computed;
    # a first turn can hit at most the 640 system tokens, a later one 640 + 256 (whole 64-token blocks)
    w = _workload()
    on = simulate(**BASE, workload=w, enable_prefix_caching=True).summary
    off = simulate(**BASE, workload=w).summary
    assert off["prefix_cache_hit_tokens"] == 0
    assert 640 * 0.9 * len(w) < on["prefix_cache_hit_tokens"] <= 896 * len(w)
    assert on["mean_ttft_ms"] < off["mean_ttft_ms"]


def test_kv_aware_routing_sends_a_later_turn_back_to_its_cache():
    # reason: at a light load the replica holding a session's history saves 256 prompt tokens, more
    # than any difference in outstanding work, so it is chosen; round robin hits it one time in four
    w = _workload(rate=2.0)
    hits = {router: simulate(**BASE, workload=w, num_replicas=4, router=router,
                             enable_prefix_caching=True).summary["prefix_cache_hit_tokens"]
            for router in ("kv_aware", "round_robin")}
    assert hits["kv_aware"] > hits["round_robin"] + 0.5 * 256 * len(w) * 0.5


def test_kv_aware_spreads_a_load_one_replica_cannot_carry():
    # reason: a replica whose queue holds more than the 896 tokens a prompt could save costs more
    # than an idle one without the cache, so a heavy load is not pulled onto the first cache
    w = _workload(rate=150.0, n=600)
    sim = simulate(**BASE, workload=w, num_replicas=4, router="kv_aware", enable_prefix_caching=True)
    loads = np.bincount(sim.requests["replica"], minlength=4)
    assert loads.min() > 0.15 * len(w)


def test_kv_aware_without_hashes_is_least_outstanding_tokens():
    # reason: with nothing cached to weigh, the score is the outstanding work alone
    w = synthetic(200, 8.0, input_len=512, output_len=32, seed=1)
    a = simulate(**BASE, workload=w, num_replicas=3, router="kv_aware").requests["replica"]
    b = simulate(**BASE, workload=w, num_replicas=3, router="least_outstanding_tokens").requests["replica"]
    assert a.tolist() == b.tolist()
