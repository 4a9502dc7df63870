"""Heterogeneous disaggregation (serving/cluster.py): the decode pool may be another kind of replica.

A decode pool like the prefill pool must give exactly what one replica type gives (the existing
path, tests/test_reference.py); a faster decode chip changes only what happens after the prompt;
the KV hand-over runs at the slower side's NICs.
"""

import pytest

from chip2chat.configure.deploy import Setup, _simulate_pools, simulate_candidate
from chip2chat.configure.space import DISAGGREGATED, Candidate, Workers
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.serving import simulate as simulation
from chip2chat.serving.cluster import Pool, run_cluster
from chip2chat.serving.config import ClusterConfig, DecodePool, Slo

SETUP = Setup("llama-3.1-8b", "vllm", "bf16", Slo(ttft_ms=500, tpot_ms=50), min_requests=300, requests_per_replica=100)
METRICS = ("p99_ttft_ms", "mean_ttft_ms", "p99_tpot_ms", "mean_tpot_ms", "median_e2el_ms", "request_throughput",
           "engine_steps", "preemptions")


def pools(prefill_chip, decode_chip, decode_seqs=256, counts=(1, 2)) -> Candidate:
    prefill = Workers(str(prefill_chip), ParallelPlan(1), counts[0], hardware=prefill_chip)
    decode = Workers(str(decode_chip), ParallelPlan(1), counts[1], max_num_seqs=decode_seqs, hardware=decode_chip)
    return Candidate(DISAGGREGATED, (prefill, decode), "bf16")


def test_a_decode_pool_like_the_prefill_pool_gives_what_simulate_gives():
    # reason: the two-pool path must be the one-replica-type path when the pools are alike
    candidate = pools("h100", "h100")
    alike = simulate_candidate(SETUP, candidate, 8.0)  # goes through simulate()
    forced = _simulate_pools(SETUP, candidate, SETUP.workload(candidate, 8.0)).summary
    for key in METRICS:
        assert forced[key] == alike[key], key


def test_a_faster_decode_chip_keeps_every_ttft_and_shortens_tpot():
    # reason: the prefill pool runs first and alone, so its TTFTs cannot depend on the decode chip
    slow = _simulate_pools(SETUP, pools("h100", "h100"), SETUP.workload(pools("h100", "h100"), 8.0)).summary
    fast = _simulate_pools(SETUP, pools("h100", "b200"), SETUP.workload(pools("h100", "b200"), 8.0)).summary
    assert fast["mean_ttft_ms"] == slow["mean_ttft_ms"] and fast["p99_ttft_ms"] == slow["p99_ttft_ms"]
    assert fast["mean_tpot_ms"] < 0.8 * slow["mean_tpot_ms"]


def _run(prefill_hw, decode_hw, link=None) -> list:
    """(TTFT, end-to-end) of every request, prefill and decode pools of one replica each."""
    sim = simulation.simulate("llama-3.1-8b", prefill_hw, workload=SETUP.workload(pools("h100", "h100"), 8.0),
                              cluster=ClusterConfig(disaggregate=(1, 1), kv_link_bandwidth_bytes_per_s=link),
                              decode_pool=DecodePool(decode_hw))
    return sim.requests[["ttft_s", "e2e_s"]].to_numpy().tolist()


def test_a_decode_pool_needs_a_disaggregated_cluster():
    # reason: without disaggregation every replica decodes its own prompts; there is no decode pool
    with pytest.raises(Chip2ChatError, match="decode_pool needs a disaggregated cluster"):
        simulation.simulate("llama-3.1-8b", "h100", num_requests=10, decode_pool=DecodePool("b200"))


def test_the_kv_goes_at_the_slower_sides_nics():
    # reason: KV leaves through the prefill replica's NICs and arrives through the decode replica's
    _, h100 = load_hardware("h100")
    slow_nic = h100.model_copy(update={"name": "H100 slow NIC", "scale_up": h100.scale_up.model_copy(
        update={"scale_out_bandwidth_bytes_per_s": h100.scale_up.scale_out_bandwidth_bytes_per_s / 10})})
    slower = slow_nic.scale_up.scale_out_bandwidth_bytes_per_s
    faster = h100.scale_up.scale_out_bandwidth_bytes_per_s
    for prefill, decode in ((h100, slow_nic), (slow_nic, h100)):
        default = _run(prefill, decode)
        assert default == _run(prefill, decode, link=slower)
        assert default != _run(prefill, decode, link=faster)


def test_pools_of_different_models_are_refused():
    # reason: a decode replica cannot continue another model's KV cache
    rep8 = simulation.get_replica("llama-3.1-8b", "h100", 1, 1, 1, "bf16", "bf16")
    rep3 = simulation.get_replica("llama-3.2-3b", "h100", 1, 1, 1, "bf16", "bf16")
    cfg = Workers("x", ParallelPlan(1)).scheduling("vllm")
    with pytest.raises(Chip2ChatError, match="different models"):
        run_cluster([], rep8, cfg, ClusterConfig(disaggregate=(1, 1)), 1000, 16, bucket_s=1.0, record_trace=False,
                    step_by_step=False, progress=None, decode=Pool(rep3, cfg, 1000))
