"""The `chip2chat` command: parses arguments, calls the Python API, prints. Nothing else."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from chip2chat.errors import Chip2ChatError, DoesNotFitError
from chip2chat.serving.config import ClusterConfig, SchedulerConfig
from chip2chat.serving.options import SYNTHETIC
from chip2chat.engine.defaults import GPU_MEMORY_UTILIZATION, INPUT_LEN, MAX_NUM_BATCHED_TOKENS, OUTPUT_LEN

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan and co-design the stack behind a voice AI service.")
catalog_app = typer.Typer(no_args_is_help=True, help="List and show the shipped catalogs.")
app.add_typer(catalog_app, name="catalog")


def _print_version(value: bool) -> None:
    if value:
        from chip2chat import __version__

        print(f"chip2chat {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    pass


# options shared by the commands that build a replica (model, chip, dtypes, parallel plan)
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Catalog model name or path to a config.json.")]
HardwareOpt = Annotated[str, typer.Option("--hardware", help="Catalog accelerator name or path to a YAML spec.")]
TensorParallelOpt = Annotated[int, typer.Option("--tensor-parallel-size", "-tp")]
PipelineParallelOpt = Annotated[int, typer.Option("--pipeline-parallel-size", "-pp")]
ExpertParallelOpt = Annotated[int, typer.Option("--expert-parallel-size", "-ep")]
AttentionDpOpt = Annotated[bool, typer.Option(
    "--enable-attention-dp",
    help="Attention data parallel over the TP chips (TensorRT-LLM enable_attention_dp); MoE with ep = tp.")]
WeightDtypeOpt = Annotated[str, typer.Option("--weight-dtype", help="bf16, fp8, int8, fp4, int4")]
KvDtypeOpt = Annotated[str, typer.Option("--kv-dtype", help="bf16, fp8")]

# simulate passes only the options given; --help shows each default from its one home
_SCHEDULING, _CLUSTER = SchedulerConfig(), ClusterConfig()
DEFAULTS = {"--num-replicas": _CLUSTER.num_replicas, "--router": _CLUSTER.router,
            "--request-rate": SYNTHETIC["rate_per_s"], "--num-requests": SYNTHETIC["num_requests"],
            "--arrival": "poisson", "--burstiness": 1.0, "--input-len": INPUT_LEN, "--output-len": OUTPUT_LEN,
            "--seed": 0, "--scheduling-policy": _SCHEDULING.policy, "--scheduler": _SCHEDULING.scheduler,
            **{f"--{name.replace('_', '-')}": getattr(_SCHEDULING, name) for name in
               ("max_num_seqs", "max_num_batched_tokens", "block_size", "gpu_memory_utilization")},
            "--enable-chunked-prefill/--no-enable-chunked-prefill": _SCHEDULING.enable_chunked_prefill,
            "--enable-prefix-caching/--no-enable-prefix-caching": _SCHEDULING.enable_prefix_caching,
            "--host-overhead-per-seq-us": _SCHEDULING.host_overhead_per_seq_s * 1e6}


def _given(flag: str, help: str = "", **kw):
    """An option of `simulate` that is passed on only when given; --help shows its default."""
    return typer.Option(None, flag, help=help, show_default=str(DEFAULTS[flag]), **kw)


out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


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
    gpu_memory_utilization: float = typer.Option(GPU_MEMORY_UTILIZATION, "--gpu-memory-utilization"),
    max_num_batched_tokens: int = typer.Option(MAX_NUM_BATCHED_TOKENS, "--max-num-batched-tokens"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Estimate one static batch: fit, TTFT, TPOT, throughput, bound, power and energy."""
    from chip2chat.engine.estimate import estimate as run_estimate
    from chip2chat.report.tables import estimate_table

    result = run_estimate(model, hardware, tp=tensor_parallel_size, pp=pipeline_parallel_size,
                          ep=expert_parallel_size, attention_dp=attention_dp, batch=batch, input_len=input_len,
                          output_len=output_len, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                          gpu_memory_utilization=gpu_memory_utilization,
                          max_num_batched_tokens=max_num_batched_tokens)
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
    num_requests: Optional[int] = _given("--num-requests", "Requests of the synthetic workload."),
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
    max_num_seqs: Optional[int] = _given("--max-num-seqs", "Most sequences in one step."),
    max_num_batched_tokens: Optional[int] = _given("--max-num-batched-tokens",
                                                   "Token budget of one step (decodes + prompt chunks)."),
    enable_chunked_prefill: Optional[bool] = _given("--enable-chunked-prefill/--no-enable-chunked-prefill"),
    enable_prefix_caching: Optional[bool] = _given("--enable-prefix-caching/--no-enable-prefix-caching"),
    block_size: Optional[int] = _given("--block-size", "Tokens per KV block."),
    gpu_memory_utilization: Optional[float] = _given("--gpu-memory-utilization",
                                                     "Share of HBM for weights, activations and KV cache."),
    policy: Optional[str] = _given("--scheduling-policy", "fcfs or priority"),
    scheduler: Optional[str] = _given(
        "--scheduler", "vllm, or trtllm-guaranteed-no-evict (whole requests reserved in the KV cache)."),
    host_overhead_per_seq_us: Optional[float] = _given(
        "--host-overhead-per-seq-us",
        "Host (CPU) time per sequence and step, overlapped with the GPU; a step takes the longer of the two "
        "(TensorRT-LLM's PyTorch backend measured 29.4 us). 0: not modelled."),
    router: Optional[str] = _given("--router", "round_robin, least_outstanding_tokens or prefix_affinity"),
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
    pd_split = None
    if disaggregate is not None:
        try:
            p_count, d_count = (int(x) for x in disaggregate.split(":"))
        except ValueError:
            raise Chip2ChatError(f"--disaggregate expects P:D (e.g. 2:6), got {disaggregate!r}") from None
        pd_split = (p_count, d_count)
    given = dict(
        tp=tensor_parallel_size, pp=pipeline_parallel_size, ep=expert_parallel_size, attention_dp=attention_dp,
        weight_dtype=weight_dtype, kv_dtype=kv_dtype, num_replicas=num_replicas, router=router, disaggregate=pd_split,
        rate_per_s=request_rate, num_requests=num_requests, arrival=arrival, cv=burstiness, seed=seed,
        input_len=lengths(input_len, INPUT_LEN, input_len_cv, "--input-len-cv"),
        output_len=lengths(output_len, OUTPUT_LEN, output_len_cv, "--output-len-cv"), trace=trace,
        trace_format=trace_format, max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
        enable_chunked_prefill=enable_chunked_prefill, enable_prefix_caching=enable_prefix_caching,
        block_size=block_size, gpu_memory_utilization=gpu_memory_utilization, policy=policy, scheduler=scheduler,
        host_overhead_per_seq_s=None if host_overhead_per_seq_us is None else host_overhead_per_seq_us * 1e-6,
        slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms)
    with _progress((num_requests or 0) if trace is None else 0) as advance:
        result = run_simulate(model, hardware, step_by_step=step_by_step, record_trace=chrome_trace is not None,
                              progress=advance, **{k: v for k, v in given.items() if v is not None})
    if requests_csv:
        result.requests.to_csv(requests_csv, index=False)
    if chrome_trace:
        result.write_chrome_trace(chrome_trace)
    if as_json:
        print(result.to_json())
    else:
        out.print(simulation_table(result.summary))
    if result.summary["overload"]:
        _warn(result.summary["overload"])


