"""What the tool importers share: rates, lengths and the format columns a run carries."""

from __future__ import annotations

from chip2chat.validate.data import COLUMNS

ENGINE_OF_BACKEND = {"vllm": "vllm", "vllm-chat": "vllm", "sglang": "sglang", "sglang-native": "sglang",
                     "sglang-oai": "sglang", "sglang-oai-chat": "sglang", "trt": "trtllm", "tensorrt-llm": "trtllm",
                     "tensorrtllm": "trtllm", "trtllm": "trtllm"}
"""A benchmark client's --backend (or service) -> the serving engine it talks to, where it says one."""


def rate_or_inf(value) -> str:
    """A tool's request rate: "inf" (all at once) for inf, None or a non-positive rate."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return "inf"
    return "inf" if not 0 < rate < float("inf") else repr(rate)


def table(rate: str, concurrency) -> str:
    """Every request queued at once with no concurrency limit is the maximum-throughput table."""
    return "throughput_max_load" if rate == "inf" and not concurrency else "online_serving"


def lengths(values) -> str:
    """Per-request lengths as a distribution: fixed when all equal, else uniform over their range."""
    values = [int(v) for v in values or () if v is not None]
    if not values or min(values) == max(values):
        return "fixed"
    return f"uniform {min(values)} {max(values)}"


def mean_tokens(total, count) -> str:
    return str(max(1, round(float(total) / float(count)))) if total and count else ""


def serving_result(run: dict) -> dict:
    """The columns of the keys vLLM's benchmark_serving wrote and SGLang's bench_serving kept: the load
    (request_rate, max_concurrency), mean lengths from the completed requests' totals, throughputs
    and mean latencies."""
    rate, concurrency = rate_or_inf(run.get("request_rate")), run.get("max_concurrency")
    completed = run.get("completed")
    return {
        "table": table(rate, concurrency), "offered_qps": rate, "concurrency": concurrency,
        "isl": mean_tokens(run.get("total_input_tokens"), completed),
        "osl": mean_tokens(run.get("total_output_tokens"), completed),
        "throughput_tok_s": run.get("output_throughput"), "req_per_s": run.get("request_throughput"),
        "mean_ttft_ms": run.get("mean_ttft_ms"), "mean_tpot_ms": run.get("mean_tpot_ms"),
        "mean_itl_ms": run.get("mean_itl_ms"),
    }


def metadata(run: dict) -> dict:
    """Format columns a run carries as plain keys (vllm bench serve --metadata KEY=VALUE)."""
    return {k: v for k, v in run.items() if k in COLUMNS and not isinstance(v, (dict, list))}
