"""`vllm bench serve --save-result` JSON (vllm/benchmarks/serve.py; benchmarks/benchmark_serving.py before).

Keys read: model_id, backend, num_prompts, request_rate ("inf" or a number), max_concurrency,
completed, total_input_tokens, total_output_tokens, output_throughput, request_throughput,
mean_ttft_ms, mean_tpot_ms, mean_itl_ms, and with --save-detailed input_lens/output_lens; any
--metadata KEY=VALUE pair that names a format column (gpu, tp, precision, engine_version, ...).
The engine is the backend's when it names one (vllm, sglang, ...), else vLLM.
"""

from __future__ import annotations

from pathlib import Path

from chip2chat.validate.importers.common import ENGINE_OF_BACKEND, lengths, metadata, serving_result


def row(run: dict, path: Path) -> dict:
    return {
        **serving_result(run), "model": run.get("model_id"),
        "num_requests": run.get("num_prompts") or run.get("completed"),
        "input_len_dist": lengths(run.get("input_lens")), "output_len_dist": lengths(run.get("output_lens")),
        "engine": ENGINE_OF_BACKEND.get(str(run.get("backend") or run.get("endpoint_type") or "vllm"), "vllm"),
        "total_token_tput_tok_s": run.get("total_token_throughput"),
        "throughput_metric": "output_throughput (vllm bench serve)",
        "source": f"vllm bench serve result {path.name} ({run.get('date', 'undated')})",
        **metadata(run),
    }