class _progress:
    """A rich progress bar on stderr for long runs (50,000 requests or more); silent otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total < 50_000:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=err, transient=True)
        self.bar.start()
        task = self.bar.add_task("requests", total=self.total)
        return lambda done: self.bar.update(task, completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


@app.command()
def validate(
    data: Optional[list[str]] = typer.Option(None, "--data", help="Your own CSV in the shipped format (repeatable)."),
    as_json: bool = typer.Option(False, "--json",
                                 help="Print rows and summary as one JSON object (only the summary with --summary-only)."),
    rows: bool = typer.Option(True, "--rows/--summary-only", help="Print every row, or only the summaries."),
    workers: int = typer.Option(2, "--workers", help="Processes to run rows in."),
) -> None:
    """Predict published measurements and show the error: per row, per hardware, per source."""
    from chip2chat.report.tables import validation_tables
    from chip2chat.validate.run import summarize, validate as run_validate

    df = run_validate(data, workers=workers)
    summary = summarize(df)
    if as_json:
        payload = {"rows": json.loads(df.to_json(orient="records")), "summary": summary} if rows else \
            {"summary": summary}
        print(json.dumps(payload, indent=2))
        return
    for table in validation_tables(df, summary, rows=rows):
        out.print(table)


@app.command()
def calibrate(
    hardware: str = typer.Option(..., "--hardware", help="Catalog name of the chip being measured (for its peaks)."),
    out_path: str = typer.Option("profile.yaml", "--out", help="Where to write the fitted profile."),
    raw_path: Optional[str] = typer.Option(None, "--raw", help="Where to write the raw measurements (CSV)."),
    from_raw: Optional[str] = typer.Option(None, "--from-raw", help="Fit recorded measurements; measure nothing."),
    device: str = typer.Option("cuda", "--device", help="cuda, or cpu to test the measuring code."),
    quick: bool = typer.Option(False, "--quick", help="Small shapes only (seconds, for testing)."),
) -> None:
    """Measure the local accelerator (PyTorch) and fit the cost model's calibration profile."""
    import yaml

    from chip2chat.calibrate.fit import fit_profile
    from chip2chat.calibrate.raw import read_raw, write_raw
    from chip2chat.hardware.load import load_hardware

    hw_id, hw = load_hardware(hardware)
    if from_raw:
        rows, source = read_raw(from_raw), f"fitted by chip2chat calibrate from {from_raw}"
    else:
        from chip2chat.calibrate.measure import measure, measure_all_reduce

        rows = measure(device=device, quick=quick)
        if device.startswith("cuda"):
            rows += measure_all_reduce()
        raw_path = raw_path or str(out_path).rsplit(".", 1)[0] + "_raw.csv"
        write_raw(rows, raw_path)
        source = f"measured by chip2chat calibrate on {device} ({len(rows)} kernels, raw: {raw_path})"
    profile = fit_profile(rows, hw, name=hw_id, source=source)
    with open(out_path, "w") as f:
        f.write("# Calibration profile fitted from microbenchmarks by `chip2chat calibrate`; never from validation rows.\n")
        yaml.safe_dump(profile.model_dump(), f, sort_keys=False)
    out.print(f"wrote {out_path}" + (f" and {raw_path}" if raw_path and not from_raw else ""))
    for key, value in profile.model_dump().items():
        if key not in ("name", "sources"):
            out.print(f"  {key}: {value}")


