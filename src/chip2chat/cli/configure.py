"""`chip2chat configure`: the best serving configuration under an SLO, with its launch files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from chip2chat.cli.app import (AcceptanceLengthOpt, KvDtypeOpt, ModelOpt, NumSpeculativeTokensOpt,
                               SpeculativeMethodOpt, WeightDtypeOpt, app, out)
from chip2chat.engine.defaults import INPUT_LEN, OUTPUT_LEN
from chip2chat.errors import Chip2ChatError


def _ints(option: str, text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise Chip2ChatError(f"{option} expects comma-separated integers, e.g. 1,2,4,8; got {text!r}") from None


def _words(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(v.strip() for v in text.split(",") if v.strip())


@app.command()
def configure(
    model: ModelOpt,
    hardware: list[str] = typer.Option(..., "--hardware", help="Chip: catalog name, accelerator YAML or chip "
                                       "design (name or YAML). Repeat for heterogeneous prefill/decode."),
    engine: str = typer.Option("vllm", "--engine", help="trtllm, vllm or sglang."),
    weight_dtype: WeightDtypeOpt = "bf16",
    kv_dtype: KvDtypeOpt = None,
    input_len: int = typer.Option(INPUT_LEN, "--input-len", help="Prompt tokens (the mean with --input-len-cv)."),
    output_len: int = typer.Option(OUTPUT_LEN, "--output-len", help="Output tokens (the mean with --output-len-cv)."),
    input_len_cv: float = typer.Option(0.0, "--input-len-cv", help="0: constant; >0: lognormal with this CV."),
    output_len_cv: float = typer.Option(0.0, "--output-len-cv", help="0: constant; >0: lognormal with this CV."),
    trace: Optional[str] = typer.Option(None, "--trace", help="Replay a trace's lengths and burstiness instead."),
    trace_format: Optional[str] = typer.Option(None, "--trace-format", help="azure, burstgpt or mooncake"),
    slo_ttft_ms: Optional[float] = typer.Option(None, "--slo-ttft-ms", help="p99 time to first token."),
    slo_tpot_ms: Optional[float] = typer.Option(None, "--slo-tpot-ms", help="p99 time per output token."),
    tokens_per_s_per_user: Optional[float] = typer.Option(None, "--tokens-per-s-per-user",
                                                          help="Instead of a TPOT: p99 TPOT = 1000 / this ms."),
    gpus: Optional[int] = typer.Option(None, "--gpus", help="GPU budget: the best deployment within it."),
    request_rate: Optional[float] = typer.Option(None, "--request-rate", help="Requests/s to serve: fewest GPUs."),
    tp_sizes: Optional[str] = typer.Option(None, "--tensor-parallel-sizes", help="Search these TP sizes (1,2,4,8)."),
    pp_sizes: Optional[str] = typer.Option(None, "--pipeline-parallel-sizes", help="Search these PP sizes (1,2,4)."),
    modes: Optional[str] = typer.Option(None, "--modes", help="aggregated,disaggregated (default both)."),
    speculative_method: SpeculativeMethodOpt = None,
    num_speculative_tokens: NumSpeculativeTokensOpt = 0,
    acceptance_length: AcceptanceLengthOpt = 0.0,
    finalists: int = typer.Option(3, "--finalists", help="Candidates simulated per mode."),
    workers: int = typer.Option(2, "--workers", help="Processes for the finalists' simulations (same answer)."),
    seed: int = typer.Option(0, "--seed"),
    png: Optional[str] = typer.Option(None, "--png", help="Write the tokens/s/GPU vs tokens/s/user picture."),
    launch_dir: Optional[str] = typer.Option(None, "--launch-dir", help="Write the launch files there."),
    as_json: bool = typer.Option(False, "--json", help="Print the finalists and the choice as JSON."),
) -> None:
    """Search TP/PP/EP/attention DP, batching, KV dtype, aggregated vs disaggregated (P:D ratio, chips),
    speculative decoding (none; mtp where the model has MTP layers; the --speculative-method given)
    under the SLO; screen analytically, simulate the finalists; print the front, the choice and its
    launch files (vllm serve, SGLang, trtllm-serve, Dynamo workers)."""
    from chip2chat.configure import SearchSpace, configure as run_configure

    space_fields = {k: v for k, v in (("tp", _ints("--tensor-parallel-sizes", tp_sizes)),
                                      ("pp", _ints("--pipeline-parallel-sizes", pp_sizes)),
                                      ("modes", _words(modes)), ("kv_dtypes", (kv_dtype,) if kv_dtype else None))
                    if v is not None}
    lengths = []
    for mean, cv, option in ((input_len, input_len_cv, "--input-len-cv"), (output_len, output_len_cv, "--output-len-cv")):
        if not cv >= 0:
            raise Chip2ChatError(f"{option} must be >= 0 (0: every request has the same length), got {cv:g}")
        lengths.append(mean if cv == 0 else ("lognormal", mean, cv))
    result = run_configure(model, hardware, engine=engine, weight_dtype=weight_dtype, input_len=lengths[0],
                           output_len=lengths[1], trace=trace, trace_format=trace_format, slo_ttft_ms=slo_ttft_ms,
                           slo_tpot_ms=slo_tpot_ms, tokens_per_s_per_user=tokens_per_s_per_user, gpus=gpus,
                           rate_per_s=request_rate, space=SearchSpace(**space_fields), finalists=finalists,
                           workers=workers, seed=seed, speculative_method=speculative_method,
                           num_speculative_tokens=num_speculative_tokens, acceptance_length=acceptance_length)
    files = result.launch()
    if launch_dir:
        folder = Path(launch_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    picture = None
    if png:
        from chip2chat.report.configure_plot import plot_configure_front

        picture = plot_configure_front(result, png)
    if as_json:
        print(json.dumps({"best": _choice(result), "finalists": json.loads(result.front.to_json(orient="records")),
                          "launch": files, "seconds": result.seconds}, indent=2))
        return
    out.print(_front_table(result))
    for line in _summary(result):
        out.print(line, highlight=False)
    if launch_dir:
        out.print(f"launch files: {', '.join(str(Path(launch_dir) / n) for n in files)}")
    else:
        for name, text in files.items():
            out.print(f"[bold]{name}[/bold]")
            out.print(text, markup=False, highlight=False, soft_wrap=True)
    if picture:
        out.print(f"picture: {picture.resolve()}")


def _front_table(result) -> Table:
    slo = " and ".join(f"p99 {k} {v:g} ms" for k, v in (("TTFT", result.slo.ttft_ms), ("TPOT", result.slo.tpot_ms))
                       if v is not None)
    where = f"{result.gpus} GPUs" if result.gpus else f"{result.rate_per_s:g} req/s"
    t = Table(title=f"{result.model} ({result.weight_dtype}), {result.engine}, {where}, {slo}: simulated "
                    f"finalists ({len(result.screened):,} candidates screened)")
    for col in ("configuration", "KV", "seqs", "tokens", "req/s", "tok/s/GPU", "tok/s/user", "p99 TTFT",
                "p99 TPOT", "front"):
        t.add_column(col, justify="left" if col == "configuration" else "right")
    for r in result.front.itertuples():
        t.add_row(r.configuration, r.kv_dtype, str(r.max_num_seqs), str(r.max_num_batched_tokens),
                  f"{r.rate_per_s:.2f}" if r.meets_slo else "misses SLO", f"{r.tokens_per_s_per_gpu:,.0f}",
                  "" if math.isnan(r.tokens_per_s_per_user) else f"{r.tokens_per_s_per_user:.1f}",
                  _ms(r.p99_ttft_ms), _ms(r.p99_tpot_ms), "*" if r.pareto else "")
    return t


def _ms(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.1f}"


def _summary(result) -> list[str]:
    lines = []
    for mode in ("aggregated", "disaggregated"):
        f = result.best_of(mode)
        if f is not None:
            lines.append(f"best {mode}: {f.candidate.label()}: {f.tokens_per_s_per_gpu:,.0f} tokens/s/GPU "
                         f"({f.rate_per_s:.2f} req/s)")
    if result.best is None:
        lines.append("no finalist meets the SLO in simulation: loosen it, or widen the search")
        return lines
    best = result.best.candidate
    if result.rate_per_s is not None:
        lines.append(f"chosen: {result.units} x ({best.label()}) = {result.total_gpus} GPUs for "
                     f"{result.rate_per_s:g} req/s (each copy checked at {result.rate_per_s / result.units:.3g} req/s)")
    else:
        lines.append(f"chosen: {best.label()} on {best.gpus} of {result.gpus} GPUs, "
                     f"{result.best.rate_per_s:.2f} req/s within the SLO")
    lines.append(f"speculative decoding: {best.speculative.label if best.speculative else 'none'}")
    lines.append(f"searched in {result.seconds:.1f} s")
    return lines


def _choice(result) -> dict | None:
    if result.best is None:
        return None
    return {**result.best.row(), "units": result.units, "total_gpus": result.total_gpus}
