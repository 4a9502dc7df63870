"""`trtllm-bench throughput|latency --report_json` (tensorrt_llm/bench/dataclasses/reporting.py).

Sections read: engine (model, version, backend TRT or Pytorch, quantization, kv_cache_dtype),
world_info (tp_size, pp_size, ep_size, kv_cache_percentage: kv_cache_free_gpu_mem_fraction),
request_info (num_requests, avg_input_length, avg_output_length), performance
(system_output_throughput_tok_s, request_throughput_req_s) and streaming_metrics (avg_ttft_ms,
avg_tpot_ms) when it streamed. trtllm-bench queues every request at once unless run with
--concurrency, which the report does not keep: --setup concurrency=N. The GPU: --setup gpu=NAME.
"""

from __future__ import annotations

from pathlib import Path

QUANT_PRECISION = {"FP8": "FP8", "FP8_BLOCK_SCALES": "FP8", "NVFP4": "NVFP4", "W4A16_AWQ": "INT4", "W4A8_AWQ": "INT4",
                   "W8A16": "INT8", "W8A8_SQ_PER_CHANNEL": "INT8", "MXFP4": "MXFP4"}
KV_DTYPE = {"FP8": "fp8", "INT8": "int8", "NVFP4": "fp4"}


def row(run: dict, path: Path) -> dict:
    engine, world = run.get("engine", {}), run.get("world_info", {})
    requests, perf = run.get("request_info", {}), run.get("performance", {})
    streaming = run.get("streaming_metrics") or {}
    quant = str(engine.get("quantization") or "").upper()
    dtype = str(engine.get("dtype") or "").lower()
    precision = QUANT_PRECISION.get(quant) or {"float16": "FP16", "bfloat16": "BF16"}.get(dtype, "")
    backend = str(engine.get("backend") or "")
    version = f"{engine.get('version', '')} ({'PyTorch' if backend.lower() == 'pytorch' else backend} backend)"
    tp, pp, ep = world.get("tp_size"), world.get("pp_size"), world.get("ep_size")
    return {
        "table": "throughput_max_load", "model": engine.get("model"), "engine": "trtllm",
        "engine_version": version.strip(), "tp": tp, "pp": pp, "ep": ep if ep and ep > 1 else "",
        "num_gpus": world.get("world_size"), "precision": precision,
        "kv_dtype": KV_DTYPE.get(str(engine.get("kv_cache_dtype") or "").upper(), ""),
        "kv_cache_fraction": world.get("kv_cache_percentage"), "offered_qps": "inf",
        "num_requests": requests.get("num_requests"), "isl": _round(requests.get("avg_input_length")),
        "osl": _round(requests.get("avg_output_length")), "throughput_tok_s": perf.get("system_output_throughput_tok_s"),
        "req_per_s": perf.get("request_throughput_req_s"), "mean_ttft_ms": streaming.get("avg_ttft_ms"),
        "mean_tpot_ms": streaming.get("avg_tpot_ms"), "total_token_tput_tok_s": perf.get("system_total_throughput_tok_s"),
        "throughput_metric": "system_output_throughput_tok_s (trtllm-bench)",
        "source": f"trtllm-bench report {path.name}",
    }


def _round(value) -> str:
    return str(max(1, round(float(value)))) if value else ""
