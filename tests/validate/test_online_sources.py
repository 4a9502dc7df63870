"""The published online-serving sources shipped as validation rows (catalog/validation/README.md):
each file loads with its row count, every row cites its source, the setup columns say what the
source says, and medians are compared with the simulator's medians (never with its means)."""

import dataclasses
import re

import pytest

from chip2chat.validate.data import VALIDATION_DIR, ValidationDataError, read_measurements, shipped_files
from chip2chat.validate.run import _load, _settings, predict

# rows per file: a dropped file or a lost row fails here
ROWS = {"nim_online.csv": 8,                  # NIM 1.8.0, concurrency 1, 5, 25, 50, 100, 150, 200, 250
        "sglang_vllm060_online.csv": 12,      # 2 models x 2 rates x 2 engines online + 4 offline rows
        "dstack_mi300x_vllm.csv": 21}         # 80-token sweep N = 1..4096 (13), 10,000-token N = 1..128 (8)


@pytest.mark.parametrize("name, rows", ROWS.items())
def test_each_online_source_is_shipped_whole_and_cited(name, rows):
    assert name in {f.name for f in shipped_files()}
    ms = read_measurements(VALIDATION_DIR / name)
    assert len(ms) == rows
    # every row names where it comes from and when it was read
    assert all(re.search(r"(github\.com|docs\.nvidia\.com)/\S+.*read 2026-12-01", m.source) for m in ms)


def test_the_sglang_readme_setup_is_in_the_columns():
    ms = read_measurements(VALIDATION_DIR / "sglang_vllm060_online.csv")
    online = [m for m in ms if m.table == "online_serving"]
    # the README's online tables publish medians only, at RPS 4 (1200 prompts) and 8 (2400)
    assert all(m.throughput_tok_s is None and m.mean_ttft_ms is None and m.median_ttft_ms for m in online)
    assert {(m.offered_qps, m.num_requests) for m in online} == {(4.0, 1200), (8.0, 2400)}
    sglang_70b = [m for m in online if m.engine == "sglang" and m.tp == 4]
    # mem_fraction_static is 0.85 at TP 4 by default (the README's notes); vLLM keeps its default 0.9
    assert {m.kv_cache_fraction for m in sglang_70b} == {0.85}
    assert {m.kv_cache_fraction for m in ms if m.engine == "vllm"} == {0.9}
    assert {(m.engine, m.version) for m in ms} == {("sglang", "0.3.0"), ("vllm", "0.6.0")}
    # osl: the README's offline output token throughput / request throughput, e.g. 4281.51 / 22.03 = 194.3
    for m in ms:
        if m.table == "throughput_max_load":
            assert m.throughput_tok_s / m.req_per_s == pytest.approx(m.osl, abs=0.5)


def test_dstack_lengths_are_the_published_totals_per_request():
    for m in read_measurements(VALIDATION_DIR / "dstack_mi300x_vllm.csv"):
        n, tin, tout = map(int, re.search(r"Successful requests (\d+), Total input tokens (\d+), "
                                          r"Total generated tokens (\d+)", m.source).groups())
        assert (m.num_requests, m.isl, m.osl) == (n, round(tin / n), round(tout / n))
        assert m.engine == "vllm" and m.tp == 8 and m.gpu == "MI300X" and m.offered_qps == float("inf")


def test_medians_are_compared_with_the_simulated_medians():
    from chip2chat.serving.simulate import simulate
    from chip2chat.validate.names import match_hardware, match_model

    (m,) = [m for m in read_measurements(VALIDATION_DIR / "sglang_vllm060_online.csv")
            if m.engine == "sglang" and m.tp == 1 and m.offered_qps == 4.0]
    m = dataclasses.replace(m, num_requests=60)
    rows = predict(m)
    assert [r["metric"] for r in rows] == ["median_ttft_ms", "median_itl_ms", "median_tpot_ms"]
    # the same setup simulated directly: each prediction is the simulator's median of that name
    s = simulate(**_settings(m, match_model(m.model), match_hardware(m.gpu)), **_load(m)).summary
    assert [r["predicted"] for r in rows] == [s["median_ttft_ms"], s["median_itl_ms"], s["median_tpot_ms"]]
    assert s["median_ttft_ms"] != s["mean_ttft_ms"]


def test_a_row_needs_some_measured_metric(tmp_path):
    header = "table,model,gpu,tp,precision,isl,osl,offered_qps,source"
    path = tmp_path / "mine.csv"
    path.write_text(header + ",median_itl_ms\nonline_serving,Llama 3.1 8B,H100 SXM 80GB,1,BF16,200,200,4,doc,\n")
    with pytest.raises(ValidationDataError, match=r"mine.csv: row 2: column throughput_tok_s: a row needs a "
                                                  r"measured metric: throughput_tok_s or one of mean_ttft_ms"):
        read_measurements(path)
    path.write_text(header + ",median_itl_ms\nonline_serving,Llama 3.1 8B,H100 SXM 80GB,1,BF16,200,200,4,doc,12.5\n")
    (m,) = read_measurements(path)
    assert m.throughput_tok_s is None and m.median_itl_ms == 12.5
