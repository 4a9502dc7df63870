"""SGLang `bench_serving --output-file` JSONL (python/sglang/bench_serving.py): one run per line.

Keys read: backend, dataset_name, request_rate, max_concurrency, random_input_len,
random_output_len, random_range_ratio, completed, total_input_tokens, total_output_tokens,
output_throughput, request_throughput, mean_ttft_ms, mean_tpot_ms, mean_itl_ms (and with
--output-details input_lens/output_lens). The random dataset draws each length uniformly between
int(len x random_range_ratio) (at least 1) and len (sample_random_requests); other datasets keep
their mean. The model is not in the file: --setup model=NAME.
"""

from __future__ import annotations

from pathlib import Path

from chip2chat.validate.importers.common import ENGINE_OF_BACKEND, lengths, serving_result


def row(run: dict, path: Path) -> dict:
    dataset = str(run.get("dataset_name") or "")
    dists = lengths(run.get("input_lens")), lengths(run.get("output_lens"))
    if dataset.startswith("random") and "input_lens" not in run:
        ratio = float(run.get("random_range_ratio") or 0.0)
        dists = tuple(_random(run.get(key), ratio) for key in ("random_input_len", "random_output_len"))
    return {
        **serving_result(run), "num_requests": run.get("completed"), "input_len_dist": dists[0],
        "output_len_dist": dists[1], "dataset": dataset,
        "engine": ENGINE_OF_BACKEND.get(str(run.get("backend") or "sglang"), "sglang"),
        "throughput_metric": "output_throughput (SGLang bench_serving)",
        "source": f"SGLang bench_serving result {path.name}",
    }


def _random(length, ratio: float) -> str:
    if not length:
        return "fixed"
    low = max(int(int(length) * ratio), 1)
    return "fixed" if low >= int(length) else f"uniform {low} {int(length)}"
