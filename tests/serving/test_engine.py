"""simulate runs the serving engine's scheduler and host time where the settings leave them unset,
and reports the engine; a value written (even the default) is kept."""

import pytest

from chip2chat.engine.engines import serving_engine
from chip2chat.serving.config import SchedulerConfig
from chip2chat.serving.simulate import simulate

SMALL = dict(model="llama-3.1-8b", hardware="h100", num_requests=40, rate_per_s=5, input_len=256, output_len=32)


def test_the_engine_brings_its_scheduler_and_host_time():
    trt = simulate(engine="trtllm", **SMALL).summary
    vllm = simulate(engine="vllm", **SMALL).summary
    assert (trt["engine"], trt["scheduler"], trt["fidelity"]) == ("trtllm", "trtllm-guaranteed-no-evict", "measured")
    assert (vllm["engine"], vllm["scheduler"]) == ("vllm", "vllm")
    assert simulate(**SMALL).summary["engine"] == "vllm"  # the default engine
    assert trt["mean_tpot_ms"] != vllm["mean_tpot_ms"]  # other kernels, other host time


def test_settings_written_are_kept_whatever_the_engine():
    trt = serving_engine("trtllm")
    assert SchedulerConfig().for_engine(trt).scheduler == "trtllm-guaranteed-no-evict"
    assert SchedulerConfig().for_engine(trt).host_overhead_per_seq_s == pytest.approx(29.4e-6)
    kept = SchedulerConfig(scheduler="vllm", host_overhead_per_seq_s=0.0).for_engine(trt)
    assert (kept.scheduler, kept.host_overhead_per_seq_s) == ("vllm", 0.0)
    assert simulate(engine="trtllm", scheduler="vllm", **SMALL).summary["scheduler"] == "vllm"
    # a settings object given with keywords keeps only what it set, so the engine fills the rest
    base = SchedulerConfig(max_num_seqs=64)
    s = simulate(engine="trtllm", scheduling=base, block_size=32, **SMALL).summary
    assert s["scheduler"] == "trtllm-guaranteed-no-evict" and s["block_size"] == 32


def test_an_unknown_engine_is_one_line():
    from chip2chat.errors import Chip2ChatError

    with pytest.raises(Chip2ChatError, match="unknown serving engine 'tgi'"):
        simulate(engine="tgi", **SMALL)
