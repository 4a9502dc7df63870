"""One self-contained `report.html` for a capacity plan: plotly.js inline, no network at view time.

`write_report(plan, path)` reads these attributes of `plan`: name, description, slo (p99 TTFT and
TPOT), table (one row per option and year), latency (samples per option) and voice
(optional time-to-first-audio table). plotly.js is embedded once, in the first figure; every
figure has a fixed div id, so the same plan always gives the same bytes.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio

from chip2chat.report import figures, money_figures
from chip2chat.report.configure_section import configure_section
from chip2chat.report.power_section import power_section
from chip2chat.report.topline import assumptions_html, break_even_html, topline_html, verdicts_html

# Section ids, in page order; each section holds one figure whose div id is "fig-<section id>".
SECTIONS = ("cumulative", "fleet", "power", "cost", "latency", "energy")
VOICE_SECTION = "voice"
BREAK_EVEN_SECTIONS = ("breakeven", "tornado")
"""Drawn where the plan has a custom design and a GPU to compare (PlanResult.break_even, .tornado)."""
# The modebar's logo links to plotly.com; a report meant to be read offline has no outside links.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _money_m(v: float) -> str:
    return f"{v / 1e6:,.2f}"


# (column, header, formatter) for the plan table; the exact value also goes in the cell's data-value.
TABLE_COLUMNS = (
    ("option", "option", str),
    ("year", "year", lambda v: f"{int(v)}"),
    ("meets_slo", "meets SLO", lambda v: "yes" if bool(v) else "no"),
    ("deployable", "fits the site", lambda v: "yes" if bool(v) else "no"),
    ("cheapest", "cheapest", lambda v: "★" if bool(v) else ""),
    ("p99_ttft_ms", "p99 TTFT ms", lambda v: f"{v:,.1f}"),
    ("p99_tpot_ms", "p99 TPOT ms", lambda v: f"{v:,.1f}"),
    ("daily_users", "daily users M", lambda v: f"{v / 1e6:,.1f}"),
    ("peak_request_rate", "peak req/s", lambda v: f"{v:,.1f}"),
    ("replicas", "replicas", lambda v: f"{int(v):,}"),
    ("chips", "chips", lambda v: f"{int(v):,}"),
    ("racks", "racks", lambda v: f"{int(v):,}"),
    ("it_mw", "IT MW", lambda v: f"{v:,.2f}"),
    ("facility_mw", "facility MW", lambda v: f"{v:,.2f}"),
    ("annual_mwh", "MWh/yr", lambda v: f"{v:,.0f}"),
    ("tco2", "tCO₂/yr", lambda v: f"{v:,.0f}"),
    ("j_per_token", "J/token", lambda v: f"{v:,.3f}"),
    ("note", "note", str),
)
# The money by option and year, a second table so that every column fits the page.
COST_TABLE_COLUMNS = (
    ("option", "option", str),
    ("year", "year", lambda v: f"{int(v)}"),
    ("chip", "chip", str),
    ("calibration", "calibration", str),
    ("unit_price_usd", "unit price $", lambda v: f"{v:,.0f}"),
    ("price_kind", "price kind", str),
    ("chip_capex_usd", "chips $M/yr", _money_m),
    ("server_capex_usd", "servers $M/yr", _money_m),
    ("network_capex_usd", "network $M/yr", _money_m),
    ("facility_capex_usd", "facility $M/yr", _money_m),
    ("electricity_usd", "electricity $M/yr", _money_m),
    ("operations_usd", "operations $M/yr", _money_m),
    ("nre_usd", "NRE $M/yr", _money_m),
    ("total_cost_usd", "total $M/yr", _money_m),
    ("usd_per_mtok", "$/Mtok output", lambda v: f"{v:,.3f}"),
    ("usd_per_mtok_all_tokens", "$/Mtok in+out", lambda v: f"{v:,.3f}"),
)

TEXT_COLUMNS = ("option", "chip", "calibration", "note", "price_kind")

FIGURE_TEXT = {
    "cumulative": ("Cumulative cost", "Each option's yearly cost summed over the plan's years (chips, servers, "
                                      "network, facility, electricity, operations and a custom chip's NRE)."),
    "breakeven": ("Does the custom chip pay off?", "Yearly cost against the custom design's fleet: the custom "
                  "design (its NRE's yearly share plus its cost per chip) and each GPU serving the same demand. "
                  "Where the lines cross (×) is the break-even fleet; dots are the plan's years."),
    "tornado": ("What moves the answer", "The custom design's cumulative saving against the cheapest GPU over the "
                "plan, one lever at a time from its low to its high value (the table's ranges)."),
    "fleet": ("Fleet size", "Accelerator chips needed each year, per option. Faint bars miss the SLO."),
    "power": ("Power", "Facility power (IT load × PUE) each year, per option. Dotted lines never meet the SLO."),
    "cost": ("Cost breakdown", "Yearly cost of each option in the last year of the plan, by where the money goes."),
    "latency": ("Latency vs SLO", "Simulated TTFT and TPOT at the sizing point: the box spans p50 to p99 with a "
                                  "line at p90 (no whisker above p99); the dashed line is the p99 SLO."),
    "energy": ("Energy per token", "Joules per generated token each year, per option. "
                                   "Dotted lines never meet the SLO."),
    "voice": ("Voice: time to first audio", "Per configuration and network, stacked by pipeline stage."),
}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933;
       margin: 0 auto; padding: 16px 24px 64px; max-width: 1400px; line-height: 1.4; }
h1 { margin: 0 0 2px; font-size: 1.6em; } h2 { margin-top: 40px; border-bottom: 1px solid #d9e2ec; padding-bottom: 4px; }
.description { color: #52606d; margin-top: 0; }
.caption { color: #52606d; margin: 4px 0 8px; font-size: 0.92em; }
.summary { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; margin: 16px 0; }
.summary dt { font-weight: 600; } .summary dd { margin: 0; } .summary ul { margin: 0; padding-left: 1.2em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 5px; border-bottom: 1px solid #e4e7eb; text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
#topline { font-size: 0.92em; margin-top: 8px; } #plan-table, #cost-table { font-size: 0.78em; }
#plan-table td, #plan-table th, #cost-table td, #cost-table th { padding: 3px 4px; } #topline th { text-align: center; }
#verdicts { margin: 4px 0; padding-left: 1.2em; }
td.source { white-space: normal; text-align: left; font-size: 0.9em; color: #52606d; max-width: 60em; }
td.note-plain { white-space: normal; text-align: left; }
th { background: #f5f7fa; position: sticky; top: 0; }
td.text, th.text { text-align: left; } td.note { white-space: normal; min-width: 12em; color: #9b2c2c; }
tr.meets td.meets_slo { background: #e3f9e5; color: #05400a; }
tr.misses td.meets_slo { background: #ffe3e3; color: #8a1c1c; }
tr.cheapest { background: #fff8d6; font-weight: 600; }
tr.misses { color: #7b8794; }
.missing { color: #9b2c2c; }
"""


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def _cell(column: str, value, fmt) -> str:
    text_column = column in TEXT_COLUMNS
    css = " ".join(c for c in (column, "text" if text_column else "") if c)
    if _is_missing(value):
        return f'<td class="{css}" data-value="">—</td>'
    raw = value if text_column else (value.item() if hasattr(value, "item") else value)
    return f'<td class="{css}" data-value="{escape(str(raw))}">{escape(fmt(value))}</td>'


