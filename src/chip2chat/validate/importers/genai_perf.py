"""genai-perf exports: `profile_export_genai_perf.json` and `profile_export_genai_perf.csv`.

The JSON is genai-perf's statistics, one object per metric ({"unit", "avg", "p50", ...}:
time_to_first_token, inter_token_latency, output_token_throughput, request_throughput,
input_sequence_length, output_sequence_length, request_count) and `input_config`, the command's
arguments (model, concurrency, request_rate, backend, synthetic_input_tokens_stddev, ...; aiperf's
nested endpoint/loadgen form too). The CSV holds the same statistics by display name and no
arguments: the setup then comes from --setup. genai-perf's default load is concurrency 1.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from chip2chat.validate.importers.common import ENGINE_OF_BACKEND, rate_or_inf, table

CSV_NAMES = {"time to first token": "time_to_first_token", "inter token latency": "inter_token_latency",
             "request latency": "request_latency", "output sequence length": "output_sequence_length",
             "num output token": "output_sequence_length", "input sequence length": "input_sequence_length",
             "num input token": "input_sequence_length", "output token throughput": "output_token_throughput",
             "request throughput": "request_throughput", "request count": "request_count"}
"""The CSV's metric names without their unit (genai-perf's csv exporter over its versions: "Output
Sequence Length (tokens)", "Output Sequence Length", "Num Output Token") -> the JSON's keys."""


def read_csv(path: Path) -> dict:
    """The CSV's statistics in the JSON's shape ({"metric": {"avg": ...}}, milliseconds), no input_config."""
    run: dict = {}
    with open(path, newline="", encoding="utf-8") as f:
        header = None
        for cells in csv.reader(f):
            if not cells or not cells[0].strip():
                header = None
                continue
            if cells[0].strip() == "Metric":
                header = [c.strip().lower() for c in cells]
                continue
            name, unit = re.fullmatch(r"\s*(.*?)\s*(?:\((.*)\))?\s*", cells[0]).groups()
            key = CSV_NAMES.get(name.lower())
            if key and header:
                scale = 1e-6 if unit == "ns" else 1.0  # the oldest exports timed in nanoseconds
                stats = {}
                for column, cell in zip(header[1:], cells[1:]):
                    try:
                        stats["avg" if column in ("avg", "value") else column] = float(cell.replace(",", "")) * scale
                    except ValueError:
                        continue
                run[key] = stats
    return run


def row(run: dict, path: Path) -> dict:
    config = run.get("input_config") or {}
    loadgen, endpoint = config.get("loadgen") or {}, config.get("endpoint") or {}
    models = config.get("model") or endpoint.get("model_names") or []
    model = models[0] if isinstance(models, list) and models else (models or "")
    concurrency = config.get("concurrency", loadgen.get("concurrency"))
    rate = config.get("request_rate", loadgen.get("request_rate"))
    if concurrency is None and rate is None and config:
        concurrency = 1  # genai-perf's default load
    rate = rate_or_inf(rate)
    isl_sd = float(config.get("synthetic_input_tokens_stddev") or 0)
    osl_sd = float(config.get("output_tokens_stddev") or 0)
    isl, osl = _avg(run, "input_sequence_length"), _avg(run, "output_sequence_length")
    backend = str(config.get("backend") or "")
    return {
        "table": table(rate, concurrency), "model": model, "offered_qps": rate, "concurrency": concurrency or "",
        "num_requests": _round(_avg(run, "request_count")), "isl": _round(isl), "osl": _round(osl),
        "input_len_dist": f"lognormal {isl_sd / isl:.4g}" if isl_sd and isl else "fixed",
        "output_len_dist": f"lognormal {osl_sd / osl:.4g}" if osl_sd and osl else "fixed",
        "engine": ENGINE_OF_BACKEND.get(backend, ""),
        "throughput_tok_s": _avg(run, "output_token_throughput"), "req_per_s": _avg(run, "request_throughput"),
        "mean_ttft_ms": _avg(run, "time_to_first_token"), "mean_itl_ms": _avg(run, "inter_token_latency"),
        "throughput_metric": "output_token_throughput (genai-perf)", "source": f"genai-perf export {path.name}",
    }


def _avg(run: dict, key: str):
    stats = run.get(key)
    return stats.get("avg") if isinstance(stats, dict) else None


def _round(value) -> str:
    return str(max(1, round(float(value)))) if value else ""
