"""Rich tables for the terminal: estimates and catalog entries, in human units."""

from __future__ import annotations

from rich.table import Table

from chip2chat.errors import NotFoundError
from chip2chat.units import format_si


def estimate_table(r) -> Table:
    t = Table(title=f"{r.model} on {r.num_devices}x {r.hardware}  (tp={r.tp} pp={r.pp} ep={r.ep}, "
                    f"weights {r.weight_dtype}, KV {r.kv_dtype}; calibration {r.calibration})", show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    gb = 1e9
    rows = [
        ("batch x (input + output)", f"{r.batch} x ({r.input_len} + {r.output_len})"),
        ("fits", f"{'yes' if r.fits else 'NO'}  (max batch {r.max_batch})"),
        ("memory per device", f"{r.memory_needed_bytes_per_device / gb:.1f} of "
                              f"{r.memory_available_bytes_per_device / gb:.1f} GB"),
        ("  weights / KV / activations", f"{r.weights_bytes_per_device / gb:.1f} / "
                                         f"{r.kv_bytes_per_device / gb:.1f} / {r.activation_bytes_per_device / gb:.1f} GB"),
        ("KV bytes per token", f"{r.kv_bytes_per_token:,.0f} B"),
        ("TTFT (whole batch prefill)", f"{r.ttft_s * 1e3:.1f} ms  ({r.prefill_bound}-bound)"),
        ("TPOT (decode step)" if r.speculative == "none" else f"TPOT (per token, speculative {r.speculative})",
         f"{r.tpot_s * 1e3:.2f} ms  ({r.decode_bound}-bound)"),
        ("E2E", f"{r.e2e_s:.2f} s"),
        ("output tokens/s", f"{r.output_tokens_per_s:,.0f}  ({r.output_tokens_per_s_per_device:,.0f} per device)"),
    ]
    b = r.decode_breakdown_s
    rows.append(("  decode compute/memory/comm/overhead",
                 " / ".join(f"{b[k] * 1e3:.2f}" for k in ("compute_s", "memory_s", "communication_s",
                                                            "overhead_s")) + " ms"))
    if r.power_w is not None:
        rows.append(("power while decoding", f"{r.power_w / 1e3:.2f} kW ({r.power_w_per_device:.0f} W per device)"))
        rows.append(("energy per output token", f"{r.energy_per_output_token_j:.3f} J"))
    else:
        rows.append(("power", "TDP not published for this chip"))
    for name, value in rows:
        t.add_row(name, value)
    return t


def _accelerator_rows(entries: dict) -> Table:
    t = Table(title="Accelerators (dense peak; decimal units)")
    for col in ("id", "name", "bf16", "fp8", "fp4", "memory", "capacity", "bandwidth", "scale-up", "TDP", "node", "year"):
        t.add_column(col)
    for key, e in entries.items():
        f, m, s = e.get("peak_flops", {}), e.get("memory", {}), e.get("scale_up", {})
        t.add_row(key, e.get("name", ""), str(f.get("bf16", "-")), str(f.get("fp8", "-")), str(f.get("fp4", "-")),
                  f"{m.get('generation', '')} x{m.get('stacks', '-')}", str(m.get("capacity", "")),
                  str(m.get("bandwidth", "")), str(s.get("bandwidth", "")), str(e.get("tdp", "n/p")),
                  str(e.get("process_node", "")), str(e.get("launch_year", "")))
    return t


def _memory_rows(entries: dict) -> Table:
    t = Table(title="Memory (per HBM stack)")
    for col in ("id", "name", "pin rate", "width", "bandwidth", "capacity", "energy/bit", "year"):
        t.add_column(col)
    for key, e in entries.items():
        t.add_row(key, e.get("name", ""), str(e.get("pin_rate", "")), str(e.get("interface_width_bits", "")),
                  str(e.get("bandwidth", "")), str(e.get("capacity", "")), str(e.get("energy_per_bit", "-")),
                  str(e.get("launch_year", "")))
    return t


def _model_rows(entries: dict) -> Table:
    from chip2chat.models.load import load_model

    t = Table(title="Models (derived from each config.json)")
    for col in ("id", "hf repo", "layers", "hidden", "heads/kv", "experts", "total", "active", "KV/token bf16"):
        t.add_column(col)
    for key, e in entries.items():
        m = load_model(key)
        a = m.layers[0][1].attention
        experts = max((f"{k.mlp.num_experts} (top {k.mlp.top_k})" for _, k in m.layers if k.mlp.is_moe), default="-")
        t.add_row(key, e.get("hf_repo", ""), str(m.num_layers), str(m.hidden),
                  f"{a.num_heads}/{a.num_kv_heads}" + (" MLA" if m.is_mla else ""), experts,
                  f"{m.total_params / 1e9:.1f}B", f"{m.active_params / 1e9:.1f}B",
                  format_si(m.kv_bytes_per_token(), "B"))
    return t


_SPECIAL_ROWS = {"accelerators": _accelerator_rows, "memory": _memory_rows, "models": _model_rows}
# the other catalogs list these fields of each entry (dotted for nested ones)
_LIST_FIELDS = {
    "sites": ("name", "country", "pue", "rack_power", "electricity_price", "grid_carbon"),
    "servers": ("name", "chips_per_server", "max_power"),
    "devices": ("name", "npu_ops", "memory_capacity", "memory_bandwidth", "sustained_power", "battery"),
    "networks": ("rtt_median", "rtt_p90", "uplink", "downlink"),
    "speech-models": ("kind", "params", "dtype", "chunk", "compute_per_audio_second"),
    "designs": ("name", "process_node", "compute_dies", "peak_flops.bf16", "sram", "hbm", "tdp"),
    "process-nodes": ("year", "wafer_price", "defect_density", "sram_density", "logic_density",
                      "energy_per_flop_bf16"),
    "scenarios": ("name", "service.model", "site.catalog", "options"),
}


def catalog_tables(kind: str | None) -> list[Table]:
    """One table per catalog (all of them when `kind` is None); an unknown kind is one line
    listing the kinds."""
    from chip2chat.catalog import CATALOGS, catalog_kind

    kinds = list(CATALOGS) if kind is None else [catalog_kind(kind)]
    tables = []
    for k in kinds:
        entries = CATALOGS[k].entries()
        tables.append(_SPECIAL_ROWS[k](entries) if k in _SPECIAL_ROWS else _field_rows(k, entries))
    return tables


def _field_rows(kind: str, entries: dict) -> Table:
    from chip2chat.catalog import CATALOGS

    fields = _LIST_FIELDS[kind]
    t = Table(title=f"{kind.capitalize().replace('-', ' ')} (catalog/{CATALOGS[kind].source})")
    for col in ("id", *fields):
        t.add_column(col, overflow="fold")
    for key, entry in entries.items():
        t.add_row(key, *(_cell(_dig(entry, f)) for f in fields))
    return t


def _dig(entry, path: str):
    for part in path.split("."):
        entry = entry.get(part) if isinstance(entry, dict) else None
    return entry


def _cell(value) -> str:
    """A compact cell: a mapping as 'k v, k v', a list of options by name, at most 60 characters."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        text = ", ".join(f"{k} {v}" for k, v in value.items() if k not in ("sources", "notes"))
    elif isinstance(value, list):
        text = ", ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    else:
        text = str(value).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def catalog_entry_table(name: str, kind: str | None = None) -> Table:
    """Every field of the entry called `name` (id, display name or alias) with its sources: the
    first catalog that has it, or the catalog `kind`. The title names the other catalogs that
    have an entry of that name too (a design may share its name with an accelerator)."""
    from chip2chat.catalog import CATALOGS, catalog_kind, find_everywhere

    kinds = None if kind is None else [catalog_kind(kind)]
    found = find_everywhere(name, kinds)
    if not found:
        known = [key for k in kinds or CATALOGS for key in CATALOGS[k].entries()]
        raise NotFoundError("catalog entry", name, known)
    (first_kind, key, entry), others = found[0], found[1:]
    also = f" (also in {', '.join(k for k, _, _ in others)}: add --kind)" if others else ""
    t = Table(title=f"{CATALOGS[first_kind].title}: {key}{also}", show_header=False)
    t.add_column("field")
    t.add_column("value", overflow="fold")
    _flatten(t, "", entry)
    return t


def _flatten(t: Table, prefix: str, value) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(t, f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list):
        t.add_row(prefix, "\n".join(str(v) for v in value))
    else:
        t.add_row(prefix, str(value).strip())


def simulation_table(summary: dict) -> Table:
    """The summary in the order of vLLM's benchmark_serving report."""
    t = Table(title=f"Serving simulation: {summary['model']} on {summary['hardware']} "
                    f"(tp={summary['tp']}, {summary['num_replicas']} replica(s), calibration {summary['calibration']}) - "
                    f"{summary['workload']}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("Successful requests", f"{summary['completed']:,}")
    t.add_row("Rejected requests", f"{summary['rejected']:,}")
    t.add_row("Duration (s)", f"{summary['duration_s']:,.2f}")
    t.add_row("Total input / output tokens", f"{summary['total_input_tokens']:,} / {summary['total_output_tokens']:,}")
    t.add_row("Request throughput (req/s)", f"{summary['request_throughput']:,.2f}")
    if summary["offered_rate_per_s"] == summary["offered_rate_per_s"]:  # not NaN
        t.add_row("Offered / served rate (req/s)", f"{summary['offered_rate_per_s']:,.2f} / "
                                                   f"{summary['served_rate_per_s']:,.2f}"
                                                   + ("  OVERLOADED" if summary["overload"] else ""))
    t.add_row("Output token throughput (tok/s)", f"{summary['output_throughput']:,.1f}")
    t.add_row("Total token throughput (tok/s)", f"{summary['total_token_throughput']:,.1f}")
    if summary["slo_ttft_ms"] is not None or summary["slo_tpot_ms"] is not None:
        t.add_row("Request goodput (req/s)", f"{summary['request_goodput']:,.2f} "
                                             f"({summary['goodput_fraction']:.1%} within SLO)")
    for name, label in (("ttft", "TTFT"), ("tpot", "TPOT"), ("itl", "ITL"), ("e2el", "E2E latency")):
        t.add_row(f"{label} mean / median / p90 / p99 (ms)",
                  " / ".join(f"{summary[f'{k}_{name}_ms']:,.1f}" for k in ("mean", "median", "p90", "p99")))
    t.add_row("Preemptions", f"{summary['preemptions']:,}")
    t.add_row("Mean KV-cache use", f"{summary['mean_kv_utilization']:.1%}")
    if summary["prefix_cache_hit_tokens"]:
        t.add_row("Prefix-cache hit tokens", f"{summary['prefix_cache_hit_tokens']:,}")
    t.add_row("Energy per output token (J)", f"{summary['energy_per_output_token_j']:.3f}")
    return t


def validation_tables(df, summary: dict, rows: bool = True) -> list[Table]:
    """Per-row predicted vs measured (unless `rows` is False), then the error summaries; skipped rows
    with their reason (with `rows` False, one line per reason with its count)."""
    tables = []
    if rows:
        t = Table(title="Validation: predicted vs measured (error = predicted / measured - 1)")
        for col in ("source", "model", "gpu", "tp x pp", "prec", "ISL/OSL", "load", "metric", "measured",
                    "predicted", "error"):
            t.add_column(col, justify="right" if col in ("measured", "predicted", "error") else "left")
        for r in df.itertuples():
            load = "max" if r.offered_qps == float("inf") else f"{r.offered_qps:g} qps"
            err = f"{r.error_pct:+.1f}%" if r.status == "ok" else f"skipped: {r.reason}"
            t.add_row(r.source, r.model, r.gpu, f"{r.tp}x{r.pp}", r.precision, f"{r.isl}/{r.osl}", load, r.metric,
                      f"{r.measured:,.1f}", f"{r.predicted:,.1f}" if r.status == "ok" else "-", err)
        tables.append(t)
    def row(t: Table, name: str, st: dict) -> None:
        t.add_row(name, str(st["n"]), f"{st['median_abs_error_pct']:.1f}%", f"{st['p90_abs_error_pct']:.1f}%",
                  f"{st['mean_signed_error_pct']:+.1f}%")

    for title, key, total in (("by metric", "per_metric", "overall"),
                              ("maximum throughput by architecture", "max_throughput_per_architecture", "max_throughput"),
                              ("maximum throughput by hardware", "max_throughput_per_hardware", None),
                              ("throughput by hardware (all rows)", "throughput_per_hardware", None),
                              ("by source", "per_source", None), ("by source and metric", "per_source_metric", None),
                              ("of the throughput within an SLO (validate/run.py SLOS), by source",
                               "throughput_within_slo", None), ("by engine", "per_engine", None)):
        if not summary.get(key):
            continue
        t = Table(title=f"Absolute error {title}")
        for col in ("group", "n", "median", "p90", "mean signed"):
            t.add_column(col, justify="left" if col == "group" else "right")
        for name, st in summary[key].items():
            row(t, name, st)
        if total and summary.get(total, {}).get("n"):
            row(t, "all", summary[total])
        tables.append(t)
    if summary["skipped"]:
        skipped = df[df["status"] == "skipped"]
        t = Table(title=f"Skipped rows: {summary['skipped']}")
        if rows:
            t.add_column("file:line")
            t.add_column("reason")
            for r in skipped.itertuples():
                t.add_row(f"{r.file}:{r.line}", r.reason)
        else:  # a summary: one line per reason, with its first row
            t.add_column("reason")
            t.add_column("rows", justify="right")
            t.add_column("first file:line")
            for reason, group in skipped.groupby("reason", sort=False):
                first = group.iloc[0]
                t.add_row(reason, str(len(group)), f"{first['file']}:{first['line']}")
        tables.append(t)
    return tables


def known_chips_table(rows: list[dict]) -> Table:
    t = Table(title="Silicon model on real chips (derived vs published; within 15% of die area and within TDP)")
    for col in ("chip", "modelled die area", "published", "error", "full-load power", "TDP", "verdict"):
        t.add_column(col, justify="left" if col in ("chip", "verdict") else "right")
    for r in rows:
        def mm2(v):
            return "-" if v is None else f"{v:,.0f} mm2"
        t.add_row(r["chip"], mm2(r.get("modelled_die_area_mm2")), mm2(r.get("published_die_area_mm2")),
                  "-" if r.get("area_error_pct") is None else f"{r['area_error_pct']:+.1f}%",
                  "-" if r.get("full_load_power_w") is None else f"{r['full_load_power_w']:.0f} W",
                  f"{r['published_tdp_w']:.0f} W", r["verdict"])
    return t


def chip_tables(report, serving: list[dict]) -> list[Table]:
    a = Table(title=f"{report.name}: silicon ({report.process_node}, {report.compute_dies} compute die(s), "
                    f"{report.package})", show_header=False)
    a.add_column("item")
    a.add_column("value", justify="right")
    area = ", ".join(f"{k} {v / 1e-6:,.0f}" for k, v in report.area_m2.items() if v)
    for item, value in (
        ("die area (one compute die)", f"{report.die_area_m2 / 1e-6:,.0f} mm2  ({area})"),
        ("dies per wafer / yield", f"{report.dies_per_wafer:,.0f} / {report.die_yield:.1%}"),
        ("HBM", f"{report.hbm_capacity_bytes / 2**30:,.0f} GiB, {report.hbm_bandwidth_bytes_per_s / 1e12:.2f} TB/s "
                f"({report.hbm_sites} sites on the die edges)"),
        ("unit cost", f"${report.unit_cost_usd:,.0f} = dies ${report.compute_dies * report.die_cost_usd:,.0f} + HBM "
                      f"${report.hbm_cost_usd:,.0f} + package ${report.package_cost_usd:,.0f} + test "
                      f"${report.test_cost_usd:,.0f}"),
        ("power at full load", f"{report.full_load_power_w:,.0f} W = compute {report.compute_power_w:,.0f} + HBM "
                               f"{report.hbm_power_w:,.0f} + static {report.static_power_w:,.0f} (TDP "
                               f"{report.tdp_w:,.0f} W; sustains {report.sustained_compute_fraction:.0%} of peak)"),
    ):
        a.add_row(item, value)
    b = Table(title="Serving next to catalog chips (static batch; simulated workload percentiles)")
    for col in ("chip", "calibration", "unit cost", "tokens/s/chip", "tokens/J", "$/Mtok", "TPOT", "TTFT p50/p99",
                "TPOT p50/p99"):
        b.add_column(col, justify="left" if col in ("chip", "calibration") else "right")
    for r in serving:
        if "error" in r:
            b.add_row(r["chip"], r["calibration"], "-", r["error"], "", "", "", "", "")
            continue
        cost = "n/a" if r["unit_cost_usd"] is None else f"${r['unit_cost_usd']:,.0f}"
        b.add_row(r["chip"], r["calibration"], cost, f"{r['tokens_per_s_per_chip']:,.0f}",
                  "-" if r["tokens_per_joule"] is None else f"{r['tokens_per_joule']:.2f}",
                  "n/a" if r["usd_per_mtok"] is None else f"{r['usd_per_mtok']:.4f}", f"{r['tpot_ms']:.1f} ms",
                  f"{r['median_ttft_ms']:.0f} / {r['p99_ttft_ms']:.0f} ms",
                  f"{r['median_tpot_ms']:.1f} / {r['p99_tpot_ms']:.1f} ms")
    return [a, b]


def sweep_table(spec, frame, out_dir: str) -> Table:
    errors = int(frame["error"].notna().sum())
    t = Table(title=f"Sweep {spec.name}: {len(frame):,} points, {errors:,} infeasible; store {out_dir}/results.duckdb "
                    f"(and results.csv{', pareto.png' if len(spec.objectives) >= 2 else ''})")
    if "pareto" not in frame or not frame["pareto"].any():
        t.add_column("no Pareto front (no objectives, or no feasible point)")
        return t
    front = frame[frame["pareto"]].sort_values(list(spec.objectives)[0])
    varied = [c for c in list(spec.grid) + list(spec.random.params if spec.random else []) if c in frame]
    for col in varied + list(spec.objectives):
        t.add_column(col, justify="right")
    for _, row in front.head(15).iterrows():
        t.add_row(*[f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in varied + list(spec.objectives)])
    return t


def _plan_cell(r) -> str:
    """One option in one year: chips, MW and $/Mtok, or why it cannot be had."""
    if r["chips"] != r["chips"]:  # NaN: the model does not fit the chip
        return "does not fit the chip"
    if not r.get("deployable", True):
        why = "no TDP" if "no published TDP" in str(r["note"]) else "servers exceed the rack power"
        return f"{int(r['chips']):,} chips, {why}"
    mark = "" if r["meets_slo"] else " (misses SLO)"
    return f"{int(r['chips']):,} chips, {r['facility_mw']:,.1f} MW, ${r['usd_per_mtok']:.3f}/Mtok out{mark}"


def plan_table(result) -> Table:
    """Per year: the cheapest option meeting the SLO, and every option's chips, MW and $/Mtok."""
    t = Table(title=f"{result.name}: p99 SLO TTFT {result.slo.ttft_ms:g} ms / TPOT {result.slo.tpot_ms:g} ms",
              caption="$/Mtok out: cost per million output tokens (chips, servers, network, facility, "
                      "electricity, operations, NRE)")
    df = result.table
    t.add_column("year")
    for option in df["option"].unique():
        t.add_column(option, justify="right")
    t.add_column("cheapest meeting the SLO")
    for year, group in df.groupby("year"):
        cells = []
        for option in df["option"].unique():
            r = group[group["option"] == option].iloc[0]
            cells.append(_plan_cell(r))
        best = group[group["cheapest"]]
        cells.append(best["option"].iloc[0] if len(best) else "none")
        t.add_row(str(year), *cells)
    return t


def break_even_rich(result) -> Table | None:
    """Per custom design and GPU: the break-even fleet and year (or never within the plan) and why."""
    be = getattr(result, "break_even", None)
    if be is None or not len(be):
        return None
    t = Table(title="Does the custom chip pay off? (NRE included)")
    for col in ("site", "custom", "against", "break-even chips", "year", "why"):
        t.add_column(col, justify="right" if col == "break-even chips" else "left")
    for _, r in be.iterrows():
        chips = r.get("break_even_chips")
        t.add_row(str(r.get("site", "")), str(r["custom"]), str(r["gpu"]),
                  "never" if chips != chips else f"{chips:,.0f}", str(r["break_even_year"]), str(r["why"]))
    return t


def voice_table(df, spec) -> Table:
    """One row per configuration and network; one that cannot run says so (status 'does not fit',
    the bytes it needs in the note) instead of times. A stage time marked * is a published
    measurement of the model where it runs (above the roofline); the others are the roofline."""
    t = Table(title=f"Time to first audio on {spec.device}: {spec.utterance_seconds:g} s utterance, "
                    f"{spec.response_tokens} tokens answered, cloud {spec.cloud.model} on {spec.cloud.hardware}"
                    f" (* = published measurement)")
    stages = [c for c in df.columns if c.endswith("_ms") and c not in ("p50_ms", "p90_ms", "p99_ms")]
    numeric = ("p50", "p90", "p99", "device J/turn", "battery/day")
    for col in ("configuration", "network", "status", "p50", "p90", "p99", "stages (median ms)", "device J/turn",
                "battery/day", "cloud tokens in/out", "note"):
        t.add_column(col, justify="right" if col in numeric else "left")
    for r in df.itertuples():
        if not r.fits:
            t.add_row(r.configuration, r.network, r.status, "-", "-", "-", "-", "-", "-", "-", r.note)
            continue
        measured = set(filter(None, (x.strip() for x in r.measured_stages.split(","))))
        parts = ", ".join(f"{s.removesuffix('_ms')} {getattr(r, s):.0f}{'*' if s.removesuffix('_ms') in measured else ''}"
                          for s in stages if getattr(r, s) > 0)
        battery = "-" if r.battery_share_per_day != r.battery_share_per_day else f"{r.battery_share_per_day:.2%}"
        t.add_row(r.configuration, r.network, r.status, f"{r.p50_ms:.0f} ms", f"{r.p90_ms:.0f} ms",
                  f"{r.p99_ms:.0f} ms", parts, f"{r.device_energy_j:.2f}", battery,
                  f"{r.cloud_input_tokens:.0f} / {r.cloud_output_tokens:.0f}", r.note)
    return t
