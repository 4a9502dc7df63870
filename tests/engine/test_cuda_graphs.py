"""CUDA graphs as a setup switch (engine/engines.py, costs/measured.py): with them off a step pays
its all-reduces at the rate measured outside CUDA graphs, nothing else changes, and the CLI, the
Python API and a validation row with the same setup give the same number."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chip2chat.engine.engines import SERVING_ENGINES, cuda_graphs_default, host_overhead_default
from chip2chat.engine.estimate import estimate
from chip2chat.engine.factory import get_replica
from chip2chat.engine.replica import StepShape
from chip2chat.hardware import kernels
from chip2chat.serving.simulate import simulate
from chip2chat.validate.data import read_measurements
from chip2chat.validate.run import predict

CHIP = "h100-sxm"


def _decode_step_s(engine: str, tp: int, batch: int, cuda_graphs: bool | None) -> float:
    replica = get_replica("llama-3.1-70b", CHIP, tp, 1, 1, "bf16", "bf16", engine=engine, cuda_graphs=cuda_graphs)
    return replica.step_cost(StepShape.uniform_decode(batch, 1000, (None,))).time_s


@pytest.mark.parametrize("engine", ["trtllm", "vllm", "sglang"])
@pytest.mark.parametrize("batch", [1, 64])
def test_eager_tp4_step_pays_eager_minus_graph_all_reduce_per_all_reduce(engine, batch):
    # Llama-3.1-70B: 80 layers, two all-reduces each (after attention and after the MLP), of
    # batch x 8192 hidden x 2 bytes (bf16); nothing else in the step changes
    nbytes = batch * 8192 * 2
    graph = kernels.allreduce_time(CHIP, engine, 4, nbytes)
    eager = kernels.allreduce_time(CHIP, engine, 4, nbytes, cuda_graphs=False)
    extra = _decode_step_s(engine, 4, batch, False) - _decode_step_s(engine, 4, batch, True)
    assert extra == pytest.approx(2 * 80 * (eager - graph), rel=1e-9)
    assert eager > graph  # H100 TP4, 16 KB to 1 MB: the graph-timed custom kernels are the fastest


def test_eager_trtllm_all_reduce_is_nccl_the_one_kernel_timed_outside_graphs():
    # TensorRT-LLM's own kernel was timed in CUDA graphs only; NCCL by nccl-tests without -G
    # H100 TP4, 16 KB (Llama-70B, batch 1), measured points of the table: NCCL 12.46 us,
    # TensorRT-LLM's graph-timed kernel 3.27 us
    nbytes = 8192 * 2
    eager = kernels.allreduce_time(CHIP, "trtllm", 4, nbytes, cuda_graphs=False)
    assert eager == kernels.allreduce_time(CHIP, "trtllm", 4, nbytes, kernel="nccl")
    assert eager == pytest.approx(12.46e-6, abs=0.01e-6)
    assert kernels.allreduce_time(CHIP, "trtllm", 4, nbytes) == pytest.approx(3.27e-6, abs=0.01e-6)


def test_eager_vllm_all_reduce_takes_the_faster_of_its_eager_kernel_and_nccl():
    sizes = [2.0 ** k for k in range(9, 28)]
    eager = kernels.allreduce_time(CHIP, "vllm", 4, sizes, cuda_graphs=False)
    own = kernels.allreduce_time(CHIP, "vllm", 4, sizes, kernel="vLLM_custom_eager")
    nccl = kernels.allreduce_time(CHIP, "vllm", 4, sizes, kernel="nccl")
    assert list(eager) == [min(a, b) for a, b in zip(own, nccl)]


def test_every_shipped_all_reduce_kernel_says_how_it_was_timed():
    t = kernels.kernel_tables()
    names = {kernel for chip in kernels.chips_with_tables(t) for owner in t._chip(chip)["allreduce"].values()
             for kernel in owner}
    assert names <= set(kernels.ALLREDUCE_IN_CUDA_GRAPH)


def test_tp1_has_no_all_reduce_and_is_unchanged():
    for engine in SERVING_ENGINES:
        assert _decode_step_s(engine, 1, 64, False) == _decode_step_s(engine, 1, 64, True)


def test_defaults_are_the_engines_graphs_on():
    for engine in SERVING_ENGINES:
        assert get_replica("llama-3.1-8b", CHIP, 2, 1, 1, "bf16", "bf16", engine=engine).device.cuda_graphs
        assert _decode_step_s(engine, 4, 64, None) == _decode_step_s(engine, 4, 64, True)


@pytest.mark.parametrize("engine, version, expected", [
    ("trtllm", "0.14.0", False), ("trtllm", "0.17", False),  # the C++ runtime: cuda_graph_mode off
    ("trtllm", "1.0 (PyTorch backend)", True), ("trtllm", "0.17 (PyTorch backend)", True),
    ("trtllm", "", True), ("trtllm", "NIM 1.8.0", True), ("vllm", "0.6.3", True), ("sglang", "0.4.0", True)])
def test_default_by_engine_and_version(engine, version, expected):
    assert cuda_graphs_default(engine, version) is expected


@pytest.mark.parametrize("engine, version, python_loop", [
    ("trtllm", "0.14.0", False), ("trtllm", "NIM 1.8.0", False),  # C++ runtime: no Python loop per step
    ("trtllm", "1.0.0 (tensorrt backend)", False),  # as trtllm-bench's report names it
    ("trtllm", "1.0 (PyTorch backend)", True), ("trtllm", "0.17 (PyTorch backend)", True),
    ("trtllm", "", True), ("trtllm", "1.2.0", True)])  # as served today: the PyTorch backend
def test_host_time_by_engine_and_version(engine, version, python_loop):
    # the PyTorch backend's measured 29.4 us per sequence and step (catalog/calibration/engines.yaml)
    assert host_overhead_default(engine, version) == (pytest.approx(29.4e-6) if python_loop else 0.0)
    assert host_overhead_default("vllm", version) == 0.0  # unmeasured for vLLM


def test_shipped_rows_take_the_default_of_their_version():
    from chip2chat.validate.data import VALIDATION_DIR

    by_version = {}
    for name in ("trtllm_perf.csv", "trtllm_perf_v1.csv"):
        for m in read_measurements(VALIDATION_DIR / name):
            by_version.setdefault(m.version, set()).add(m.cuda_graphs)
    assert by_version["0.14.0"] == {False} and by_version["0.17"] == {False}
    assert by_version["1.0 (PyTorch backend)"] == {True}


ROW = ("table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,engine,engine_version,offered_qps,"
       "num_requests,mean_ttft_ms,mean_tpot_ms,cuda_graphs\n"
       "online_serving,llama-3.1-8b,H100 80GB HBM3,2,BF16,256,32,100,test row,vllm,0.6.3,4,60,50,10,{}\n")


def _row(tmp_path, cell: str):
    path = tmp_path / "row.csv"
    path.write_text(ROW.format(cell))
    return path


def test_column_overrides_the_default_and_bad_value_names_the_column(tmp_path):
    assert read_measurements(_row(tmp_path, "false"))[0].cuda_graphs is False
    assert read_measurements(_row(tmp_path, ""))[0].cuda_graphs is True
    with pytest.raises(Exception, match="column cuda_graphs: expected true or false"):
        read_measurements(_row(tmp_path, "maybe"))


def _cli(*args) -> dict:
    p = subprocess.run([sys.executable, "-m", "chip2chat.cli", *args, "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_same_answer_from_cli_api_and_validation_row(tmp_path):
    common = ("--model", "llama-3.1-8b", "--hardware", CHIP, "--tensor-parallel-size", "2", "--engine", "vllm",
              "--input-len", "256", "--output-len", "32")
    api = estimate("llama-3.1-8b", CHIP, tp=2, batch=8, input_len=256, output_len=32, engine="vllm",
                   cuda_graphs=False)
    cli = _cli("estimate", *common, "--batch", "8", "--enforce-eager")
    assert cli["tpot_s"] == api.tpot_s and cli["ttft_s"] == api.ttft_s and cli["cuda_graphs"] is False
    on = estimate("llama-3.1-8b", CHIP, tp=2, batch=8, input_len=256, output_len=32, engine="vllm")
    assert api.tpot_s > on.tpot_s

    sim = simulate("llama-3.1-8b", CHIP, tp=2, engine="vllm", cuda_graphs=False, input_len=256, output_len=32,
                   rate_per_s=4, num_requests=60, seed=0).summary
    cli_sim = _cli("simulate", *common, "--request-rate", "4", "--num-requests", "60", "--seed", "0",
                   "--enforce-eager")
    row = {r["metric"]: r["predicted"] for r in predict(read_measurements(_row(tmp_path, "false"))[0])}
    assert cli_sim["cuda_graphs"] is False and sim["cuda_graphs"] is False
    for metric in ("mean_ttft_ms", "mean_tpot_ms"):
        assert cli_sim[metric] == sim[metric] == row[metric]
    assert row["throughput_tok_s"] == sim["output_throughput"] == cli_sim["output_throughput"]
    on = simulate("llama-3.1-8b", CHIP, tp=2, engine="vllm", input_len=256, output_len=32, rate_per_s=4,
                  num_requests=60, seed=0).summary
    assert sim["mean_tpot_ms"] > on["mean_tpot_ms"]