def table_html(table: pd.DataFrame, columns=TABLE_COLUMNS, table_id: str = "plan-table") -> str:
    """A plan table (`columns` of it), grouped by option (in the plan's order) and sorted by year
    within each; a column the plan lacks shows as missing."""
    options = figures.options_in_order(table)
    order = {o: i for i, o in enumerate(options)}
    rows = table.assign(_order=table["option"].map(order)).sort_values(["_order", "year"], kind="stable")
    head = "".join(f'<th class="{c}{" text" if c in TEXT_COLUMNS else ""}">{escape(h)}</th>'
                   for c, h, _ in columns)
    body = []
    for _, row in rows.iterrows():
        classes = ["meets" if bool(row["meets_slo"]) else "misses"] + (["cheapest"] if bool(row["cheapest"]) else [])
        cells = "".join(_cell(c, row.get(c), fmt) for c, _, fmt in columns)
        body.append(f'<tr class="{" ".join(classes)}" data-option="{escape(str(row["option"]))}" '
                    f'data-year="{int(row["year"])}">{cells}</tr>')
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def voice_table_html(voice: pd.DataFrame) -> str:
    columns = list(voice.columns)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_voice_cell(v))}</td>" if not _is_missing(v) else "<td>—</td>"
                         for v in row) + "</tr>"
        for row in voice[columns].itertuples(index=False))
    return f'<div class="scroll"><table id="voice-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _voice_cell(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    return f"{v:,.0f}"


