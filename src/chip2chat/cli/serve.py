"""`chip2chat estimate` and `chip2chat simulate`: one replica, a static batch or requests over time."""

from __future__ import annotations

import json
from typing import Optional

import typer

from chip2chat.cli.app import (AcceptanceLengthOpt, AttentionDpOpt, EngineOpt, ExpertParallelOpt, HardwareOpt,
                               KvDtypeOpt, ModelOpt, NumSpeculativeTokensOpt, PipelineParallelOpt,
                               SpeculativeMethodOpt, TensorParallelOpt, WeightDtypeOpt, app, err, out, warning_line)
from chip2chat.engine.defaults import ENGINE, GPU_MEMORY_UTILIZATION, INPUT_LEN, MAX_NUM_BATCHED_TOKENS, OUTPUT_LEN
from chip2chat.engine.speculative import speculative
from chip2chat.errors import Chip2ChatError, DoesNotFitError
from chip2chat.serving.config import ClusterConfig, SchedulerConfig, parse_batch_sizes
from chip2chat.serving.options import SYNTHETIC

# simulate passes only the options given; --help shows each default from its one home
_SCHEDULING, _CLUSTER = SchedulerConfig(), ClusterConfig()
DEFAULTS = {"--num-replicas": _CLUSTER.num_replicas, "--router": _CLUSTER.router,
            "--request-rate": SYNTHETIC["rate_per_s"], "--num-requests": "until steady state",
            "--concurrency": "none (open loop)",
            "--arrival": "poisson", "--burstiness": 1.0, "--input-len": INPUT_LEN, "--output-len": OUTPUT_LEN,
            "--seed": 0, "--scheduling-policy": _SCHEDULING.policy, "--engine": ENGINE,
            "--scheduler": "the engine's", "--host-overhead-per-seq-us": "the engine's",
            **{f"--{name.replace('_', '-')}": getattr(_SCHEDULING, name) for name in
               ("max_num_seqs", "max_num_batched_tokens", "block_size", "gpu_memory_utilization")},
            "--enable-chunked-prefill/--no-enable-chunked-prefill": _SCHEDULING.enable_chunked_prefill,
            "--enable-prefix-caching/--no-enable-prefix-caching": _SCHEDULING.enable_prefix_caching,
            "--mixed-batches/--no-mixed-batches": "the engine's (off: sglang; vllm without chunked prefill)",
            "--num-scheduler-steps": _SCHEDULING.num_scheduler_steps,
            "--async-output-proc/--no-async-output-proc": _SCHEDULING.async_output_proc,
            "--cuda-graph-batch-sizes": "none: no padding",
            "--enforce-eager": "off: the engine's CUDA graphs"}
ENFORCE_EAGER_HELP = ("Run steps without CUDA graphs, as vLLM's --enforce-eager, SGLang's --disable-cuda-graph "
                      "or TensorRT-LLM's C++ runtime (cuda_graph_mode off): all-reduce at the rate measured "
                      "outside CUDA graphs.")


def _given(flag: str, help: str = "", **kw):
    """An option of `simulate` that is passed on only when given; --help shows its default."""
    return typer.Option(None, flag, help=help, show_default=str(DEFAULTS[flag]), **kw)



