"""Validation data, name matching, engine limits and the comparison (never a fit)."""

import math

import pytest

from chip2chat.validate.data import LEGACY_FILES, ValidationDataError, read_measurements, shipped_files
from chip2chat.validate.names import match_hardware, match_model
from chip2chat.validate.run import predict, summarize, trtllm_engine_limits, validate

HEADER = ("table,trtllm_version,model,gpu,num_gpus,tp,pp,precision,isl,osl,offered_qps,throughput_tok_s,"
          "throughput_metric,req_per_s,mean_ttft_ms,mean_itl_ms,total_token_tput_tok_s,source\n")
GOOD = "throughput_max_load,0.17,LLaMA v3.1 8B,H100 80GB HBM3,1,1,1,FP8,1000,1000,inf (all requests queued),15244.78,out,,,,,doc\n"


def test_shipped_rows_all_cite_and_all_resolve():
    rows = [m for f in shipped_files() for m in read_measurements(f)]
    assert len(rows) >= 445 + 300
    assert all(m.source for m in rows)
    assert {m.model for m in rows if match_model(m.model) is None} == set()
    assert {m.gpu for m in rows if match_hardware(m.gpu) is None} == set()


def test_every_shared_row_is_shipped_unchanged():
    from pathlib import Path

    shared = Path(__file__).parents[3] / "shared" / "validation" / "trtllm_perf.csv"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    shipped = [f for f in shipped_files() if f.name == "trtllm_perf.csv"][0]
    assert shipped.read_text() == shared.read_text()


@pytest.mark.parametrize("row, message", [
    (GOOD.replace("FP8", "FP9"), r"row 2: column precision: expected one of"),
    (GOOD.replace(",1000,1000,", ",lots,1000,"), r"row 2: column isl: expected a positive integer, got 'lots'"),
    (GOOD.replace("15244.78", "-3"), r"row 2: column throughput_tok_s: expected a positive number"),
    (GOOD.replace(",1,1,1,", ",2,1,1,"), r"row 2: column num_gpus: expected tp x pp = 1"),
])
def test_malformed_csv_names_file_row_and_column(tmp_path, row, message):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + row)
    with pytest.raises(ValidationDataError, match=rf"mine.csv: {message}"):
        read_measurements(path)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER.replace("osl,", "") + GOOD)
    with pytest.raises(ValidationDataError, match=r"row 1: missing column 'osl'"):
        read_measurements(path)


def test_trtllm_engine_limits_by_hand():
    # Llama-3.1-8B FP8 on one H100 (80 GiB), 1000/1000: engine 8.03 GiB; KV 32 layers x 8 heads x
    # 2 x 128 x 1 byte = 64 KiB per token; (80 - 7.48) x 0.95 / (2000 x 64 KiB) = 525.6 requests
    # -> batch 128 x ceil(525.6 / 128) = 640; tokens 525.6 x 2 = 1051 -> at least 2048
    assert trtllm_engine_limits(8.03e9, 1.0, 2 * 128 * 1.0, 32, 8, 1, 1, 80.0, 1000, 1000) == (640, 2048)
    # 128/128: thousands of requests fit, capped at 4096 -> 4096; tokens 4096 x 2 = 8192
    assert trtllm_engine_limits(8.03e9, 1.0, 256.0, 32, 8, 1, 1, 80.0, 128, 128) == (4096, 8192)


def test_unrunnable_rows_are_listed_as_skipped_with_the_reason(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + GOOD.replace("LLaMA v3.1 8B", "GPT-7") + GOOD.replace("H100 80GB HBM3", "TPU v9")
                    + GOOD.replace("LLaMA v3.1 8B", "Llama 3.1 405B").replace("H100 80GB HBM3", "L40S"))
    df = validate([str(path)], workers=1)
    assert list(df["status"]) == ["skipped"] * 3
    assert "unknown model 'GPT-7'" in df["reason"][0] and "unknown GPU 'TPU v9'" in df["reason"][1]
    assert "weights do not fit" in df["reason"][2]
    assert summarize(df)["skipped"] == 3


def test_prediction_error_is_predicted_over_measured(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + GOOD)
    (row,) = predict(read_measurements(path)[0])
    assert row["status"] == "ok" and row["predicted"] > 0
    assert row["error_pct"] == pytest.approx((row["predicted"] / 15244.78 - 1) * 100)


def test_online_rows_compare_throughput_ttft_and_itl(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + "online_serving,0.14.0,LLaMA 3.1 8B,H100 80GB HBM3,1,1,1,BF16,467,256,4,1001,out,4,23,7,"
                    "2828,doc\n")
    rows = predict(read_measurements(path)[0])
    assert [r["metric"] for r in rows] == ["throughput_tok_s", "mean_ttft_ms", "mean_itl_ms"]
    # 4 requests/s x 256 tokens: the offered load caps throughput near 1,024 tokens/s
    assert rows[0]["predicted"] == pytest.approx(1024, rel=0.1)
    assert all(math.isfinite(r["predicted"]) for r in rows)


