"""The other `chip2chat` commands: validate, calibrate, chip, sweep, plan, voice and catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from chip2chat import DEFAULT_SCENARIO, DEFAULT_VOICE
from chip2chat.cli.app import ModelOpt, TensorParallelOpt, WeightDtypeOpt, app, catalog_app, err, out
from chip2chat.engine.defaults import INPUT_LEN, OUTPUT_LEN
from chip2chat.errors import DoesNotFitError

@app.command()
def validate(
    data: Optional[list[str]] = typer.Option(
        None, "--data", help="Your own CSV in the shipped format, or a result file of vllm bench serve (JSON), SGLang "
        "bench_serving (JSONL), trtllm-bench (--report_json) or genai-perf (profile_export_genai_perf.json/.csv); "
        "repeatable."),
    setup: Optional[list[str]] = typer.Option(
        None, "--setup", help="KEY=VALUE: a column set in every row of --data (what the tool does not record: "
        "gpu=H100, tp=8, precision=FP8, model=..., engine=vllm, concurrency=16, ...); repeatable."),
    as_json: bool = typer.Option(False, "--json",
                                 help="Print rows and summary as one JSON object (only the summary with --summary-only)."),
    rows: bool = typer.Option(True, "--rows/--summary-only", help="Print every row, or only the summaries."),
    workers: int = typer.Option(2, "--workers", help="Processes to run rows in."),
) -> None:
    """Predict published measurements and show the error: per row, per hardware, per source."""
    from chip2chat.report.tables import validation_tables
    from chip2chat.validate.run import summarize, validate as run_validate

    from chip2chat.errors import Chip2ChatError

    columns = {}
    for item in setup or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Chip2ChatError(f"--setup takes KEY=VALUE (a column of the validation format), got {item!r}")
        columns[key.strip()] = value.strip()
    df = run_validate(data, workers=workers, setup=columns)
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
    hardware: Optional[str] = typer.Option(None, "--hardware",
                                           help="Catalog name of the chip being measured (for its peaks)."),
    out_path: Optional[str] = typer.Option(None, "--out", help="Where to write the fitted profile (profile.yaml), "
                                           "or with --from-kernel-tables the tables' folder (catalog/kernels/)."),
    raw_path: Optional[str] = typer.Option(None, "--raw", help="Where to write the raw measurements (CSV)."),
    from_raw: Optional[str] = typer.Option(None, "--from-raw", help="Fit recorded measurements; measure nothing."),
    device: str = typer.Option("cuda", "--device", help="cuda, or cpu to test the measuring code."),
    quick: bool = typer.Option(False, "--quick", help="Small shapes only (seconds, for testing)."),
    from_kernel_tables: bool = typer.Option(
        False, "--from-kernel-tables", help="Derive the measured kernel tables (catalog/kernels/) from "
        "aiconfigurator-core's kernel timings: pip install 'chip2chat[kernels]', or --data."),
    data: Optional[str] = typer.Option(None, "--data", help="With --from-kernel-tables: an unpacked "
                                       "aiconfigurator_core/systems/data folder instead of the installed package."),
    fit_roofline: bool = typer.Option(
        False, "--fit-roofline", help="Fit the roofline's efficiencies for chips without measured kernels on the "
        "measured chips' kernel tables (needs scipy); writes catalog/calibration/measurements/roofline_fit.csv "
        "or --out."),
) -> None:
    """Measure the local accelerator (PyTorch) and fit the cost model's calibration profile, derive
    the measured kernel tables (--from-kernel-tables), or fit the roofline on them (--fit-roofline)."""
    import yaml

    from chip2chat.errors import Chip2ChatError

    if fit_roofline:
        from chip2chat.calibrate.roofline_fit import fit_all, write_record
        from chip2chat.hardware.calibration import ROOFLINE_FIT

        fits = fit_all()
        for f in fits:
            out.print(f"  {f.chip} {f.engine}: median |roofline/measured - 1| {f.error_before:.1%} -> "
                      f"{f.error_after:.1%} over {f.steps} TTFT/TPOT values; {f.held_out:.1%} with the other "
                      "chips' median fit", highlight=False)
        target = Path(out_path) if out_path else ROOFLINE_FIT
        medians = write_record(fits, target)
        out.print(f"wrote {target}; chips without kernel tables take: " +
                  ", ".join(f"{k} {v:.3g}" for k, v in medians.items()), highlight=False)
        return
    if from_kernel_tables:
        from chip2chat.calibrate.kernel_tables import from_kernel_tables as derive

        derive(data, out_path, say=lambda line: out.print(line, highlight=False, markup=False))
        return
    if data or hardware is None:
        raise Chip2ChatError("--data goes with --from-kernel-tables" if data else
                             "--hardware is needed: the catalog name of the chip being measured (for its peaks)")
    from chip2chat.calibrate.fit import fit_profile
    from chip2chat.calibrate.raw import read_raw, write_raw
    from chip2chat.hardware.load import load_hardware

    out_path = out_path or "profile.yaml"
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
    scenario_path: Optional[str] = typer.Argument(None, help="A scenario YAML (default: the shipped ChatGPT-scale assistant, catalog/scenarios/chatgpt-scale.yaml)."),
    out_dir: str = typer.Option("out/plan", "--out", help="Where report.html, results.csv and results.json go."),
    as_json: bool = typer.Option(False, "--json", help="Print the per-option, per-year table as JSON."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                          help="Processes searching the options' configurations side by side "
                                               "(default: the CPUs; the same answer)."),
) -> None:
    """Plan the fleet for a demand forecast: chips, racks, MW, MWh, tCO2, cost per year, and a report."""
    import os

    from pathlib import Path

    from chip2chat.catalog import CATALOG_DIR
    from chip2chat.datacenter.plan import plan as run_plan
    from chip2chat.datacenter.scenario import load_scenario
    from chip2chat.explore.progress import sweep_progress
    from chip2chat.report.html import write_report
    from chip2chat.report.tables import break_even_rich, plan_table
    from chip2chat.report.power_section import power_summary

    path = scenario_path or CATALOG_DIR / "scenarios" / f"{DEFAULT_SCENARIO}.yaml"
    scenario = load_scenario(path)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)  # before the work: an unwritable folder fails at once
    with sweep_progress("sizing options", console=err) as progress:
        result = run_plan(scenario, progress=progress, workers=workers or os.cpu_count() or 1)
    result.table.to_csv(folder / "results.csv", index=False)
    (folder / "results.json").write_text(result.table.to_json(orient="records", indent=2))
    report = write_report(result, folder / "report.html")
    if result.energy is not None:  # the power-limited view and the supply mix (energy/view.py)
        result.energy.power.to_csv(folder / "power.csv", index=False)
        result.energy.supply.to_csv(folder / "supply.csv", index=False)
    if as_json:
        print(result.table.to_json(orient="records", indent=2))
    else:
        out.print(plan_table(result))
        if (payoff := break_even_rich(result)) is not None:
            out.print(payoff)
        for line in power_summary(result.energy):
            out.print(line, markup=False, highlight=False, soft_wrap=True)
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

    spec = load_voice(spec_path or CATALOG_DIR / "scenarios" / f"{DEFAULT_VOICE}.yaml")
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
