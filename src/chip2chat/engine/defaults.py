"""Defaults of a serving engine and of a request, in one home for every stage that needs them.

The engine knobs are vLLM's engine-argument defaults (`--gpu-memory-utilization 0.9`,
`--max-num-batched-tokens 8192` for online serving with chunked prefill, `--max-num-seqs 256`);
the request shape is the 1,024-in / 256-out of the common serving benchmarks. estimate, the
vectorised path, serving's SchedulerConfig, the synthetic workload and the CLI all read them here.
"""

GPU_MEMORY_UTILIZATION = 0.9
"""Share of HBM the engine may use for weights, activations and KV cache."""
MAX_NUM_BATCHED_TOKENS = 8192
"""Token budget of one engine step (decode tokens plus prompt chunks)."""
MAX_NUM_SEQS = 256
"""Most sequences in one engine step."""
INPUT_LEN, OUTPUT_LEN = 1024, 256
"""Prompt and generated tokens of a request when none are given."""
ENGINE = "vllm"
"""The serving engine when none is named (engine/engines.py): vLLM, whose conventions the other
defaults here and the serving settings follow (its engine arguments, its scheduler), so that a
result without an engine is one engine's throughout: its kernels, scheduler and host time.
Validation rows name theirs (TensorRT-LLM) and do not depend on it."""