def test_rows_run_with_attention_dp_only_where_the_source_says_so():
    # TRT-LLM v1.0's perf overview ran MoE models with enable_attention_dp; the 0.x rows did not
    from chip2chat.validate.run import _settings

    rows = [m for f in shipped_files() for m in read_measurements(f)]
    v1 = next(m for m in rows if m.model == "Qwen3-235B-A22B" and m.tp == 8)
    old = next(m for m in rows if m.model == "Mixtral 8x7B" and m.tp > 1)
    dense = next(m for m in rows if "enable_attention_dp" in m.source and m.model == "Llama 3.3 70B" and m.tp > 1)
    s = _settings(v1, match_model(v1.model), match_hardware(v1.gpu))
    assert s["attention_dp"] and s["ep"] == 8
    for m in (old, dense):
        s = _settings(m, match_model(m.model), match_hardware(m.gpu))
        assert not s["attention_dp"] and s["ep"] == 1


def _run_cli(capsys, *args):
    from chip2chat.cli import main

    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    return info.value.code, capsys.readouterr().out


def test_summary_only_json_prints_only_the_summary(tmp_path, capsys):
    # --summary-only used to be ignored by --json, which printed every row anyway
    import json

    path = tmp_path / "mine.csv"
    path.write_text(HEADER + GOOD.replace("LLaMA v3.1 8B", "GPT-7") * 3)  # skipped rows: no simulation to wait for
    code, out = _run_cli(capsys, "validate", "--data", path, "--summary-only", "--json")
    assert code == 0 and list(json.loads(out)) == ["summary"]
    assert json.loads(out)["summary"]["skipped"] == 3
    code, out = _run_cli(capsys, "validate", "--data", path, "--json")
    assert code == 0 and list(json.loads(out)) == ["rows", "summary"] and len(json.loads(out)["rows"]) == 3


def test_summary_only_tables_count_skipped_rows_by_reason(tmp_path):
    # a summary of 500 skipped rows is one line per reason, not 500 lines
    from chip2chat.report.tables import validation_tables

    path = tmp_path / "mine.csv"
    path.write_text(HEADER + GOOD.replace("LLaMA v3.1 8B", "GPT-7") * 4 + GOOD.replace("H100 80GB HBM3", "TPU v9"))
    df = validate([str(path)], workers=1)
    skipped = validation_tables(df, summarize(df), rows=False)[-1]
    assert skipped.row_count == 2 and [c.header for c in skipped.columns] == ["reason", "rows", "first file:line"]
    assert validation_tables(df, summarize(df), rows=True)[-1].row_count == 5


def test_a_process_pool_gives_the_same_rows_as_one_process(tmp_path):
    # more than 20 rows with workers > 1 run in a pool (whose workers ignore Ctrl-C; see test_interrupt.py)
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + "".join(GOOD.replace("LLaMA v3.1 8B", f"GPT-{i}") for i in range(24)))
    pooled, single = validate([str(path)], workers=2), validate([str(path)], workers=1)
    assert len(pooled) == 24 and pooled.equals(single)


def test_rows_carry_their_serving_engine(tmp_path):
    # the first shipped files have no engine column: every row is TensorRT-LLM's (their trtllm_version);
    # a file may name each row's engine, and the row is then run under it (kernels, scheduler, host)
    legacy = [f for f in shipped_files() if f.name in LEGACY_FILES]
    assert len(legacy) == 2 and {m.engine for f in legacy for m in read_measurements(f)} == {"trtllm"}
    path = tmp_path / "mine.csv"
    path.write_text(HEADER.replace("source\n", "source,engine\n") + GOOD.replace("doc\n", "doc,vllm\n")
                    + GOOD.replace("doc\n", "doc,\n"))
    vllm, default = read_measurements(path)
    assert (vllm.engine, default.engine) == ("vllm", "trtllm")
    rows = [predict(m)[0] for m in (vllm, default)]
    assert [r["engine"] for r in rows] == ["vllm", "trtllm"] and rows[0]["source"].startswith("vLLM 0.17")
    assert rows[0]["architecture"] == "dense" and rows[0]["predicted"] != rows[1]["predicted"]
    path.write_text(HEADER.replace("source\n", "source,engine\n") + GOOD.replace("doc\n", "doc,tgi\n"))
    with pytest.raises(ValidationDataError, match="row 2: column engine: expected one of trtllm, vllm, sglang"):
        read_measurements(path)


def test_summary_measures_the_max_throughput_rows_by_architecture_and_hardware(tmp_path):
    path = tmp_path / "mine.csv"
    mixtral = GOOD.replace("LLaMA v3.1 8B", "Mixtral 8x7B").replace(",1,1,1,", ",2,2,1,")
    online = GOOD.replace("throughput_max_load", "online_serving").replace("inf (all requests queued)", "5")
    path.write_text(HEADER + GOOD + mixtral + online)
    s = summarize(validate([str(path)], workers=1))
    assert s["max_throughput"]["n"] == 2 and s["per_metric"]["throughput_tok_s"]["n"] == 3
    assert set(s["max_throughput_per_architecture"]) == {"dense", "moe"}
    assert set(s["max_throughput_per_hardware"]) == {"h100-sxm"} and set(s["per_engine"]) == {"trtllm"}
