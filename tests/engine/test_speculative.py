"""Speculative decoding (issue 13): drafts, one verify step over k + 1 tokens, a tokens emitted."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.engine.estimate import estimate
from chip2chat.engine.speculative import Speculative, speculative
from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.serving.simulate import simulate

LLAMA = dict(tp=4, input_len=1000, output_len=500, weight_dtype="fp8", kv_dtype="fp8")


def _tpot(spec, batch=1, **kw):
    return estimate("llama-3.1-70b", "h200-sxm", batch=batch, speculative=spec, **{**LLAMA, **kw}).tpot_s


@settings(max_examples=15, deadline=None)
@given(a=st.floats(1.0, 4.0))
def test_tpot_is_the_verify_step_over_the_acceptance_length(a):
    # the same k drafts and verify step, whatever is accepted: TPOT x a is a constant
    one = _tpot(speculative("eagle3", 3, 1.0))
    assert _tpot(speculative("eagle3", 3, a)) == pytest.approx(one / a, rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(batch=st.sampled_from([1, 8, 64, 256, 1024]), k=st.integers(1, 6))
def test_speculation_never_gains_more_than_the_acceptance_length(batch, k):
    # the verify step does at least the plain step's work and the drafts cost more than nothing
    plain = _tpot(None, batch)
    spec = _tpot(speculative("eagle3", k, k + 1.0), batch)
    assert spec >= plain / (k + 1.0)


def test_memory_bound_decode_gains_nearly_a_and_compute_bound_little():
    # batch 1: the weights are read once for k + 1 tokens (2.5 tokens per step: >2x);
    # batch 256 of a 70B model in fp8 on H200 is near compute-bound: the (k+1)x GEMM work eats the gain
    spec = speculative("eagle3", 3, 2.5)
    assert _tpot(None, 1) / _tpot(spec, 1) > 2.0
    assert _tpot(None, 256) / _tpot(spec, 256) < 1.3


def test_deepseek_mtp_near_its_published_speedup():
    # DeepSeek-V3 report (arXiv 2412.19437, 5.4.3): 85-90% acceptance of the second token gives 1.8x
    # tokens per second; one MTP module drafting one token at batch 1 on B200 (memory-bound)
    kw = dict(tp=8, ep=8, batch=1, input_len=1000, output_len=500, weight_dtype="fp4", kv_dtype="fp8")
    plain = estimate("deepseek-r1", "b200", **kw)
    mtp = estimate("deepseek-r1", "b200", speculative=speculative("mtp"), **kw)
    assert mtp.speculative == "mtp k=1 a=1.875"
    assert 1.5 < plain.tpot_s / mtp.tpot_s < 1.875
    assert mtp.ttft_s == plain.ttft_s  # prefill runs no drafts
    # the MTP module's weights (about one decoder layer of 61) are held too
    assert mtp.weights_bytes_per_device == pytest.approx(plain.weights_bytes_per_device * (1 + 1 / 61))


def test_simulate_charges_decode_per_emitted_token():
    # a light load: TPOT of the simulation follows estimate's ~2.3x gain at batch 1-2
    kw = dict(tp=4, weight_dtype="fp8", kv_dtype="fp8", rate_per_s=1, num_requests=60, input_len=500,
              output_len=200, seed=3)
    plain = simulate("llama-3.1-70b", "h200-sxm", **kw).summary
    spec = simulate("llama-3.1-70b", "h200-sxm", speculative=speculative("eagle3", 3, 2.5), **kw).summary
    assert spec["speculative"] == "eagle3 k=3 a=2.5" and plain["speculative"] == "none"
    assert 1.8 < plain["mean_tpot_ms"] / spec["mean_tpot_ms"] < 2.5


def test_bad_setups_are_one_line_each():
    with pytest.raises(ConfigError, match="acceptance_length: needed for eagle3"):
        speculative("eagle3")
    with pytest.raises(ConfigError, match="outside 1..3"):
        speculative("draft_model", 2, 3.5)
    with pytest.raises(ConfigError, match="method"):
        speculative("medusa", 2, 2.0)
    with pytest.raises(ConfigError, match="num_speculative_tokens: -1 is outside 0..16"):
        speculative("eagle3", -1, 2.0)
    with pytest.raises(ValueError, match="outside 1..2"):  # the object itself checks too
        Speculative(method="eagle3", num_speculative_tokens=1, acceptance_length=2.5)
    with pytest.raises(Chip2ChatError, match="llama-3.1-8b has none"):
        estimate("llama-3.1-8b", "h200-sxm", speculative=Speculative(method="mtp"))
    assert speculative(None) is None


def test_simulator_fast_path_equals_the_operator_sum():
    # the simulator's memoised cost and the accumulators agree, decode-only and mixed, pp 1 and 2
    from chip2chat.engine.factory import get_replica
    from chip2chat.engine.replica import StepShape

    spec = speculative("eagle3", 3, 2.5)
    for pp in (1, 2):
        r = get_replica("llama-3.1-8b", "h100-sxm", 1, pp, 1, "bf16", "bf16", speculative=spec)
        for shape in (StepShape.uniform_decode(32, 1500, r.windows),
                      StepShape(prefill=((0, 512),), decode_count=32, decode_keys=((None, 32 * 1500.0),))):
            assert r.fast_step(shape)[0] == pytest.approx(r.step_total(shape).time_s, rel=1e-9)