def cheapest_by_year(table: pd.DataFrame) -> dict[int, str | None]:
    """The cheapest option meeting the SLO in each year, or None where no option meets it."""
    out: dict[int, str | None] = {}
    for year in sorted(int(y) for y in pd.unique(table["year"])):
        picks = table[(table["year"] == year) & table["cheapest"].astype(bool)]["option"]
        out[year] = str(picks.iloc[0]) if len(picks) else None
    return out


def never_meeting(table: pd.DataFrame) -> dict[str, str]:
    """Options that are eligible in no year (they miss the SLO, do not fit the chip's memory, or
    cannot be deployed at the site), with their notes."""
    out = {}
    for option in figures.options_in_order(table):
        rows = table[table["option"] == option]
        eligible = rows["meets_slo"].astype(bool) & rows.get("deployable", True)
        if not eligible.any():
            notes = [str(n) for n in rows["note"] if not _is_missing(n) and str(n)]
            out[option] = notes[0] if notes else ""
    return out


def header_html(plan) -> str:
    cheapest = cheapest_by_year(plan.table)
    failing = never_meeting(plan.table)
    failing_html = ("" if not failing else '<dt>options that never meet the SLO or do not fit the site</dt><dd><ul id="never-meet">' + "".join(
        f"<li><strong>{escape(o)}</strong>" + (f": {escape(n)}" if n else "") + "</li>" for o, n in failing.items())
        + "</ul></dd>")
    per_year = "".join(f"<li>{span}: " + (f"<strong>{escape(o)}</strong>" if o else
                                          '<span class="missing">no option meets the SLO</span>') + "</li>"
                       for span, o in _runs(cheapest))
    money = topline_html(plan.table) if "total_cost_usd" in plan.table else ""
    return (f"<header><h1>{escape(plan.name)}</h1><p class=\"description\">{escape(plan.description)}</p>"
            f"{money}{verdicts_html(getattr(plan, 'break_even', None))}"
            f'<dl class="summary"><dt>p99 SLO</dt><dd>TTFT {plan.slo.ttft_ms:g} ms · TPOT {plan.slo.tpot_ms:g} ms</dd>'
            f'<dt>cheapest option meeting the SLO</dt><dd><ul id="cheapest">{per_year}</ul></dd>{failing_html}</dl></header>')


def _runs(by_year: dict) -> list[tuple[str, str | None]]:
    """Consecutive years with the same pick as one span ('2025–2030'), in year order."""
    runs: list[list] = []
    for year, pick in by_year.items():
        if runs and runs[-1][2] == pick and runs[-1][1] == year - 1:
            runs[-1][1] = year
        else:
            runs.append([year, year, pick])
    return [(f"{a}" if a == b else f"{a}–{b}", pick) for a, b, pick in runs]


