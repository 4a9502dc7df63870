"""The `chip2chat` command's shared parts: the typer app, its consoles, the replica options that
several commands declare alike, and the one-line error and warning printers."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

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
EngineOpt = Annotated[str, typer.Option(
    "--engine", help="Serving engine: trtllm, vllm or sglang (its measured kernels where the chip has tables, its "
                     "scheduler and host time).")]

SpeculativeMethodOpt = Annotated[Optional[str], typer.Option(
    "--speculative-method", help="Speculative decoding: mtp (the model's MTP module, DeepSeek-V3/R1), eagle3 or "
                                 "draft_model; none by default.")]
NumSpeculativeTokensOpt = Annotated[int, typer.Option(
    "--num-speculative-tokens", help="Draft tokens per step (vLLM's num_speculative_tokens); 0: the method's "
                                     "default (mtp 1, others 3).")]
AcceptanceLengthOpt = Annotated[float, typer.Option(
    "--acceptance-length", help="Mean tokens emitted per verify step, the target's own included (1 to k+1); "
                                "0: the method's published default (mtp: 1.875).")]

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def error_line(message: str) -> None:
    """`error: <message>` on one line of stderr; the message is printed as written (no rich markup,
    so '[calibrate]' keeps its brackets)."""
    err.print("error:", style="bold red", end=" ")
    err.print(" ".join(message.split()), markup=False, highlight=False, soft_wrap=True)


def warning_line(message: str) -> None:
    """`warning: <message>` on one line of stderr (the command still succeeds)."""
    err.print("warning:", style="bold yellow", end=" ")
    err.print(" ".join(message.split()), markup=False, highlight=False, soft_wrap=True)
