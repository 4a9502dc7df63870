"""The serving engine is a dimension: one table by name (engine/engines.py) sets the kernels that
time a chip with measured tables, the scheduler and the host time; estimate reports it."""

import pytest

from chip2chat import estimate
from chip2chat.engine.defaults import ENGINE
from chip2chat.engine.engines import SERVING_ENGINES, serving_engine
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware import kernels
from chip2chat.hardware.load import load_hardware


def test_one_engine_per_kernel_table_engine_and_its_properties():
    assert tuple(SERVING_ENGINES) == kernels.ENGINES and ENGINE == "vllm"
    trt, vllm, sglang = (serving_engine(n) for n in ("trtllm", "vllm", "sglang"))
    assert (trt.scheduler, vllm.scheduler, sglang.scheduler) == ("trtllm-guaranteed-no-evict", "vllm", "vllm")
    # TensorRT-LLM's PyTorch backend was measured (engines.yaml); vLLM's and SGLang's were not
    assert trt.host_overhead_per_seq_s == pytest.approx(29.4e-6)
    assert vllm.host_overhead_per_seq_s == sglang.host_overhead_per_seq_s == 0.0
    with pytest.raises(Chip2ChatError, match="unknown serving engine 'tgi'; known: trtllm, vllm, sglang"):
        serving_engine("tgi")


def test_the_engine_chooses_the_kernels_on_a_measured_chip_only():
    kw = dict(batch=1, input_len=2048, output_len=64, weight_dtype="fp8", kv_dtype="fp8")
    h200 = {e: estimate("llama-3.1-8b", "h200", engine=e, **kw) for e in SERVING_ENGINES}
    assert {r.engine for r in h200.values()} == set(SERVING_ENGINES)
    assert all(r.fidelity == "measured" for r in h200.values())
    assert len({r.ttft_s for r in h200.values()}) == 3  # three engines' kernels, three answers
    mi300x = [estimate("llama-3.1-8b", "mi300x", engine=e, **kw) for e in SERVING_ENGINES]
    assert {(r.fidelity, r.ttft_s, r.tpot_s) for r in mi300x} == {("roofline", mi300x[0].ttft_s, mi300x[0].tpot_s)}


def test_estimate_pays_the_engines_host_time_when_it_is_longer():
    # 29.4 us a sequence: at 2,048 sequences 60 ms of host time per decode step, longer than the
    # GPU's for an 8B model; vLLM's (unmeasured) is 0 and the GPU sets the step
    trt = estimate("llama-3.1-8b", "h200", batch=2048, input_len=128, output_len=128, weight_dtype="fp8",
                   kv_dtype="fp8", engine="trtllm")
    assert trt.tpot_s == pytest.approx(2048 * 29.4e-6)
    gpu_only = estimate("llama-3.1-8b", "h200", batch=2048, input_len=128, output_len=128, weight_dtype="fp8",
                        kv_dtype="fp8", engine="vllm")
    assert gpu_only.tpot_s < trt.tpot_s


def test_a_chip_gets_the_same_tables_by_name_object_and_file(tmp_path):
    import yaml

    from chip2chat.catalog import read_yaml

    path = tmp_path / "nvl.yaml"
    path.write_text(yaml.safe_dump(read_yaml("accelerators.yaml")["h200-nvl"]))
    runs = [estimate("llama-3.1-8b", hw, batch=8, engine="trtllm").to_dict()
            for hw in ("h200-nvl", load_hardware("h200-nvl")[1], str(path))]
    assert runs[0]["fidelity"] == "measured" and runs[0] == runs[1] == runs[2]
