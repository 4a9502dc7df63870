"""The command line: JSON contract, one-line errors, exit codes, no tracebacks."""

import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "chip2chat.cli", *args], capture_output=True, text=True)


def test_estimate_json():
    p = run("estimate", "--model", "llama-3.1-70b", "--hardware", "h200", "--tensor-parallel-size", "8",
            "--batch", "64", "--input-len", "1024", "--output-len", "256", "--weight-dtype", "fp8", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["fits"] and d["kv_bytes_per_token"] == 327680 and d["decode_bound"] in ("memory", "compute",
                                                                                     "communication")


def test_estimate_table_prints():
    p = run("estimate", "--model", "llama-3.1-8b", "--hardware", "h100")
    assert p.returncode == 0 and "TPOT" in p.stdout


def _one_line_error(p, code, text):
    assert p.returncode == code
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def test_unknown_model_one_line_with_closest():
    _one_line_error(run("estimate", "--model", "llama-3.1-70c", "--hardware", "h100"), 2, "closest: llama-3.1-70b")


def test_unknown_hardware_one_line():
    _one_line_error(run("estimate", "--model", "llama-3.1-8b", "--hardware", "h1000"), 2, "unknown hardware")


def test_tp_not_dividing_heads():
    _one_line_error(run("estimate", "--model", "llama-3.1-8b", "--hardware", "h100", "-tp", "3"), 2,
                    "does not divide the 32 attention heads")


def test_negative_length():
    _one_line_error(run("estimate", "--model", "llama-3.1-8b", "--hardware", "h100", "--output-len", "-3"), 2,
                    "output_len must be a positive integer")


def test_plan_that_does_not_fit_gives_bytes_needed_vs_available():
    p = run("estimate", "--model", "llama-3.1-405b", "--hardware", "h100", "-tp", "8", "--json")
    assert p.returncode == 1 and json.loads(p.stdout)["fits"] is False
    err = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "does not fit: needs" in err[0] and "GB available" in err[0]


def test_config_missing_field(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"hidden_size": 4096, "num_hidden_layers": 2, "vocab_size": 1000}))
    _one_line_error(run("estimate", "--model", str(cfg), "--hardware", "h100"), 2,
                    "num_attention_heads: missing")


def test_catalog_list_and_show():
    p = run("catalog", "list", "accelerators")
    assert p.returncode == 0 and "h200-sxm" in p.stdout and "mi355x" in p.stdout
    p = run("catalog", "show", "deepseek-v3")
    assert p.returncode == 0 and "deepseek-ai/DeepSeek-V3" in p.stdout


def test_simulate_json_and_a_malformed_trace(tmp_path):
    p = run("simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--request-rate", "5",
            "--num-requests", "200", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["completed"] == 200 and "p99_ttft_ms" in d and "request_goodput" in d
    bad = tmp_path / "trace.csv"
    bad.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,100,20\n"
                   "2023-11-16 18:15:47.0000000,abc,20\n")
    _one_line_error(run("simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--trace", str(bad),
                        "--trace-format", "azure"), 2, "line 3")
    _one_line_error(run("simulate", "--model", "llama-3.1-8b", "--hardware", "h100",
                        "--host-overhead-per-seq-us", "-3"), 2, "--host-overhead-per-seq-us must be >= 0")
    _one_line_error(run("simulate", "--model", "llama-3.1-8b", "--hardware", "h100",
                        "--cuda-graph-batch-sizes", "1,2,x"), 2, "--cuda-graph-batch-sizes expects batch sizes")


def test_validate_user_csv_lists_skipped_rows(tmp_path):
    csv = tmp_path / "mine.csv"
    csv.write_text("table,trtllm_version,model,gpu,num_gpus,tp,pp,precision,isl,osl,offered_qps,throughput_tok_s,"
                   "throughput_metric,req_per_s,mean_ttft_ms,mean_itl_ms,total_token_tput_tok_s,source\n"
                   "throughput_max_load,0.17,GPT-7,H100 80GB HBM3,1,1,1,FP8,128,128,inf,1000,out,,,,,me\n")
    p = run("validate", "--data", str(csv), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["summary"]["skipped"] == 1 and d["rows"][0]["reason"] == "unknown model 'GPT-7'"


def test_an_unwritable_output_folder_is_one_line_not_a_traceback():
    _one_line_error(run("plan", "--out", "/proc/no-such-dir/plan"), 2, "/proc/no-such-dir: No such file")


def test_simulate_cuda_graph_padding_from_the_cli_is_the_apis():
    from chip2chat.serving.simulate import simulate

    p = run("simulate", "--model", "llama-3.1-8b", "--hardware", "h100", "--arrival", "all_at_once",
            "--concurrency", "1", "--num-requests", "4", "--cuda-graph-batch-sizes", "64,128", "--json")
    assert p.returncode == 0, p.stderr
    api = simulate("llama-3.1-8b", "h100", arrival="all_at_once", concurrency=1, num_requests=4,
                   cuda_graph_batch_sizes=(64, 128)).summary
    plain = simulate("llama-3.1-8b", "h100", arrival="all_at_once", concurrency=1, num_requests=4).summary
    assert json.loads(p.stdout)["mean_tpot_ms"] == api["mean_tpot_ms"] > plain["mean_tpot_ms"]
