"""estimate and simulate: bad options on the command line and bad arguments in the Python API are
one line naming the option or argument and what it takes (see contract.py)."""

import math

import pytest

import chip2chat as c2c
from contract import api_error, assert_bad

BASE = ("--model", "llama-3.1-8b", "--hardware", "h100")


@pytest.mark.parametrize("extra, mentions", [
    (("--batch", "0"), ["batch must be a positive integer", "got 0"]),
    (("--input-len", "-1"), ["input_len must be a positive integer"]),
    (("--gpu-memory-utilization", "1.5"), ["gpu_memory_utilization must be", "<= 1", "1.5"]),
    (("--gpu-memory-utilization", "nan"), ["gpu_memory_utilization must be a finite number"]),
    (("--weight-dtype", "fp7"), ["weight dtype 'fp7' is not one of", "fp8"]),
    (("--kv-dtype", "int4"), ["KV dtype 'int4' is not one of"]),
    (("-tp", "0"), ["tensor-parallel-size must be a positive integer"]),
    (("-pp", "100"), ["pipeline-parallel-size 100 exceeds the 32 layers"]),
    (("-ep", "2"), ["expert-parallel-size 2 needs a mixture-of-experts model"]),
    (("--enable-attention-dp", "-tp", "2"), ["attention data parallel needs a mixture-of-experts model"]),
    (("--input-len", "200000"), ["exceeds", "context of 131072 tokens"]),
    (("--max-num-batched-tokens", "0"), ["max_num_batched_tokens must be a positive integer"]),
])
def test_estimate_options(cli, extra, mentions):
    assert_bad(cli("estimate", *BASE, *extra), 2, *mentions)


def test_estimate_that_does_not_fit_exits_1_with_bytes(cli):
    line = assert_bad(cli("estimate", "--model", "llama-3.1-405b", "--hardware", "l40s"), 1, "does not fit: needs")
    assert "GB available" in line and "largest batch that fits: 0" in line


@pytest.mark.parametrize("extra, mentions", [
    (("--request-rate", "-2"), ["rate_per_s must be a finite number > 0"]),
    (("--request-rate", "inf"), ["rate_per_s must be a finite number > 0", "inf"]),
    (("--num-requests", "0"), ["must be an integer >= 1"]),
    (("--num-replicas", "0"), ["num_replicas must be a positive integer"]),
    (("--arrival", "uniform"), ["arrival must be one of poisson, gamma, daily, all_at_once"]),
    (("--router", "random"), ["router must be one of round_robin"]),
    (("--scheduling-policy", "lifo"), ["policy", "'fcfs' or 'priority'"]),
    (("--max-num-seqs", "512", "--max-num-batched-tokens", "256"), ["max_num_batched_tokens (256) must be >= max_num_seqs"]),
    (("--block-size", "0"), ["block_size", "greater than or equal to 1"]),
    (("--disaggregate", "2"), ["--disaggregate expects P:D (e.g. 2:6)"]),
    (("--disaggregate", "0:3"), ["disaggregate[0] must be a positive integer"]),
    (("--slo-ttft-ms", "-1"), ["slo_ttft_ms must be > 0"]),
    (("--host-overhead-per-seq-us", "-5"), ["--host-overhead-per-seq-us must be >= 0"]),
    (("--trace", "trace.csv"), ["a trace needs its format"]),
    (("--input-len-cv", "-1"), ["--input-len-cv must be >= 0"]),
])
def test_simulate_options(cli, extra, mentions):
    assert_bad(cli("simulate", *BASE, "--num-requests", "100", *extra), 2, *mentions)


def test_simulate_without_room_for_the_kv_cache_exits_1(cli):
    assert_bad(cli("simulate", "--model", "llama-3.1-70b", "--hardware", "h100", "--num-requests", "10"), 1,
               "leaves no room for a KV cache", "GB usable")


def test_simulate_above_capacity_warns_with_the_overload(cli):
    # Llama-3.1-8B on one H100 serves ~18 requests/s of 1024 in / 256 out; 40/s is twice that
    result = cli("simulate", *BASE, "--request-rate", "40", "--num-requests", "2000")
    assert result.code == 0
    warning = [ln for ln in result.err.splitlines() if ln.startswith("warning:")]
    assert len(warning) == 1 and "of what the replicas served" in warning[0] and "req/s" in warning[0]


@pytest.mark.parametrize("kwargs, mentions", [
    (dict(model=None), ["model must be a catalog model name, a config.json path or a Transformer", "None"]),
    (dict(model=42), ["model must be", "42"]),
    (dict(hardware=None), ["hardware must be a catalog accelerator name"]),
    (dict(hardware=["h100"]), ["hardware must be"]),
    (dict(batch=None), ["batch must be a positive integer"]),
    (dict(batch=True), ["batch must be a positive integer"]),
    (dict(batch=2.5), ["batch must be a positive integer"]),
    (dict(tp="2"), ["tensor-parallel-size must be a positive integer"]),
    (dict(gpu_memory_utilization="0.9"), ["gpu_memory_utilization must be a finite number"]),
    (dict(weight_dtype=None), ["weight dtype None is not one of"]),
    (dict(profile="h100-sxm"), ["profile must be a CalibrationProfile"]),
])
def test_estimate_api_arguments(kwargs, mentions):
    api_error(c2c.estimate, *mentions, **kwargs)


@pytest.mark.parametrize("kwargs, mentions", [
    (dict(hardware=None), ["hardware must be"]),
    (dict(rate_per_s=None), ["rate_per_s"]),
    (dict(rate_per_s=math.nan), ["rate_per_s must be a finite number > 0"]),
    (dict(num_requests="10"), ["must be an integer >= 1"]),
    (dict(num_replicas=None), ["num_replicas must be a positive integer"]),
    (dict(seed=None), ["seed must be an integer >= 0"]),
    (dict(seed=-1), ["seed must be an integer >= 0"]),
    (dict(disaggregate=(1,)), ["disaggregate must be (prefill replicas, decode replicas)"]),
    (dict(bucket_s=0), ["bucket_s must be > 0"]),
    (dict(workload="trace.csv"), ["workload must be a chip2chat.workload.Workload"]),
    (dict(input_len=("uniform", 10)), ["input_len", "takes 2 numbers"]),
    (dict(max_num_seqs=None), ["serving options: max_num_seqs"]),
    (dict(slo_tpot_ms=math.inf), ["slo_tpot_ms must be a finite number"]),
])
def test_simulate_api_arguments(kwargs, mentions):
    api_error(c2c.simulate, *mentions, **{"num_requests": 50, **kwargs})