@app.command()
def estimate(
    model: ModelOpt,
    hardware: HardwareOpt,
    tensor_parallel_size: TensorParallelOpt = 1,
    pipeline_parallel_size: PipelineParallelOpt = 1,
    expert_parallel_size: ExpertParallelOpt = 1,
    attention_dp: AttentionDpOpt = False,
    batch: int = typer.Option(1, "--batch", help="Requests in the static batch."),
    input_len: int = typer.Option(INPUT_LEN, "--input-len"),
    output_len: int = typer.Option(OUTPUT_LEN, "--output-len"),
    weight_dtype: WeightDtypeOpt = "bf16",
    kv_dtype: KvDtypeOpt = "bf16",
    engine: EngineOpt = ENGINE,
    speculative_method: SpeculativeMethodOpt = None,
    num_speculative_tokens: NumSpeculativeTokensOpt = 0,
    acceptance_length: AcceptanceLengthOpt = 0.0,
    gpu_memory_utilization: float = typer.Option(GPU_MEMORY_UTILIZATION, "--gpu-memory-utilization"),
    max_num_batched_tokens: int = typer.Option(MAX_NUM_BATCHED_TOKENS, "--max-num-batched-tokens"),
    enforce_eager: bool = typer.Option(False, "--enforce-eager", help=ENFORCE_EAGER_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Estimate one static batch: fit, TTFT, TPOT, throughput, bound, power and energy."""
    from chip2chat.engine.estimate import estimate as run_estimate
    from chip2chat.report.tables import estimate_table

    result = run_estimate(model, hardware, tp=tensor_parallel_size, pp=pipeline_parallel_size,
                          ep=expert_parallel_size, attention_dp=attention_dp, batch=batch, input_len=input_len,
                          output_len=output_len, weight_dtype=weight_dtype, kv_dtype=kv_dtype, engine=engine,
                          speculative=speculative(speculative_method, num_speculative_tokens, acceptance_length),
                          gpu_memory_utilization=gpu_memory_utilization,
                          max_num_batched_tokens=max_num_batched_tokens, cuda_graphs=False if enforce_eager else None)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        out.print(estimate_table(result))
    if not result.fits:
        gb = 1e9
        raise DoesNotFitError(
            f"{result.model} on {result.num_devices}x {result.hardware} (tp={result.tp}, pp={result.pp}) does not "
            f"fit: needs {result.memory_needed_bytes_per_device / gb:.1f} GB per device "
            f"(weights {result.weights_bytes_per_device / gb:.1f}, KV {result.kv_bytes_per_device / gb:.1f}, "
            f"activations {result.activation_bytes_per_device / gb:.1f}), "
            f"{result.memory_available_bytes_per_device / gb:.1f} GB available; "
            f"largest batch that fits: {result.max_batch}")


@app.command()
def simulate(
    model: ModelOpt,
    hardware: HardwareOpt,
    tensor_parallel_size: TensorParallelOpt = None,
    pipeline_parallel_size: PipelineParallelOpt = None,
    expert_parallel_size: ExpertParallelOpt = None,
    attention_dp: AttentionDpOpt = None,
    num_replicas: Optional[int] = _given("--num-replicas", "Data-parallel replicas behind the router."),
    request_rate: Optional[float] = _given("--request-rate", "Mean arrivals per second (synthetic)."),
    num_requests: Optional[int] = _given("--num-requests", "Requests of the synthetic workload (not given: doubled "
                                         "from 1,000 until throughput, mean TTFT and TPOT move < 2%)."),
    concurrency: Optional[int] = _given("--concurrency", "At most this many requests in flight, a closed loop as "
                                        "benchmark clients' --max-concurrency (with --arrival all_at_once: each "
                                        "request is sent when one finishes)."),
    arrival: Optional[str] = _given("--arrival", "poisson, gamma, daily or all_at_once"),
    burstiness: Optional[float] = _given("--burstiness", "Coefficient of variation of gamma inter-arrivals."),
    input_len: Optional[int] = _given("--input-len", "Prompt tokens (the mean with --input-len-cv)."),
    output_len: Optional[int] = _given("--output-len", "Generated tokens (the mean with --output-len-cv)."),
    input_len_cv: float = typer.Option(0.0, "--input-len-cv", help="0: constant; >0: lognormal with this CV."),
    output_len_cv: float = typer.Option(0.0, "--output-len-cv", help="0: constant; >0: lognormal with this CV."),
    trace: Optional[str] = typer.Option(None, "--trace", help="Replay a trace file instead."),
    trace_format: Optional[str] = typer.Option(None, "--trace-format", help="azure, burstgpt or mooncake"),
    weight_dtype: WeightDtypeOpt = None,
    kv_dtype: KvDtypeOpt = None,
    engine: Optional[str] = _given("--engine", "Serving engine: trtllm, vllm or sglang (its measured kernels where "
                                   "the chip has tables, its scheduler and host time)."),
    max_num_seqs: Optional[int] = _given("--max-num-seqs", "Most sequences in one step."),
    max_num_batched_tokens: Optional[int] = _given("--max-num-batched-tokens",
                                                   "Token budget of one step (decodes + prompt chunks)."),
    enable_chunked_prefill: Optional[bool] = _given("--enable-chunked-prefill/--no-enable-chunked-prefill"),
    enable_prefix_caching: Optional[bool] = _given("--enable-prefix-caching/--no-enable-prefix-caching"),
    mixed_batches: Optional[bool] = _given(
        "--mixed-batches/--no-mixed-batches", "Prompts (chunks, or whole without chunked prefill) share steps with "
                                              "the decodes (off: prefill steps run alone and the decodes wait, as "
                                              "SGLang without --enable-mixed-chunk and vLLM V0)."),
    num_scheduler_steps: Optional[int] = _given(
        "--num-scheduler-steps", "vLLM V0's multi-step scheduling: decodes run this many steps between schedules, "
                                 "their tokens streamed together (needs --no-enable-chunked-prefill)."),
    async_output_proc: Optional[bool] = _given(
        "--async-output-proc/--no-async-output-proc", "vLLM V0's asynchronous output processing (its default in 0.6.x): "
                                                      "a step's tokens reach the client as the next step ends."),
    cuda_graph_batch_sizes: Optional[str] = _given(
        "--cuda-graph-batch-sizes", "Pad each decode-only step up to the smallest of these CUDA-graph batch sizes "
                                    "that holds it, per attention-DP rank (TensorRT-LLM's cuda_graph_config "
                                    "batch_sizes with enable_padding), e.g. 1,2,4,8,16,32,64,128,256,512."),
    block_size: Optional[int] = _given("--block-size", "Tokens per KV block."),
    gpu_memory_utilization: Optional[float] = _given("--gpu-memory-utilization",
                                                     "Share of HBM for weights, activations and KV cache."),
    policy: Optional[str] = _given("--scheduling-policy", "fcfs or priority"),
    scheduler: Optional[str] = _given(
        "--scheduler", "vllm, or trtllm-guaranteed-no-evict (whole requests reserved in the KV cache); "
                       "default: the engine's."),
    host_overhead_per_seq_us: Optional[float] = _given(
        "--host-overhead-per-seq-us",
        "Host (CPU) time per sequence and step, overlapped with the GPU; a step takes the longer of the two "
        "(TensorRT-LLM's PyTorch backend measured 29.4 us, the trtllm engine's default; unmeasured for vllm and "
        "sglang: 0). 0: not modelled."),
    enforce_eager: Optional[bool] = _given("--enforce-eager", ENFORCE_EAGER_HELP),
    speculative_method: SpeculativeMethodOpt = None,
    num_speculative_tokens: NumSpeculativeTokensOpt = 0,
    acceptance_length: AcceptanceLengthOpt = 0.0,
    router: Optional[str] = _given("--router", "round_robin, least_outstanding_tokens, prefix_affinity or kv_aware"),
    disaggregate: Optional[str] = typer.Option(None, "--disaggregate", help="P:D prefill and decode replicas, e.g. 2:6"),
    slo_ttft_ms: Optional[float] = typer.Option(None, "--slo-ttft-ms", help="Goodput counts requests within it."),
    slo_tpot_ms: Optional[float] = typer.Option(None, "--slo-tpot-ms", help="Goodput counts requests within it."),
    seed: Optional[int] = _given("--seed", "Seed of the synthetic workload."),
    step_by_step: bool = typer.Option(False, "--step-by-step", help="No event skipping (for checking)."),
    requests_csv: Optional[str] = typer.Option(None, "--requests-csv", help="Write the per-request table."),
    chrome_trace: Optional[str] = typer.Option(None, "--chrome-trace", help="Write the schedule as a Chrome trace."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Simulate serving over time: continuous batching, KV cache, preemption, routing; vLLM metrics.
    An option not given takes the Python API's default (SchedulerConfig, ClusterConfig, synthetic)."""
    from chip2chat.report.tables import simulation_table
    from chip2chat.serving.simulate import simulate as run_simulate

    def lengths(mean: int | None, default: int, cv: float, option: str):
        if not cv >= 0:  # negative or nan
            raise Chip2ChatError(f"{option} must be >= 0 (0: every request has the same length), got {cv:g}")
        return mean if cv == 0 else ("lognormal", default if mean is None else mean, cv)

    if host_overhead_per_seq_us is not None and host_overhead_per_seq_us < 0:
        raise Chip2ChatError(f"--host-overhead-per-seq-us must be >= 0 (microseconds), got {host_overhead_per_seq_us:g}")
    graph_sizes = None
    if cuda_graph_batch_sizes is not None:
        try:
            graph_sizes = parse_batch_sizes(cuda_graph_batch_sizes)
        except ValueError:
            raise Chip2ChatError(f"--cuda-graph-batch-sizes expects batch sizes, whole numbers >= 1 separated by "
                                 f"commas (e.g. 1,2,4,8,16), got {cuda_graph_batch_sizes!r}") from None
    pd_split = None
    if disaggregate is not None:
        try:
            p_count, d_count = (int(x) for x in disaggregate.split(":"))
        except ValueError:
            raise Chip2ChatError(f"--disaggregate expects P:D (e.g. 2:6), got {disaggregate!r}") from None
        pd_split = (p_count, d_count)
    given = dict(
        tp=tensor_parallel_size, pp=pipeline_parallel_size, ep=expert_parallel_size, attention_dp=attention_dp,
        weight_dtype=weight_dtype, kv_dtype=kv_dtype, engine=engine, num_replicas=num_replicas, router=router,
        disaggregate=pd_split,
        rate_per_s=request_rate, num_requests=num_requests, arrival=arrival, cv=burstiness, seed=seed,
        concurrency=concurrency,
        input_len=lengths(input_len, INPUT_LEN, input_len_cv, "--input-len-cv"),
        output_len=lengths(output_len, OUTPUT_LEN, output_len_cv, "--output-len-cv"), trace=trace,
        trace_format=trace_format, max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
        enable_chunked_prefill=enable_chunked_prefill, enable_prefix_caching=enable_prefix_caching,
        mixed_batches=mixed_batches, num_scheduler_steps=num_scheduler_steps,
        async_output_proc=async_output_proc, cuda_graph_batch_sizes=graph_sizes, block_size=block_size, gpu_memory_utilization=gpu_memory_utilization, policy=policy, scheduler=scheduler,
        host_overhead_per_seq_s=None if host_overhead_per_seq_us is None else host_overhead_per_seq_us * 1e-6,
        slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms)
    with _progress((num_requests or 0) if trace is None else 0) as advance:
        result = run_simulate(model, hardware, step_by_step=step_by_step, record_trace=chrome_trace is not None,
                              progress=advance, cuda_graphs=False if enforce_eager else None,
                              speculative=speculative(speculative_method, num_speculative_tokens, acceptance_length), **{k: v for k, v in given.items() if v is not None})
    if requests_csv:
        result.requests.to_csv(requests_csv, index=False)
    if chrome_trace:
        result.write_chrome_trace(chrome_trace)
    if as_json:
        print(result.to_json())
    else:
        out.print(simulation_table(result.summary))
    if result.summary["overload"]:
        warning_line(result.summary["overload"])


class _progress:
    """A rich progress bar on stderr for long runs (50,000 requests or more); silent otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total < 50_000:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=err, transient=True)
        self.bar.start()
        task = self.bar.add_task("requests", total=self.total)
        return lambda done: self.bar.update(task, completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