@app.command()
def chip(
    design_path: Optional[str] = typer.Argument(None, help="A chip design YAML (see catalog/designs/)."),
    check_known: bool = typer.Option(False, "--check-known", help="Model H100, H200 and MI300X; compare."),
    model: ModelOpt = "llama-3.1-70b",
    tensor_parallel_size: TensorParallelOpt = 1,
    batch: int = typer.Option(64, "--batch"),
    input_len: int = typer.Option(INPUT_LEN, "--input-len"),
    output_len: int = typer.Option(OUTPUT_LEN, "--output-len"),
    weight_dtype: WeightDtypeOpt = "fp8",
    request_rate: float = typer.Option(5.0, "--request-rate", help="Workload for the simulation (requests/s)."),
    num_requests: int = typer.Option(500, "--num-requests"),
    compare: str = typer.Option("h200,b200", "--compare", help="Catalog chips to serve next to the design."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A custom chip: area, yield, cost, power, and how it serves a model next to catalog chips."""
    from chip2chat.report.tables import chip_tables, known_chips_table
    from chip2chat.explore.compare import compare_chips
    from chip2chat.silicon.design import load_design
    from chip2chat.validate.silicon import check_known as run_check
    from chip2chat.silicon.model import evaluate

    if check_known or design_path is None:
        rows = run_check()
        print(json.dumps(rows, indent=2)) if as_json else out.print(known_chips_table(rows))
        return
    design = load_design(design_path)
    report = evaluate(design)
    serving = compare_chips(design, report, [c for c in compare.split(",") if c], model=model,
                            tp=tensor_parallel_size, batch=batch, input_len=input_len, output_len=output_len,
                            weight_dtype=weight_dtype, rate_per_s=request_rate, num_requests=num_requests)
    if as_json:
        print(json.dumps({"silicon": report.to_dict(), "serving": serving}, indent=2, default=float))
    else:
        for table in chip_tables(report, serving):
            out.print(table)
    if all("error" in row for row in serving):
        raise DoesNotFitError(f"{model} fits none of the chips at tp={tensor_parallel_size}: {serving[0]['error']}")


@app.command()
def sweep(
    spec_path: str = typer.Argument(..., help="A sweep YAML (see examples/sweep_hbm4.yaml)."),
    backend: str = typer.Option("local", "--backend", help="local, ray or vector"),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: start a local Ray)."),
    out_dir: str = typer.Option("out/sweep", "--out", help="Results folder (DuckDB store; resumable)."),
    workers: int = typer.Option(1, "--workers", help="Processes for the local backend."),
    as_json: bool = typer.Option(False, "--json", help="Print the Pareto front as JSON."),
) -> None:
    """Sweep chip designs (grid or random, as data); resumable; Pareto front and plot.

    Exits 1 (with the first error) when every point failed."""
    from chip2chat.explore.progress import sweep_progress
    from chip2chat.explore.space import load_sweep
    from chip2chat.explore.sweep import require_a_result, run_sweep
    from chip2chat.report.tables import sweep_table

    spec = load_sweep(spec_path)
    with sweep_progress(spec.name, console=err) as progress:
        frame = run_sweep(spec, out_dir, backend=backend, address=address, workers=workers, progress=progress)
        frame.to_csv(f"{out_dir}/results.csv", index=False)
        require_a_result(frame)  # inside: an error is then the only line on stderr
    front = frame[frame["pareto"]] if "pareto" in frame else frame.iloc[0:0]
    if as_json:
        print(front.to_json(orient="records", indent=2))
        return
    out.print(sweep_table(spec, frame, out_dir))


@app.command()
def plan(
    scenario_path: Optional[str] = typer.Argument(None, help="A scenario YAML (default: the shipped voice assistant)."),
    out_dir: str = typer.Option("out/plan", "--out", help="Where report.html, results.csv and results.json go."),
    as_json: bool = typer.Option(False, "--json", help="Print the per-option, per-year table as JSON."),
) -> None:
    """Plan the fleet for a demand forecast: chips, racks, MW, MWh, tCO2, cost per year, and a report."""
    from pathlib import Path

    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.datacenter.plan import plan as run_plan
    from chip2chat.datacenter.scenario import load_scenario
    from chip2chat.explore.progress import sweep_progress
    from chip2chat.report.html import write_report
    from chip2chat.report.tables import plan_table

    path = scenario_path or CATALOG_DIR / "scenarios" / "voice-assistant.yaml"
    scenario = load_scenario(path)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)  # before the work: an unwritable folder fails at once
    with sweep_progress("sizing options", console=err) as progress:
        result = run_plan(scenario, progress=progress)
    result.table.to_csv(folder / "results.csv", index=False)
    (folder / "results.json").write_text(result.table.to_json(orient="records", indent=2))
    report = write_report(result, folder / "report.html")
    if as_json:
        print(result.table.to_json(orient="records", indent=2))
    else:
        out.print(plan_table(result))
        out.print(f"report: {report.resolve()}  (tables: {folder / 'results.csv'}, {folder / 'results.json'})")
    if not result.table["cheapest"].any():
        raise DoesNotFitError(f"no option meets the SLO and fits the site in any year; the notes in {report} say why")


@app.command()
def voice(
    spec_path: Optional[str] = typer.Argument(None, help="A voice YAML (default: the shipped voice assistant's)."),
    out_path: str = typer.Option("out/voice.png", "--plot",
                                 help="Where the stage plot goes (.png, .svg, .pdf, ...; a folder: FOLDER/voice.png)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Time to first audio per configuration and network: stages, p50/p90/p99, device energy."""
    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.report.tables import voice_table
    from chip2chat.report.voice_plot import plot_path, plot_voice
    from chip2chat.voice.run import compare
    from chip2chat.voice.scenario import load_voice

    spec = load_voice(spec_path or CATALOG_DIR / "scenarios" / "voice-assistant.yaml")
    where = plot_path(out_path)  # before the work: a bad path or format fails at once
    df = compare(spec)
    plot = plot_voice(df, where)
    if as_json:
        print(df.to_json(orient="records", indent=2))
        return
    out.print(voice_table(df, spec))
    out.print(f"plot: {plot.resolve()}")


@catalog_app.command("list")
def catalog_list(kind: Optional[str] = typer.Argument(
        None, help="accelerators, memory, models, sites, servers, devices, networks, speech-models, designs, "
                   "process-nodes or scenarios (default: all)")) -> None:
    """List catalog entries."""
    from chip2chat.report.tables import catalog_tables

    for table in catalog_tables(kind):
        out.print(table)


@catalog_app.command("show")
def catalog_show(name: str = typer.Argument(..., help="An entry's id, name or alias (e.g. h200, wifi, N3)"),
                 kind: Optional[str] = typer.Option(None, "--kind", help="Look only in this catalog.")) -> None:
    """Show one catalog entry with its sources."""
    from chip2chat.report.tables import catalog_entry_table

    out.print(catalog_entry_table(name, kind))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: bad input prints one line and exits 2 (1 when a plan does not fit).

    Usage errors (an unknown option, a non-integer) are one line too, naming the option and what
    it takes; Ctrl-C stops with exit code 130 (the shell's convention for SIGINT).
    """
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    try:
        code = app(argv, prog_name="chip2chat", standalone_mode=False)
    except NoArgsIsHelpError:
        sys.exit(2)  # the help was printed
    except UsageError as exc:
        _error(exc.format_message().replace("\n", " ") + _usage_hint(exc))
        sys.exit(2)
    except Chip2ChatError as exc:
        _error(str(exc))
        sys.exit(exc.exit_code)
    except OSError as exc:  # an output or input path the user gave that cannot be used
        _error(f"{exc.filename or ''}: {exc.strerror or exc}")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        _error("interrupted; finished work is kept where the command stores it")
        sys.exit(130)
    if code == 130:  # typer turns a KeyboardInterrupt inside a command into Exit(130)
        _error("interrupted; finished work is kept where the command stores it")
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    """`error: <message>` on one line of stderr; the message is printed as written (no rich markup,
    so '[calibrate]' keeps its brackets)."""
    err.print("error:", style="bold red", end=" ")
    err.print(" ".join(message.split()), markup=False, highlight=False, soft_wrap=True)


def _warn(message: str) -> None:
    """`warning: <message>` on one line of stderr (the command still succeeds)."""
    err.print("warning:", style="bold yellow", end=" ")
    err.print(" ".join(message.split()), markup=False, highlight=False, soft_wrap=True)


def _usage_hint(exc) -> str:
    words = ["chip2chat", *(exc.ctx.command_path.split()[1:] if exc.ctx is not None else [])]
    return f" (see `{' '.join(words)} --help`)"


if __name__ == "__main__":
    main()
