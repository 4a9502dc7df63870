"""The `chip2chat` command: parses arguments, calls the Python API, prints. Nothing else."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from chip2chat.errors import Chip2ChatError, DoesNotFitError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan and co-design the stack behind a voice AI service.")
catalog_app = typer.Typer(no_args_is_help=True, help="List and show the shipped catalogs.")
app.add_typer(catalog_app, name="catalog")
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


@app.command()
def estimate(
    model: str = typer.Option(..., "--model", "-m", help="Catalog model name or path to a config.json."),
    hardware: str = typer.Option(..., "--hardware", help="Catalog accelerator name or path to a YAML spec."),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", "-tp"),
    pipeline_parallel_size: int = typer.Option(1, "--pipeline-parallel-size", "-pp"),
    expert_parallel_size: int = typer.Option(1, "--expert-parallel-size", "-ep"),
    batch: int = typer.Option(1, "--batch", help="Requests in the static batch."),
    input_len: int = typer.Option(1024, "--input-len"),
    output_len: int = typer.Option(256, "--output-len"),
    weight_dtype: str = typer.Option("bf16", "--weight-dtype", help="bf16, fp8, int8, fp4, int4"),
    kv_dtype: str = typer.Option("bf16", "--kv-dtype", help="bf16, fp8"),
    gpu_memory_utilization: float = typer.Option(0.9, "--gpu-memory-utilization"),
    max_num_batched_tokens: int = typer.Option(8192, "--max-num-batched-tokens"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Estimate one static batch: fit, TTFT, TPOT, throughput, bound, power and energy."""
    from chip2chat.engine.estimate import estimate as run_estimate
    from chip2chat.report.tables import estimate_table

    result = run_estimate(model, hardware, tp=tensor_parallel_size, pp=pipeline_parallel_size,
                          ep=expert_parallel_size, batch=batch, input_len=input_len, output_len=output_len,
                          weight_dtype=weight_dtype, kv_dtype=kv_dtype,
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


@catalog_app.command("list")
def catalog_list(kind: Optional[str] = typer.Argument(None, help="accelerators, memory or models")) -> None:
    """List catalog entries."""
    from chip2chat.report.tables import catalog_tables

    for table in catalog_tables(kind):
        out.print(table)


@catalog_app.command("show")
def catalog_show(name: str = typer.Argument(..., help="An accelerator, memory or model name")) -> None:
    """Show one catalog entry with its sources."""
    from chip2chat.report.tables import catalog_entry_table

    out.print(catalog_entry_table(name))


def main() -> None:
    """Console entry point: bad input prints one line and exits 2 (1 when a plan does not fit).

    Usage errors (an unknown option, a non-integer) are typer's own: a short message, exit 2.
    """
    try:
        app()
    except Chip2ChatError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