def _figure_section(section: str, fig, first: bool, extra: str = "") -> str:
    title, caption = FIGURE_TEXT[section]
    div = pio.to_html(fig, include_plotlyjs=first, full_html=False, div_id=f"fig-{section}",
                      config=PLOTLY_CONFIG, default_height="440px", default_width="100%")
    return (f'<section id="section-{section}"><h2>{escape(title)}</h2><p class="caption">{escape(caption)}</p>'
            f"{extra}{div}</section>")


def _latency_gaps(plan, options: list[str]) -> str:
    """A line naming options without latency samples, with their notes, so an empty box is explained."""
    notes = plan.table.drop_duplicates("option").set_index("option")["note"]
    gaps = [o for o in options if not any(plan.latency.get(o, {}).get(m) for m in ("ttft_ms", "tpot_ms"))]
    if not gaps:
        return ""
    items = "; ".join(f"{escape(o)}" + (f" ({escape(str(notes[o]))})" if str(notes.get(o, "") or "") else "")
                      for o in gaps)
    return f'<p class="caption missing">No latency samples for: {items}.</p>'


def render(plan) -> str:
    """The whole page as a string."""
    table = plan.table
    options = figures.options_in_order(table)
    built = {
        "cumulative": money_figures.cumulative_cost_figure(table),
        "fleet": figures.fleet_figure(table),
        "power": figures.power_figure(table),
        "cost": figures.cost_figure(table),
        "latency": figures.latency_figure(plan.latency, options, plan.slo.ttft_ms, plan.slo.tpot_ms),
        "energy": figures.energy_figure(table),
    }
    sections = [_figure_section(s, built[s], first=(i == 0),
                                extra=_latency_gaps(plan, options) if s == "latency" else "")
                for i, s in enumerate(SECTIONS)]
    sections[1:1] = _payoff_sections(plan)
    sections.append('<section id="section-table"><h2>Plan by option and year</h2>'
                    '<p class="caption">Green: meets the p99 SLOs. Highlighted row: cheapest option meeting '
                    "them that year. Options that cannot meet the SLO stay listed, with the reason.</p>"
                    f"{table_html(table)}<h3>Money by option and year</h3>"
                    f"{table_html(table, COST_TABLE_COLUMNS, 'cost-table')}</section>")
    sections.append(configure_section(plan))  # which serving configuration each option runs, and why
    voice = getattr(plan, "voice", None)
    if voice is not None and len(voice):
        sections.append(_figure_section(VOICE_SECTION, figures.voice_figure(voice), first=False,
                                        extra=voice_table_html(voice)))
    energy = getattr(plan, "energy", None)
    if energy is not None and len(energy.power):
        sections.append(power_section(energy))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(plan.name)} — capacity plan</title><style>{CSS}</style></head>"
            f"<body>{header_html(plan)}<main>{''.join(sections)}</main></body></html>\n")


def _payoff_sections(plan) -> list[str]:
    """Break-even and tornado (where the plan compares a custom design with GPUs) and the assumptions."""
    out = []
    be, tornado = getattr(plan, "break_even", None), getattr(plan, "tornado", None)
    if be is not None and "compared_year" in be and be["compared_year"].notna().any():
        out.append(_figure_section("breakeven", money_figures.break_even_figure(plan.table, be), first=False,
                                   extra=break_even_html(be)))
    if tornado is not None and len(tornado):
        ranges = "".join(f"<li><strong>{escape(r.lever)}</strong>: {escape(r.range)}</li>"
                         for r in tornado.itertuples())
        out.append(_figure_section("tornado", money_figures.tornado_figure(tornado), first=False,
                                   extra=f'<ul class="caption">{ranges}</ul>'))
    assumptions = getattr(plan, "assumptions", None)
    if assumptions:
        out.append('<section id="section-assumptions"><h2>Assumptions</h2>'
                   f"{assumptions_html(assumptions)}</section>")
    return out


def write_report(plan, path) -> Path:
    """Write the report for `plan` to `path` (a file name, or a directory to hold report.html)."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(plan), encoding="utf-8")
    return path
