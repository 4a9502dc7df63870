"""Benchmark tools' result files (in the shapes the tools write, tests/validate/samples/) as validation rows."""

import dataclasses
import math
from pathlib import Path

import pytest

from chip2chat.validate.data import (
    ValidationDataError,
    read_measurements,
    write_measurements,
)
from chip2chat.validate.importers import detect, import_rows
from chip2chat.validate.run import predict

SAMPLES = Path(__file__).parent / "samples"
# what each tool does not record, as a user gives it with --setup
SETUPS = {
    "vllm_bench_serve.json": {},  # vllm bench serve --metadata gpu=H100 tp=1 precision=BF16 engine_version=0.10.1
    "sglang_bench_serving.jsonl": {"model": "meta-llama/Llama-3.1-8B-Instruct", "gpu": "H100", "tp": "1",
                                   "precision": "BF16"},
    "trtllm_bench_report.json": {"gpu": "H200"},
    "profile_export_genai_perf.json": {"gpu": "H100", "tp": "4", "precision": "BF16"},
    "profile_export_genai_perf.csv": {"model": "llama-3.1-70b", "gpu": "H100", "tp": "4", "precision": "BF16",
                                      "engine": "vllm", "concurrency": "16"},
}


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_a_tools_file_round_trips_through_the_csv_format_to_the_same_setup(tmp_path, name):
    imported = read_measurements(SAMPLES / name, SETUPS[name])
    csv = tmp_path / "as.csv"
    write_measurements(import_rows(SAMPLES / name, detect(SAMPLES / name), SETUPS[name]), csv)
    again = read_measurements(csv)
    strip = [dataclasses.replace(m, file="", line=0) for m in imported]
    assert strip == [dataclasses.replace(m, file="", line=0) for m in again]


def test_vllm_bench_serve_json_reads_its_keys_and_metadata():
    (m,) = read_measurements(SAMPLES / "vllm_bench_serve.json")
    # 204,800 / 200 prompts = 1,024 tokens in; 25,600 / 200 = 128 out; --metadata gave gpu, tp, precision
    assert (m.model, m.gpu, m.tp, m.precision, m.engine, m.version) == (
        "meta-llama/Llama-3.1-8B-Instruct", "H100", 1, "BF16", "vllm", "0.10.1")
    assert (m.isl, m.osl, m.offered_qps, m.concurrency, m.num_requests) == (1024, 128, 4.0, None, 200)
    assert (m.throughput_tok_s, m.mean_ttft_ms, m.mean_tpot_ms, m.mean_itl_ms) == (510.8, 45.1, 7.3, 7.2)
    assert m.table == "online_serving"


def test_sglang_jsonl_is_one_row_per_run_with_its_random_length_range():
    a, b = read_measurements(SAMPLES / "sglang_bench_serving.jsonl", SETUPS["sglang_bench_serving.jsonl"])
    # random dataset, range ratio 0.5: lengths uniform from int(1024 x 0.5) = 512 to 1024, 128 to 256
    assert a.input_len_dist == ("uniform", 512.0, 1024.0) and a.output_len_dist == ("uniform", 128.0, 256.0)
    assert (a.engine, a.offered_qps, a.concurrency, a.isl, a.osl) == ("sglang", 4.0, 16, 770, 192)
    assert math.isinf(b.offered_qps) and b.concurrency == 16 and b.table == "online_serving"
    assert (a.line, b.line) == (1, 2) and a.dataset == "random"


def test_trtllm_bench_report_reads_engine_world_and_performance():
    (m,) = read_measurements(SAMPLES / "trtllm_bench_report.json", {"gpu": "H200"})
    assert (m.engine, m.version, m.precision, m.kv_cache_dtype, m.kv_cache_fraction) == (
        "trtllm", "1.0.0 (PyTorch backend)", "FP8", "fp8", 0.95)
    assert (m.tp, m.pp, m.ep, m.num_requests, m.isl, m.osl) == (1, 1, None, 3000, 1000, 1000)
    assert m.table == "throughput_max_load" and math.isinf(m.offered_qps) and m.throughput_tok_s == 15230.0


def test_genai_perf_json_and_csv_give_the_same_measurement():
    js = read_measurements(SAMPLES / "profile_export_genai_perf.json", SETUPS["profile_export_genai_perf.json"])[0]
    cs = read_measurements(SAMPLES / "profile_export_genai_perf.csv", SETUPS["profile_export_genai_perf.csv"])[0]
    assert (js.concurrency, js.engine, js.isl, js.osl, js.num_requests) == (16, "vllm", 2048, 512, 100)
    for field in ("concurrency", "engine", "isl", "osl", "num_requests", "throughput_tok_s", "mean_ttft_ms",
                  "mean_itl_ms", "req_per_s"):
        assert getattr(js, field) == getattr(cs, field), field


def test_what_a_tool_does_not_record_is_asked_for_by_name():
    with pytest.raises(ValidationDataError, match=r"sglang_bench_serving.jsonl: the sglang result does not say "
                                                  r"model, gpu, tp, precision: give --setup model=VALUE"):
        read_measurements(SAMPLES / "sglang_bench_serving.jsonl")
    with pytest.raises(ValidationDataError, match=r"or vllm bench serve --metadata gpu=VALUE"):
        read_measurements(SAMPLES / "vllm_bench_serve.json", {"gpu": ""})
    with pytest.raises(ValidationDataError, match="--setup colour=...: 'colour' is not a column"):
        read_measurements(SAMPLES / "vllm_bench_serve.json", {"colour": "red"})


def test_a_file_no_tool_wrote_is_named(tmp_path):
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": 1}')
    with pytest.raises(ValidationDataError, match="odd.json: not a result file of vllm bench serve"):
        read_measurements(odd)
    odd.write_text("{not json")
    with pytest.raises(ValidationDataError, match=r"odd.json: not JSON \(line 1"):
        read_measurements(odd)


def test_an_imported_run_is_predicted_and_the_cli_takes_setup(capsys):
    from chip2chat.cli import main

    (m,) = read_measurements(SAMPLES / "vllm_bench_serve.json")
    rows = predict(dataclasses.replace(m, num_requests=50))
    # the file's medians (median_ttft_ms 43.0, median_tpot_ms 7.2, median_itl_ms 7.1) are compared too
    assert [r["metric"] for r in rows] == ["throughput_tok_s", "mean_ttft_ms", "mean_itl_ms", "mean_tpot_ms",
                                           "median_ttft_ms", "median_itl_ms", "median_tpot_ms"]
    assert all(r["status"] == "ok" and r["engine"] == "vllm" for r in rows)
    with pytest.raises(SystemExit) as info:
        main(["validate", "--data", str(SAMPLES / "vllm_bench_serve.json"), "--setup", "gpu"])
    assert info.value.code != 0 and "--setup takes KEY=VALUE" in capsys.readouterr().err
